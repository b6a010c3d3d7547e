"""Fine-tuning for any set of labels: data loading, training, calibration, report.

The loop is Hugging Face ``Trainer`` (see :mod:`framing.hf_loop`): length-grouped
batches, AdamW with its own head learning rate, linear warm-up/decay, BCE with
per-label positive weights (or focal loss), gradient accumulation, a checkpoint
per epoch that ``resume_from_checkpoint`` continues, early stopping and model
selection on validation positive-class F1, ``report_to`` integrations, a CSV log
and the caller's own callbacks. After training, a temperature per label and
thresholds per label (and per language where validation has >= 30 positives)
are fitted on validation; the test report is written beside the model.
"""
from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .metrics import best_threshold, fit_temperature, format_report, report
from .subtypes import fit_subtypes, subtype_targets

__all__ = ["TrainingArguments", "train", "evaluate", "load_split"]


@dataclass
class TrainingArguments:
    """Settings of one fine-tuning run (saved in the model's config under ``training``)."""

    labels: tuple[str, ...] = ("dehumanising", "delegitimising")
    text_field: str = "text"
    lang_field: str | None = "lang"
    base_model: str = "multilingual-e5-small"
    finetune: str = "lora"
    epochs: int = 4
    batch_size: int = 16
    learning_rate: float = 5e-4
    head_learning_rate: float = 2e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    max_train_length: int = 128
    patience: int = 2
    seed: int = 13
    lora_r: int = 8
    min_lang_positives: int = 30
    max_steps: int | None = None
    progress: bool = True
    loss: str = "bce"  # "bce" | "focal"
    focal_gamma: float = 2.0
    gradient_accumulation_steps: int = 1
    logging_steps: int = 50
    report_to: tuple[str, ...] = ()  # Trainer integrations, e.g. ("tensorboard",)
    checkpoint_dir: str | None = None  # Trainer output_dir; None: a temporary directory removed at the end
    resume_from_checkpoint: str | bool | None = None  # a checkpoint dir, or True for the latest in checkpoint_dir
    device: str | None = None  # None: what Trainer picks (a GPU if there is one); "cpu" forces the CPU
    callbacks: tuple[Any, ...] = ()  # transformers.TrainerCallback instances (not saved in the config)
    subtypes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # label -> sub-types (rows' "subtypes")
    # label -> sub-types fitted AFTER training on the frozen features (framing.subtype_head); leaves the labels as
    # they are, unlike ``subtypes`` (outputs trained jointly with the labels)
    subtype_head: dict[str, tuple[str, ...]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.loss not in ("bce", "focal"):
            raise ValueError(f"loss must be 'bce' or 'focal', got {self.loss!r}")
        if self.resume_from_checkpoint is True and not self.checkpoint_dir:
            raise ValueError("resume_from_checkpoint=True needs checkpoint_dir (where the checkpoints are)")
        if self.subtypes and self.subtype_head:
            raise ValueError("give sub-types either as jointly trained outputs (subtypes) or as a second-stage head "
                             "(subtype_head), not both")


def load_split(data: Any, split: str | None = None) -> list[dict[str, Any]]:
    """Rows from a list of dicts, a Dataset, a DatasetDict split, or a path (.jsonl, .csv, saved dataset)."""
    try:
        from datasets import Dataset, DatasetDict, load_from_disk
    except ImportError:  # pragma: no cover
        Dataset = DatasetDict = None  # type: ignore[assignment]
    if isinstance(data, (str, Path)):
        p = Path(data)
        if not p.exists():
            raise FileNotFoundError(f"training data {p} not found")
        if p.is_dir():
            data = load_from_disk(str(p))
        elif p.suffix == ".jsonl":
            with open(p, encoding="utf-8") as fh:
                return [json.loads(x) for x in fh if x.strip()]
        elif p.suffix in (".csv", ".tsv"):
            import csv

            with open(p, encoding="utf-8-sig", newline="") as fh:
                return list(csv.DictReader(fh, delimiter="\t" if p.suffix == ".tsv" else ","))
        else:
            raise ValueError(f"unsupported data file {p.name}: use .jsonl, .csv, .tsv or a saved dataset directory")
    if DatasetDict is not None and isinstance(data, DatasetDict):
        if split is None:
            raise ValueError(f"got a DatasetDict with splits {list(data)}; did you mean dataset['train']?")
        if split not in data:
            raise ValueError(f"the DatasetDict has no split {split!r}; it has {list(data)}")
        data = data[split]
    if Dataset is not None and isinstance(data, Dataset):
        return data.to_list()
    if isinstance(data, list):
        return data
    raise TypeError(f"cannot read training data of type {type(data).__name__}")


def _targets(rows: Sequence[dict[str, Any]], labels: Sequence[str]) -> list[dict[str, int]]:
    out = []
    for i, r in enumerate(rows):
        t = {}
        for lab in labels:
            if lab not in r:
                raise ValueError(f"row {i} has no label column {lab!r}; columns: {sorted(r)}")
            v = r[lab]
            if isinstance(v, str):
                v = v.strip().lower() in ("1", "true", "yes")
            t[lab] = int(bool(v))
        out.append(t)
    return out


def _texts(rows: Sequence[dict[str, Any]], field_: str) -> list[str]:
    out = []
    for i, r in enumerate(rows):
        if field_ not in r:
            raise ValueError(f"row {i} has no text column {field_!r}; columns: {sorted(r)}")
        if not isinstance(r[field_], str):
            raise TypeError(f"row {i}: {field_!r} is {type(r[field_]).__name__}, expected str")
        out.append(r[field_])
    return out


def _langs(rows: Sequence[dict[str, Any]], texts: Sequence[str], field_: str | None) -> list[str]:
    from .langid import detect_language

    return [str(r[field_]) if field_ and r.get(field_) else detect_language(t).lang for r, t in zip(rows, texts)]


def evaluate(det: Any, rows: Sequence[dict[str, Any]], text_field: str = "text",
             lang_field: str | None = "lang", batch_size: int = 32) -> dict[str, Any]:
    """Per-label x per-language report of a detector on labelled rows."""
    texts = _texts(rows, text_field)
    gold = _targets(rows, det.labels)
    langs = _langs(rows, texts, lang_field)
    dets = det.detect_many(texts, batch_size=batch_size, evidence=False)
    pred = [{lab: int(lab in d.labels) for lab in det.labels} for d in dets]
    return report(det.labels, gold, pred, langs)


def _seed(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _encode(det: Any, texts: Sequence[str], max_len: int) -> list[list[int]]:
    from .normalizer import normalize

    mc = det.model_config
    tok = det.tokenizer
    out = []
    for t in texts:
        ids = tok(mc.prefix + normalize(t, det.norm_config).text, truncation=True, max_length=max_len)["input_ids"]
        out.append(ids)
    return out


def train(train_data: Any, validation_data: Any, test_data: Any = None, args: TrainingArguments | None = None,
          out_dir: str | Path | None = None, backbone_dir: str | None = None) -> Any:
    """Fine-tune a detector for ``args.labels`` and calibrate it; save it to ``out_dir`` if given."""
    import shutil
    import tempfile

    from .detector import Detector
    from .hf_loop import run_trainer
    from .model import ModelConfig

    args = args or TrainingArguments()
    _seed(args.seed)
    tr_rows, va_rows = load_split(train_data, "train"), load_split(validation_data, "validation")
    te_rows = load_split(test_data, "test") if test_data is not None else []
    if not tr_rows or not va_rows:
        raise ValueError("training and validation data must not be empty")
    labels = tuple(args.labels)
    mc = ModelConfig(base_model=args.base_model, finetune=args.finetune, lora_r=args.lora_r,
                     lora_alpha=2 * args.lora_r)
    det = Detector.build(labels, mc, backbone_dir=backbone_dir, subtypes=args.subtypes)
    net = det.model
    tr_texts, va_texts = _texts(tr_rows, args.text_field), _texts(va_rows, args.text_field)
    outs = det.config.subtype_outputs
    y_tr = [[t[lab] for lab in labels] + s for t, s in
            zip(_targets(tr_rows, labels), subtype_targets(tr_rows, outs) if outs else [[]] * len(tr_rows))]
    va_y = [[t[lab] for lab in labels] for t in _targets(va_rows, labels)]
    enc = _encode(det, tr_texts, args.max_train_length)
    va_enc = _encode(det, va_texts, mc.max_length)
    pad = det.tokenizer.pad_token_id or 0
    ckpt = Path(args.checkpoint_dir) if args.checkpoint_dir else Path(tempfile.mkdtemp(prefix="framing-train-"))
    t0 = time.time()
    try:
        history = run_trainer(net, enc, y_tr, va_enc, va_y, args, pad, ckpt)
    finally:
        if not args.checkpoint_dir:
            shutil.rmtree(ckpt, ignore_errors=True)
    for h in history:
        print(f"epoch {h['epoch']}: validation positive-class F1 {h['val_f1']:.4f}", file=sys.stderr)
    net.eval()
    va_logits = calibrate(det, va_rows, args)
    train_info = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(args).items()
                  if k not in ("callbacks", "resume_from_checkpoint", "checkpoint_dir")}
    train_info["subtypes"] = {k: list(v) for k, v in args.subtypes.items()}
    train_info["subtype_head"] = {k: list(v) for k, v in args.subtype_head.items()}
    train_info.update(history=history, train_rows=len(tr_rows), validation_rows=len(va_rows),
                      train_seconds=round(time.time() - t0, 1))
    det.config.training = train_info
    if outs:
        te_logits = det.logits_many(_texts(te_rows, args.text_field))[0] if te_rows else []
        fit_subtypes(det, va_logits, va_rows, te_logits, te_rows, args.lang_field or "")
    if args.subtype_head:
        from .subtype_head import fit_subtype_head

        fit_subtype_head(det, tr_rows, va_rows, te_rows, args.subtype_head,
                         args.text_field, args.lang_field)
    if te_rows:
        rep = evaluate(det, te_rows, args.text_field, args.lang_field)
        det.config.metrics["test"] = rep
        print(format_report(rep, "test"), file=sys.stderr)
    if out_dir is not None:
        det.save_pretrained(out_dir)
        if te_rows:
            Path(out_dir, "test_report.json").write_text(json.dumps(det.config.metrics["test"], indent=2) + "\n")
            Path(out_dir, "test_report.md").write_text(format_report(det.config.metrics["test"], "test") + "\n")
    return det


def calibrate(det: Any, rows: Sequence[dict[str, Any]], args: TrainingArguments) -> list[Any]:
    """Temperature per label, then F1-optimal thresholds per label and per language on validation; returns the
    validation logits (raw, all outputs)."""
    import torch

    from .detector import threshold_group

    texts = _texts(rows, args.text_field)
    gold = _targets(rows, det.labels)
    langs = [threshold_group(lg) for lg in _langs(rows, texts, args.lang_field)]
    logits, _ = det.logits_many(texts)
    for j, lab in enumerate(det.labels):
        z = [float(lg[j]) for lg in logits]
        y = [g[lab] for g in gold]
        t = fit_temperature(z, y)
        det.config.temperature[lab] = round(t, 4)
        probs = [float(torch.sigmoid(torch.tensor(v / t))) for v in z]
        det.config.thresholds[lab] = round(best_threshold(probs, y), 4)
        for lang in sorted(set(langs)):
            idx = [i for i, lg in enumerate(langs) if lg == lang]
            if sum(y[i] for i in idx) >= args.min_lang_positives:
                det.config.lang_thresholds.setdefault(lab, {})[lang] = round(
                    best_threshold([probs[i] for i in idx], [y[i] for i in idx]), 4)
    return logits
