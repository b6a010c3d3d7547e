"""Export a detector as a standard ``transformers`` text classifier (LoRA merged, safetensors).

``framing export DIR`` writes a ``BertForSequenceClassification`` directory that

    transformers.pipeline("text-classification", model=DIR, top_k=None, function_to_apply="sigmoid")

runs unchanged, and whose sigmoid scores ARE framing's calibrated scores for a
text that fits one window: the temperature is folded into the classifier, framing's
mean pooling is one extra hand-built encoder layer (see :mod:`framing.seqcls` for
why and how it is exact), and the ``"query: "`` prefix sits in the tokenizer's
post-processor, so raw text goes in as it is. What stays outside the model:
framing's normaliser (OpenCC Traditional -> Simplified, Hong Kong characters,
de-obfuscation; docs/results.md measures what skipping it costs), windowing of texts
longer than ``max_length`` tokens (a plain pipeline truncates) and the thresholds,
which ``framing_export.json`` holds with everything else framing needs.

The export checks itself: the written directory is loaded back with plain
transformers and its logits must equal the detector's calibrated logits to
``atol`` on a few texts, else nothing is written. Writing is atomic (temp dir,
then rename).
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

__all__ = ["EXPORT_CONFIG", "CHECK_TEXTS", "export_detector", "merged_encoder", "export_logits", "export_model"]

EXPORT_CONFIG = "framing_export.json"
EXPORT_FORMAT_VERSION = 2
#: Texts the export is checked on (short, both scripts, English, mixed, emoji).
CHECK_TEXTS = (
    "these people are rats and must be cleaned out",
    "他们就是一群蟑螂，应该清除",
    "暴徒勾結外國勢力，搞顏色革命",
    "today the weather is nice 今天天气很好 😀",
    "a",
)


def merged_encoder(det: Any, copy_model: bool = True) -> Any:
    """The detector's encoder with LoRA folded into its weights (a plain ``PreTrainedModel``).

    ``copy_model`` deep-copies first so the detector keeps its adapters; pass False
    for a detector that is thrown away afterwards (saves one model's memory).
    """
    if det.quantize:
        raise ValueError("export the fp32 detector (load it without quantize='int8')")
    encoder = copy.deepcopy(det.model.encoder) if copy_model else det.model.encoder
    if hasattr(encoder, "to_transformers"):  # framing.encoder's plain-torch BERT
        encoder = encoder.to_transformers()
    if hasattr(encoder, "merge_and_unload"):
        encoder = encoder.merge_and_unload()
    encoder.eval()
    return encoder


def export_model(det: Any, encoder: Any) -> Any:
    """``BertForSequenceClassification`` whose logits are ``det``'s calibrated logits (see :mod:`framing.seqcls`)."""
    from .seqcls import sequence_classifier

    labels = list(det.labels)
    head = det.model.head
    n = len(labels)  # sub-type rows (if any) are not exported
    return sequence_classifier(encoder, head.weight[:n], head.bias[:n],
                               [det.config.temperature.get(lab, 1.0) for lab in labels], labels)


def export_logits(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 32) -> Any:
    """Logits of an exported model on ``texts`` (normalised, WITHOUT the prefix: the tokenizer adds it)."""
    import torch

    outs = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(list(texts[i:i + batch_size]), padding=True, truncation=True, return_tensors="pt")
            outs.append(model(**enc).logits.float())
    return torch.cat(outs) if outs else torch.zeros((0, model.config.num_labels))


def _meta(det: Any, source: str, max_diff: float, n_checked: int) -> dict[str, Any]:
    from ._version import __version__
    from .detector import threshold_group

    c, mc = det.config, det.model_config
    return {
        "format": "framing-export", "format_version": EXPORT_FORMAT_VERSION, "framing_version": __version__,
        "labels": list(det.labels),
        "architecture": None,  # filled in by the caller
        "pooling": "masked mean of the last framing layer, computed by one extra encoder layer (framing.seqcls)",
        "prefix": mc.prefix, "prefix_in_tokenizer": True, "max_length": mc.max_length, "normalize": c.normalize,
        "temperature": {lab: c.temperature.get(lab, 1.0) for lab in det.labels},
        "thresholds": {lab: c.thresholds.get(lab, 0.5) for lab in det.labels},
        "lang_thresholds": c.lang_thresholds,
        "threshold_groups": {lg: threshold_group(lg) for lg in ("en", "zh-Hans", "zh-Hant", "yue")},
        "source_model": source, "base_model": mc.base_model, "finetune": mc.finetune,
        "backbone_sha256": c.backbone_sha256,
        "parity_check": {"texts": n_checked, "max_abs_logit_diff": max_diff},
        "detector_config": c.to_dict(),  # everything framing needs to rebuild the Detector around the weights
    }


def _readme(meta: dict[str, Any]) -> str:
    labels = meta["labels"]
    return f"""---
library_name: transformers
pipeline_tag: text-classification
tags: [framing, propaganda, multi-label]
---
# framing detector, exported for plain transformers

Labels: {', '.join(f'`{x}`' for x in labels)} (multi-label: one sigmoid per label).
Exported by framing {meta['framing_version']} from `{meta['source_model']}` (base `{meta['base_model']}`,
fine-tuning `{meta['finetune']}`, LoRA merged). Weights are safetensors; no custom code.

## Use it

```python
from transformers import pipeline

clf = pipeline("text-classification", model="THIS_DIRECTORY", top_k=None, function_to_apply="sigmoid")
clf(["these people are rats"])   # [[{{"label": ..., "score": ...}}, ...]]
```

The scores are framing's calibrated scores (temperature folded into the classifier);
the `{meta['prefix']!r}` prefix the model was trained with is added by the tokenizer's
post-processor, so pass the text as it is. A label is on when its score reaches its
threshold: `{json.dumps(meta['thresholds'])}`; per-language thresholds override it
(all Chinese varieties use the group `zh`): `{json.dumps(meta['lang_thresholds'], ensure_ascii=False)}`.
Everything is in `framing_export.json`.

## How mean pooling fits a standard class

framing's network is encoder -> masked mean of the last hidden states -> linear head;
`BertForSequenceClassification` reads the first token through a tanh pooler. The export
appends one hand-built encoder layer (zero query/key weights, so attention averages every
real token) whose first-token output carries the head's logits, and sets the pooler and
classifier to pass them through; see `framing/seqcls.py`. It is exact to float rounding:
the layer is one more layer of compute, not a change of the model.

## What stays outside the model

1. framing's normaliser. For the scores above exactly, normalise first:
   `framing.normalizer.normalize(text, NormalizeConfig(**cfg["normalize"])).text` (NFKC, whitespace,
   Traditional -> Simplified with OpenCC, Hong Kong characters the vocabulary lacks, de-obfuscation).
   Raw Traditional Chinese still works, with scores that differ somewhat (docs/results.md measures it).
2. Long texts: at most {meta['max_length']} tokens; framing splits longer texts into overlapping
   windows and takes the max logit per label, a plain pipeline truncates (`truncation=True`).
3. A text that is empty after normalisation gets score 0 for every label in framing.

{_onnx_section(meta)}## Parity

At export time this directory was loaded back with plain transformers and its logits compared
with framing's calibrated logits on {meta['parity_check']['texts']} texts: max absolute difference
{meta['parity_check']['max_abs_logit_diff']:.2e}.

## Intended use and limits

Finds frames that a text uses or endorses; quoting a frame to condemn or report it is not the frame.
Scores are evidence for a human analyst, not verdicts about people.
"""


def _onnx_section(meta: dict[str, Any]) -> str:
    o = meta.get("onnx")
    if not o:
        return ""
    int8 = f" and `{o['int8_file']}` (dynamic int8 weights)" if o.get("int8_file") else ""
    return f"""## ONNX

`{o['file']}`{int8}: the whole network, inputs `input_ids` and `attention_mask` (int64,
[batch, sequence]), output `logits` [batch, {len(meta['labels'])}], already mean-pooled: apply the
temperature and thresholds above. Max |logit difference| from framing at export:
{o['max_abs_logit_diff']:.2e} on {o['texts']} texts. With framing installed,
`framing.onnx_model.OnnxDetector.from_export(path)` gives the usual `detect`/`detect_many`.

"""


def _check_target(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    if any(out.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{out} exists and is not empty; pass overwrite=True (--force) to replace it")
        if not (out / EXPORT_CONFIG).exists():
            raise FileExistsError(f"{out} is not a framing export (no {EXPORT_CONFIG}); refusing to replace it")


def export_detector(model: Any, out_dir: str | os.PathLike[str], *, overwrite: bool = False,
                    check_texts: Sequence[str] = CHECK_TEXTS, atol: float = 1e-4,
                    backbone_dir: str | None = None, onnx: bool = False) -> Path:
    """Write ``model`` (a :class:`~framing.detector.Detector` or its directory) as a plain transformers model.

    With ``onnx=True`` also ``model.onnx`` and ``model_int8.onnx`` (see :mod:`framing.onnx_model`).
    Raises ``ValueError`` if the written model's logits differ from the detector's by more
    than ``atol`` on ``check_texts``; nothing is written then. Check texts longer than one
    window are skipped (framing windows them, a plain model truncates them).
    """
    from safetensors.torch import save_file

    from .detector import Detector
    from .normalizer import normalize

    out = Path(out_dir)
    _check_target(out, overwrite)
    if isinstance(model, Detector):
        det, source, owned = model, "<in-memory Detector>", False
    else:
        det, source, owned = Detector.from_pretrained(model, backbone_dir=backbone_dir), str(model), True
    encoder = merged_encoder(det, copy_model=not owned)
    if owned:  # our own throw-away detector now runs on the merged encoder (no second copy)
        det.model.encoder = encoder
    seq = export_model(det, encoder)
    arch = type(seq).__name__
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        seq.save_pretrained(str(tmp))
        del seq
        _save_tokenizer(det, tmp)
        # the check: load back with plain transformers, compare with the detector's raw logits
        # texts that fit one window: longer ones are windowed by framing but truncated by a plain model
        texts = [t for t in check_texts if _fits_one_window(det, normalize(t, det.norm_config).text)]
        if check_texts and not texts:
            raise ValueError(f"none of the {len(check_texts)} check texts fits in one window of "
                             f"{det.model_config.max_length} tokens; pass shorter check_texts")
        max_diff = _parity(det, tmp, texts)
        if max_diff > atol:
            raise ValueError(f"exported logits differ from the detector's by {max_diff:.2e} > {atol:g}; not written")
        meta = _meta(det, source, max_diff, len(texts))
        meta["architecture"] = arch
        if onnx:
            from .onnx_model import export_onnx

            meta["onnx"] = export_onnx(det, tmp, check_texts=texts, atol=atol)
        (tmp / EXPORT_CONFIG).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (tmp / "README.md").write_text(_readme(meta), encoding="utf-8")
        _public_permissions(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _save_tokenizer(det: Any, path: Path) -> None:
    """The detector's tokenizer with the prefix in its post-processor, loaded verbatim from tokenizer.json."""
    from .seqcls import prefix_tokenizer

    tok = det.tokenizer.to_transformers() if hasattr(det.tokenizer, "to_transformers") else det.tokenizer
    tok = prefix_tokenizer(tok, det.model_config.prefix)
    tok.model_max_length = det.model_config.max_length
    tok.save_pretrained(str(path))
    cfg_path = path / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    # a model-specific class (BertTokenizer, XLMRobertaTokenizer) would rebuild the post-processor
    # and drop the prefix; the generic class loads tokenizer.json as written
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg["model_max_length"] = int(det.model_config.max_length)
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _fits_one_window(det: Any, text: str) -> bool:
    return bool(text) and len(det._windows(text)) == 1


def _public_permissions(path: Path) -> None:
    """mkdtemp makes 0700 directories; give the export the usual umask-based modes."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)
    for p in path.iterdir():
        if p.is_file():
            os.chmod(p, 0o666 & ~umask)


def _parity(det: Any, path: Path, texts: Sequence[str]) -> float:
    """Max |difference| between the detector's calibrated logits and the directory loaded back from disk."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from .normalizer import normalize

    if not texts:
        return 0.0
    model = AutoModelForSequenceClassification.from_pretrained(str(path), use_safetensors=True).eval()
    tok = AutoTokenizer.from_pretrained(str(path))
    got = export_logits(model, tok, [normalize(t, det.norm_config).text for t in texts])
    ref, _ = det.logits_many(list(texts))
    temp = torch.tensor([det.config.temperature.get(lab, 1.0) for lab in det.labels])
    return float((got - torch.stack(ref)[:, :len(det.labels)] / temp).abs().max())  # sub-type rows not exported
