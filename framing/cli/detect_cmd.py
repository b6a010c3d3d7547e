"""``framing detect``, ``framing train`` and ``framing evaluate``."""
from __future__ import annotations

import json
import sys

import click

from ._util import clean_errors, read_text_arg


def _load(model: str | None, int8: bool):  # type: ignore[no-untyped-def]
    from ..default import default_model_dir
    from ..detector import Detector

    return Detector.from_pretrained(model or default_model_dir(), quantize="int8" if int8 else None)


def _highlight(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for s, e in sorted(set(spans)):
        if s < pos:
            continue
        out += [text[pos:s], click.style(text[s:e], fg="red", bold=True)]
        pos = e
    out.append(text[pos:])
    return "".join(out)


@click.command("detect")
@click.argument("text", required=False)
@click.option("--model", "-m", type=click.Path(exists=True, file_okay=False), help="Model directory (default: the bundled one).")
@click.option("--json", "as_json", is_flag=True, help="Print the Detection as JSON.")
@click.option("--int8", is_flag=True, help="Dynamic int8 quantisation (faster on CPU).")
@clean_errors
def detect_cmd(text: str | None, model: str | None, as_json: bool, int8: bool) -> None:
    """Detect frames in TEXT (or standard input with '-')."""
    raw = read_text_arg(text)
    if text in (None, "-"):
        raw = raw.rstrip("\n")
    d = _load(model, int8).detect(raw)
    if as_json:
        click.echo(json.dumps(d.to_dict(), ensure_ascii=False))
        return
    click.echo(_highlight(d.text, [(e.start, e.end) for e in d.evidence]))
    click.echo(f"language: {d.language}")
    for lab, score in d.scores.items():
        mark = "*" if lab in d.labels else " "
        click.echo(f" {mark} {lab:<16} {score:.3f}")
    for e in d.evidence:
        click.echo(f"   {e.label}: [{e.start}:{e.end}] {e.surface!r} ({e.source})")


@click.command("train")
@click.option("--data", required=True, type=click.Path(exists=True), help="Saved DatasetDict dir, or a JSONL/CSV train file.")
@click.option("--validation", type=click.Path(exists=True), help="Validation file (when --data is a single file).")
@click.option("--test", type=click.Path(exists=True), help="Test file (when --data is a single file).")
@click.option("--text-field", default="text", show_default=True)
@click.option("--label-fields", default="dehumanising,delegitimising", show_default=True, help="Comma-separated label columns.")
@click.option("--lang-field", default="lang", show_default=True, help="Language column for per-language thresholds ('' to detect).")
@click.option("--base-model", default="multilingual-e5-small", show_default=True, help="Backbone spec or local directory.")
@click.option("--finetune", type=click.Choice(["lora", "full", "head"]), default="lora", show_default=True)
@click.option("--epochs", default=4, show_default=True)
@click.option("--batch-size", default=16, show_default=True)
@click.option("--lr", default=5e-4, show_default=True)
@click.option("--seed", default=13, show_default=True)
@click.option("--grad-accum", default=1, show_default=True, help="Gradient accumulation steps.")
@click.option("--loss", type=click.Choice(["bce", "focal"]), default="bce", show_default=True)
@click.option("--checkpoint-dir", type=click.Path(file_okay=False),
              help="Keep a checkpoint per epoch here (default: a temporary directory, removed at the end).")
@click.option("--resume", is_flag=True, help="Continue the latest checkpoint in --checkpoint-dir.")
@click.option("--report-to", default="", help="Comma-separated Trainer integrations, e.g. 'tensorboard'.")
@click.option("--subtype-head", multiple=True, metavar="LABEL:SUB,SUB",
              help="After training, fit sub-type outputs for LABEL on the frozen features from the rows' 'subtypes' "
                   "column (repeatable); shipped where test F1 >= 0.70.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output model directory.")
@clean_errors
def train_cmd(data: str, validation: str | None, test: str | None, text_field: str, label_fields: str,
              lang_field: str, base_model: str, finetune: str, epochs: int, batch_size: int, lr: float, seed: int,
              grad_accum: int, loss: str, checkpoint_dir: str | None, resume: bool, report_to: str,
              subtype_head: tuple[str, ...], out: str) -> None:
    """Fine-tune a detector for any labels and calibrate it on validation.

    The loop is Hugging Face Trainer: a checkpoint per epoch in --checkpoint-dir
    (with its log.csv), --resume to continue an interrupted run, early stopping
    on validation positive-class F1, the best epoch kept.
    """
    from pathlib import Path

    from ..trainer import TrainingArguments, train

    if resume and not checkpoint_dir:
        raise click.UsageError("--resume needs --checkpoint-dir (where the interrupted run kept its checkpoints)")
    labels = tuple(x.strip() for x in label_fields.split(",") if x.strip())
    heads: dict[str, tuple[str, ...]] = {}
    for spec in subtype_head:
        lab, sep, subs = spec.partition(":")
        if not sep or lab.strip() not in labels or not subs.strip():
            raise click.UsageError(f"--subtype-head {spec!r}: write LABEL:SUB,SUB with LABEL one of {', '.join(labels)}")
        heads[lab.strip()] = tuple(x.strip() for x in subs.split(",") if x.strip())
    args = TrainingArguments(labels=labels, text_field=text_field, lang_field=lang_field or None,
                             base_model=base_model, finetune=finetune, epochs=epochs, batch_size=batch_size,
                             learning_rate=lr, seed=seed, progress=sys.stderr.isatty(),
                             gradient_accumulation_steps=grad_accum, loss=loss, checkpoint_dir=checkpoint_dir,
                             resume_from_checkpoint=True if resume else None,
                             report_to=tuple(x.strip() for x in report_to.split(",") if x.strip()),
                             subtype_head=heads)
    if Path(data).is_dir():
        from datasets import load_from_disk

        dd = load_from_disk(data)
        tr, va, te = dd["train"], dd["validation"], dd["test"] if "test" in dd else None
    else:
        if not validation:
            raise click.UsageError("--validation is required when --data is a single file")
        tr, va, te = data, validation, test
    train(tr, va, te, args, out_dir=out)
    click.echo(f"saved to {out}", err=True)


@click.command("evaluate")
@click.argument("model", type=click.Path(exists=True, file_okay=False))
@click.option("--data", required=True, type=click.Path(exists=True), help="Saved DatasetDict dir or JSONL/CSV file.")
@click.option("--split", default="test", show_default=True)
@click.option("--text-field", default="text", show_default=True)
@click.option("--lang-field", default="lang", show_default=True)
@click.option("--int8", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@clean_errors
def evaluate_cmd(model: str, data: str, split: str, text_field: str, lang_field: str, int8: bool, as_json: bool) -> None:
    """Per-label x per-language report of MODEL on labelled data."""
    from ..metrics import format_report
    from ..trainer import evaluate, load_split

    det = _load(model, int8)
    rows = load_split(data, split)
    rep = evaluate(det, rows, text_field, lang_field or None)
    click.echo(json.dumps(rep, indent=2) if as_json else format_report(rep, f"{model} on {split}"))
