"""Export a detector as a plain ``transformers`` model directory (LoRA merged, safetensors).

Why token classification, not sequence classification: our network is encoder ->
MEAN of the last hidden states over the attention mask -> one linear layer.
``BertForSequenceClassification`` (and XLM-R's) classify from the [CLS] vector
through a pooler (``tanh(dense(h_cls))``); no setting turns that into a mean over
tokens, so no weights make it equal ours (the test checks that it differs). The
standard architectures with a masked-mean classifier (ModernBERT, EuroBERT,
UltraBERT) have different encoders. ``BertForTokenClassification`` however applies
our linear head to every token, and a linear map commutes with a mean:

    mean_t(W h_t + b) = W mean_t(h_t) + b

so the masked mean of its token logits IS our sequence logit, exactly (up to float
rounding). The export therefore writes:

- ``config.json`` + ``model.safetensors``: ``<Arch>ForTokenClassification`` (the
  backbone's own architecture, LoRA merged with peft ``merge_and_unload``), labels
  in ``id2label``/``label2id``, ``problem_type = "multi_label_classification"``;
  ``AutoModel`` loads the same file as a feature extractor (it reports the
  ``classifier.*`` keys as unexpected; harmless);
- ``classifier.safetensors``: the head alone (``weight``, ``bias``) for the
  feature-extraction route (mean-pool ``AutoModel`` states, then ``x @ W.T + b``);
- the tokenizer files, ``framing_export.json`` (prefix, window, normaliser,
  temperature, thresholds) and a ``README.md`` saying how to apply them.

The export checks itself: the written directory is loaded back with plain
transformers and its logits must equal the detector's to ``atol`` on a few texts,
else nothing is written. Writing is atomic (temp dir, then rename).
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

__all__ = ["EXPORT_CONFIG", "HEAD_NAME", "CHECK_TEXTS", "export_detector", "merged_encoder", "export_logits"]

EXPORT_CONFIG = "framing_export.json"
HEAD_NAME = "classifier.safetensors"
EXPORT_FORMAT_VERSION = 1
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


def _token_classifier(det: Any, encoder: Any) -> Any:
    """``AutoModelForTokenClassification`` holding the merged encoder and our head."""
    import torch
    from transformers import AutoModelForTokenClassification

    labels = list(det.labels)
    cfg = copy.deepcopy(encoder.config)
    cfg.num_labels = len(labels)
    cfg.id2label = dict(enumerate(labels))
    cfg.label2id = {lab: i for i, lab in enumerate(labels)}
    cfg.problem_type = "multi_label_classification"
    cfg.architectures = None
    model = AutoModelForTokenClassification.from_config(cfg)
    base = getattr(model, model.base_model_prefix)
    state = {k: v for k, v in encoder.state_dict().items() if not k.startswith("pooler.")}
    missing, unexpected = base.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"cannot map the encoder onto {type(model).__name__}: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}")
    head = det.model.head
    if not isinstance(getattr(model, "classifier", None), torch.nn.Linear):
        raise ValueError(f"{type(model).__name__} has no linear 'classifier'; cannot export this backbone")
    if model.classifier.weight.shape != head.weight.shape:
        raise ValueError(f"head shape {tuple(head.weight.shape)} != classifier {tuple(model.classifier.weight.shape)}")
    with torch.no_grad():
        model.classifier.weight.copy_(head.weight)
        model.classifier.bias.copy_(head.bias)
    return model.eval()


def export_logits(model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 32) -> Any:
    """Sequence logits of an exported model: masked mean of its token logits (plain transformers).

    ``texts`` must already be normalised and prefixed (see ``framing_export.json``).
    """
    import torch

    outs = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tokenizer(list(texts[i:i + batch_size]), padding=True, truncation=True, return_tensors="pt")
            mask = enc["attention_mask"].unsqueeze(-1).to(torch.float32)
            tok_logits = model(**enc).logits.float()
            outs.append((tok_logits * mask).sum(1) / mask.sum(1).clamp(min=1e-9))
    return torch.cat(outs) if outs else torch.zeros((0, model.config.num_labels))


def _meta(det: Any, source: str, max_diff: float, n_checked: int) -> dict[str, Any]:
    from ._version import __version__
    from .detector import threshold_group

    c, mc = det.config, det.model_config
    return {
        "format": "framing-export", "format_version": EXPORT_FORMAT_VERSION, "framing_version": __version__,
        "labels": list(det.labels),
        "architecture": None,  # filled in by the caller
        "pooling": "mean of the token logits over attention_mask (== linear head on mean-pooled states)",
        "prefix": mc.prefix, "max_length": mc.max_length, "normalize": c.normalize,
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

## The one thing to know: mean pooling

The model is encoder -> mean of the last hidden states over the attention mask ->
linear head. Standard `*ForSequenceClassification` classes pool the first token
through a tanh pooler instead, so **do not load this with
`AutoModelForSequenceClassification` or `pipeline("text-classification")`**: it
would silently use a random pooler. Load it as **`{meta['architecture']}`**; its
per-token logits are the head applied to each token, and their mean over the
attention mask is exactly the sequence logit (a linear map commutes with a mean).

## Inputs

1. Normalise the text as framing does (`framing.normalizer.normalize(text, NormalizeConfig(**cfg["normalize"])).text`:
   NFKC, whitespace, Traditional -> Simplified, Hong Kong characters, de-obfuscation).
   Without framing installed, raw text still works but scores can differ slightly.
2. Prepend the prefix `{meta['prefix']!r}`.
3. Tokenize with the bundled tokenizer, at most {meta['max_length']} tokens (framing splits longer
   texts into overlapping windows and takes the max logit per label; plain truncation keeps the start).
   A text that is empty after normalisation gets score 0 for every label in framing.

## Scores and labels

`score = sigmoid(logit / temperature[label])`; a label is on when `score >= threshold`.
Temperature: `{json.dumps(meta['temperature'])}`. Thresholds: `{json.dumps(meta['thresholds'])}`.
Per-language thresholds (override the label's threshold; all Chinese varieties use the group `zh`):
`{json.dumps(meta['lang_thresholds'], ensure_ascii=False)}`. All of this is in `framing_export.json`.

```python
import json, torch
from transformers import AutoModelForTokenClassification, AutoTokenizer

path = "THIS_DIRECTORY"
cfg = json.load(open(f"{{path}}/framing_export.json"))
tok = AutoTokenizer.from_pretrained(path)
model = AutoModelForTokenClassification.from_pretrained(path, use_safetensors=True).eval()
texts = [cfg["prefix"] + t for t in ["these people are rats"]]  # normalise first if you can
enc = tok(texts, padding=True, truncation=True, max_length=cfg["max_length"], return_tensors="pt")
with torch.inference_mode():
    token_logits = model(**enc).logits
mask = enc["attention_mask"].unsqueeze(-1).float()
logits = (token_logits * mask).sum(1) / mask.sum(1)          # one logit per label
labels = cfg["labels"]
temp = torch.tensor([cfg["temperature"][l] for l in labels])
thr = torch.tensor([cfg["thresholds"][l] for l in labels])
scores = torch.sigmoid(logits / temp)
on = scores >= thr
```

Feature-extraction route: `AutoModel.from_pretrained(path)` gives the encoder (it reports the
`classifier.*` weights as unused); mean-pool `last_hidden_state` over the attention mask and apply
`classifier.safetensors` (`weight` [{len(labels)}, hidden], `bias`): `logits = pooled @ weight.T + bias`.

{_onnx_section(meta)}## Parity

At export time this directory was loaded back with plain transformers and its logits compared
with framing's on {meta['parity_check']['texts']} texts: max absolute difference
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
    tc = _token_classifier(det, encoder)
    arch = type(tc).__name__
    del encoder
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tc.save_pretrained(str(tmp))
        tok = det.tokenizer.to_transformers() if hasattr(det.tokenizer, "to_transformers") \
            else copy.deepcopy(det.tokenizer)
        tok.model_max_length = det.model_config.max_length
        tok.save_pretrained(str(tmp))
        del tc
        head = det.model.head
        save_file({"weight": head.weight.detach().contiguous(), "bias": head.bias.detach().contiguous()},
                  str(tmp / HEAD_NAME), metadata={"format": "pt", "labels": json.dumps(list(det.labels))})
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
    """Max |logit difference| between the detector and the directory loaded back from disk."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from .normalizer import normalize

    if not texts:
        return 0.0
    model = AutoModelForTokenClassification.from_pretrained(str(path), use_safetensors=True).eval()
    tok = AutoTokenizer.from_pretrained(str(path))
    prefixed = [det.model_config.prefix + normalize(t, det.norm_config).text for t in texts]
    got = export_logits(model, tok, prefixed)
    ref, _ = det.logits_many(list(texts))
    return float((got - torch.stack(ref)).abs().max())
