"""``framing export``: write a detector as a plain transformers model directory (LoRA merged)."""
from __future__ import annotations

import click

from ._util import clean_errors


@click.command("export")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--model", "-m", type=click.Path(exists=True, file_okay=False),
              help="framing model directory (default: the bundled one).")
@click.option("--force", is_flag=True, help="Replace DIR if it holds an earlier export.")
@click.option("--onnx", is_flag=True, help="Also write model.onnx (the whole network: encoder, mean pooling, head) "
              "and model_int8.onnx (pip install 'framing[onnx]'); load them with framing.onnx_model.OnnxDetector.")
@click.option("--atol", default=1e-4, show_default=True, help="Largest logit difference the self-check accepts.")
@clean_errors
def export_cmd(out_dir: str, model: str | None, force: bool, onnx: bool, atol: float) -> None:
    """Export a detector to DIR for plain transformers (no framing needed to run it).

    Writes a standard sequence-classification model that
    transformers.pipeline("text-classification", model=DIR, top_k=None,
    function_to_apply="sigmoid") runs unchanged, with framing's calibrated
    scores; plus the tokenizer (it adds the prefix), the thresholds and
    normaliser settings (framing_export.json) and a README. The export is
    loaded back and checked against the detector before it is written.
    """
    import json
    from pathlib import Path

    from ..default import default_model_dir
    from ..detector import CONFIG_NAME
    from ..export import EXPORT_CONFIG, export_detector

    src = Path(model) if model else default_model_dir()
    if not model and not (src / CONFIG_NAME).exists():
        raise click.ClickException(f"no default model is bundled at {src}; pass --model DIR")
    out = export_detector(src, out_dir, overwrite=force, atol=atol, onnx=onnx)
    meta = json.loads((out / EXPORT_CONFIG).read_text(encoding="utf-8"))
    click.echo(f"exported {src} -> {out} ({meta['architecture']}, labels {', '.join(meta['labels'])}; "
               f"max |logit diff| {meta['parity_check']['max_abs_logit_diff']:.1e})")
    if onnx:
        click.echo(f"onnx: {meta['onnx']['file']}, {meta['onnx']['int8_file']} "
                   f"(max |logit diff| {meta['onnx']['max_abs_logit_diff']:.1e})")
