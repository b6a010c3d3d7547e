"""The Detector: normalise, tokenise in length-sorted batches, score, calibrate, explain.

A saved detector is a directory: ``framing_config.json`` (labels, thresholds per
label and per language, temperature, normaliser and model settings, base-model
spec, ``format_version``), ``model.safetensors`` (adapter + head, or all weights
for full fine-tuning) and a generated ``README.md`` model card. Weights are read
with safetensors only; pickle checkpoints are refused. Texts longer than the
model's window are split into overlapping windows whose scores are max-pooled.
Evidence spans always index the ORIGINAL text. Texts are scored on at most
``max_chars`` normalised characters (default :data:`DEFAULT_MAX_CHARS`), so one
huge text costs no more than a long one; such a result says ``truncated``.
"""
from __future__ import annotations

import json
import math
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from .detection import Detection, Evidence
from .normalizer import NormalizeConfig, normalize
from .offsets import Normalized
from .subtypes import name_subtypes, no_subtypes as _no_subtypes, subtype_scores

__all__ = ["Detection", "Evidence", "DetectorConfig", "Detector", "threshold_group", "normalize_bounded",
           "FORMAT_VERSION", "CONFIG_NAME", "WEIGHTS_NAME", "DEFAULT_MAX_CHARS"]

FORMAT_VERSION = 1
#: texts longer than this (after normalisation) are scored on their first DEFAULT_MAX_CHARS characters
DEFAULT_MAX_CHARS = 10_000
_MARGIN = 256  # normalised characters past the cut, so that the prefix normalises as the whole text would
CONFIG_NAME = "framing_config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass
class DetectorConfig:
    """Everything needed to rebuild a detector from its directory, saved as JSON."""

    labels: tuple[str, ...]
    model: dict[str, Any]
    normalize: dict[str, Any] = field(default_factory=lambda: NormalizeConfig().to_dict())
    thresholds: dict[str, float] = field(default_factory=dict)
    lang_thresholds: dict[str, dict[str, float]] = field(default_factory=dict)
    temperature: dict[str, float] = field(default_factory=dict)
    backbone_sha256: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    #: label -> sub-type outputs of the head (rows after the labels, in this order); trained, maybe not shipped
    subtypes: dict[str, list[str]] = field(default_factory=dict)
    subtype_thresholds: dict[str, float] = field(default_factory=dict)
    subtypes_shipped: list[str] = field(default_factory=list)  # reported in Detection.subtypes
    format_version: int = FORMAT_VERSION

    @property
    def subtype_outputs(self) -> list[tuple[str, str]]:
        """(label, sub-type) of each head row after the labels."""
        return [(lab, st) for lab in self.labels for st in self.subtypes.get(lab, ())]

    @property
    def n_outputs(self) -> int:
        return len(self.labels) + len(self.subtype_outputs)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["labels"] = list(self.labels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DetectorConfig":
        v = d.get("format_version")
        if v != FORMAT_VERSION:
            raise ValueError(f"unsupported framing model format_version {v!r} (this framing reads {FORMAT_VERSION})")
        d = dict(d)
        d["labels"] = tuple(d["labels"])
        return cls(**d)

    def threshold(self, label: str, lang: str) -> float:
        """Per-language threshold if calibrated, else the label's; see :func:`threshold_group`."""
        return self.lang_thresholds.get(label, {}).get(threshold_group(lang), self.thresholds.get(label, 0.5))


def threshold_group(lang: str) -> str:
    """Languages share thresholds by group: all Chinese varieties and scripts form one group ("zh").

    Calibrating Simplified and Traditional separately would let the same sentence in two
    scripts get different labels; the normaliser makes their scores equal, so they share thresholds.
    """
    if lang in ("zh-Hans", "zh-Hant", "yue", "zh"):
        return "zh"
    return lang


def normalize_bounded(text: str, config: NormalizeConfig, max_chars: int | None) -> tuple[Normalized, bool]:
    """``normalize(text)`` cut to its first ``max_chars`` characters (None or 0: no limit), and whether it was cut.

    Only a prefix of a long text is normalised (doubled until it yields enough characters), so the cost is
    bounded by ``max_chars``, not by the text. Offsets still index ``text``: the original of the result is
    a prefix of it.
    """
    if not max_chars or max_chars < 0:
        return normalize(text, config), False
    take = max_chars + _MARGIN
    while True:
        n = normalize(text[:take], config)
        if take >= len(text) or len(n.text) >= max_chars + _MARGIN // 2:
            break
        take *= 2  # the prefix shrank a lot in normalisation (white space, invisible characters)
    if len(n.text) <= max_chars:
        return n, take < len(text)
    index = n._index  # offsets of the kept characters, computed before the text is cut
    cut = Normalized(original=n.original, text=n.text[:max_chars], _layers=n._layers)
    cut.__dict__["_index"] = None if index is None else (index[0][:max_chars], index[1][:max_chars])
    return cut, True


def _check_texts(texts: Sequence[str]) -> None:
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str")


class Detector:
    """Multi-label frame detector. Thread-safe: ``detect_many`` may be called from several threads."""

    def __init__(self, model: Any, tokenizer: Any, config: DetectorConfig, quantize: str | None = None) -> None:
        from .model import ModelConfig

        self.config = config
        self.model_config = ModelConfig.from_dict(config.model)
        self.norm_config = NormalizeConfig.from_dict(config.normalize)
        self.tokenizer = tokenizer
        model.eval()
        if quantize == "int8":
            from .quantize import quantize_int8

            if hasattr(model.encoder, "merge_and_unload"):  # fold LoRA into the weights first
                model.encoder = model.encoder.merge_and_unload()
            model = quantize_int8(model)  # per-channel weights; feed-forward outputs stay fp32 (framing.quantize)
        elif quantize is not None:
            raise ValueError(f"quantize must be None or 'int8', got {quantize!r}")
        self.model = model
        self.quantize = quantize
        self._lock = threading.Lock()  # tokenizers' fast backend is shared; guard the calls

    @property
    def labels(self) -> tuple[str, ...]:
        return self.config.labels

    # ---- loading and saving -------------------------------------------------------------------------
    @classmethod
    def build(cls, labels: Sequence[str], model_config: Any = None, normalize_config: NormalizeConfig | None = None,
              backbone_dir: str | None = None, subtypes: dict[str, Sequence[str]] | None = None) -> "Detector":
        """A fresh, untrained detector on top of a backbone (for training); ``subtypes``: label -> sub-type outputs."""
        from .model import ModelConfig

        mc = model_config or ModelConfig()
        encoder, tokenizer, sha = _load_encoder(backbone_dir or mc.base_model)
        cfg = DetectorConfig(labels=tuple(labels), model=mc.to_dict(),
                             normalize=(normalize_config or NormalizeConfig()).to_dict(), backbone_sha256=sha,
                             subtypes={lab: list(v) for lab, v in (subtypes or {}).items() if v})
        unknown = set(cfg.subtypes) - set(cfg.labels)
        if unknown:
            raise ValueError(f"sub-types given for labels {sorted(unknown)} that are not in {list(labels)}")
        from .model import FrameClassifier

        net = FrameClassifier(encoder, encoder.config.hidden_size, cfg.n_outputs, mc)
        return cls(net, tokenizer, cfg)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike[str], *, quantize: str | None = None,
                        backbone_dir: str | None = None, allow_pickle: bool = False,
                        merge_adapters: bool = True) -> "Detector":
        """Load a saved detector directory (safetensors only).

        LoRA adapters are folded into the encoder's weights (``merge_adapters``):
        faster to load and to run, the same scores. Pass ``merge_adapters=False`` to
        keep them separate, e.g. to save the detector again.
        """
        from safetensors.torch import load_file

        from .model import FrameClassifier, ModelConfig

        path = Path(path)
        cfg_path = path / CONFIG_NAME
        if not cfg_path.exists():
            raise FileNotFoundError(f"{path} is not a framing model directory (no {CONFIG_NAME})")
        weights = path / WEIGHTS_NAME
        if not weights.exists():
            pickles = [p.name for p in path.glob("*.bin")] + [p.name for p in path.glob("*.pt")]
            if pickles and not allow_pickle:
                raise ValueError(f"{path} holds only pickle checkpoints {pickles}; framing loads safetensors only. "
                                 "Convert them, or pass allow_pickle=True if you trust the file.")
            raise FileNotFoundError(f"{weights} not found")
        cfg = DetectorConfig.from_dict(json.loads(cfg_path.read_text(encoding="utf-8")))
        mc = ModelConfig.from_dict(cfg.model)
        merged = merge_adapters and mc.finetune == "lora"
        # merged LoRA is inference only: plain-torch encoder, no transformers import (framing.encoder)
        encoder, tokenizer, _ = _load_encoder(backbone_dir or mc.base_model, fast=merged)
        net = FrameClassifier(encoder, encoder.config.hidden_size, cfg.n_outputs, mc, merged=merged)
        if merged:
            net.load_merged_lora(load_file(str(weights)))
        else:
            net.load_trainable_state_dict(load_file(str(weights)))
        return cls(net, tokenizer, cfg, quantize=quantize)

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        """Write config, weights and model card atomically (temp dir, then rename)."""
        import shutil
        import tempfile

        from safetensors.torch import save_file

        from .card import model_card

        if self.quantize:
            raise ValueError("save the fp32 detector, not a quantized one")
        if getattr(self.model, "merged", False):
            raise ValueError("this detector was loaded with its LoRA adapters merged into the encoder; load it with "
                             "Detector.from_pretrained(path, merge_adapters=False) to save it")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            save_file(self.model.trainable_state_dict(), str(tmp / WEIGHTS_NAME), metadata={"format": "pt"})
            (tmp / CONFIG_NAME).write_text(json.dumps(self.config.to_dict(), indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
            (tmp / "README.md").write_text(model_card(self.config), encoding="utf-8")
            if path.exists():
                shutil.rmtree(path)
            os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    # ---- inference -----------------------------------------------------------------------------------
    def logits_many(self, texts: Sequence[str], batch_size: int = 32,
                    max_chars: int | None = None) -> tuple[list[Any], list[Any]]:
        """Raw (uncalibrated) max-pooled logits per text, plus the normalised texts (cut to ``max_chars``)."""
        _check_texts(texts)
        norms = [normalize_bounded(t, self.norm_config, max_chars)[0] for t in texts]
        return self._logits(norms, batch_size), norms

    def _logits(self, norms: Sequence[Normalized], batch_size: int) -> list[Any]:
        import torch

        best = [torch.full((self.config.n_outputs,), -math.inf) for _ in norms]
        for i, out in self.window_outputs(norms, batch_size):
            best[i] = torch.maximum(best[i], out)
        return best

    def window_outputs(self, norms: Sequence[Normalized], batch_size: int = 32,
                       features: bool = False) -> Iterator[tuple[int, Any]]:
        """(text index, logits or pooled ``features``) per window; long texts are split with overlap."""
        import torch

        from .model import pad_batch

        windows: list[tuple[int, list[int]]] = []
        with self._lock:
            for i, n in enumerate(norms):
                windows.extend((i, ids) for ids in self._windows(n.text))
        order = sorted(range(len(windows)), key=lambda k: len(windows[k][1]))
        run = self.model.features if features else self.model
        with torch.inference_mode():
            for b in range(0, len(order), batch_size):
                chunk = [windows[k] for k in order[b:b + batch_size]]
                ids, mask = pad_batch([w for _, w in chunk], self.tokenizer.pad_token_id or 0)
                out = run(input_ids=ids, attention_mask=mask).float()
                for r, (i, _) in enumerate(chunk):
                    yield i, out[r]

    def _windows(self, text: str) -> list[list[int]]:
        mc = self.model_config
        tok = self.tokenizer
        ids = tok(mc.prefix + text, add_special_tokens=False, verbose=False)["input_ids"]
        room = mc.max_length - 2
        cls_id, sep_id = tok.cls_token_id, tok.sep_token_id
        if cls_id is None or sep_id is None:
            cls_id, sep_id = tok.bos_token_id, tok.eos_token_id
        if len(ids) <= room:
            return [[cls_id, *ids, sep_id]]
        stride = max(room // 4, 1)
        out = []
        for s in range(0, len(ids), room - stride):
            out.append([cls_id, *ids[s:s + room], sep_id])
            if s + room >= len(ids):
                break
        return out

    def scores_from_logits(self, logits: Any) -> dict[str, float]:
        import torch

        out = {}
        for j, lab in enumerate(self.labels):
            t = self.config.temperature.get(lab, 1.0)
            out[lab] = round(float(torch.sigmoid(logits[j] / t)), 6)
        return out

    def detect_many(self, texts: Iterable[str], batch_size: int = 32, evidence: bool = True,
                    max_chars: int | None = DEFAULT_MAX_CHARS) -> list[Detection]:
        """Detect frames in many texts; one :class:`Detection` per text, in order.

        A text longer than ``max_chars`` characters after normalisation is scored on its first ``max_chars``
        (its language too) and its Detection says ``truncated=True``; ``None`` or 0: no limit (the cost then
        grows with the length: every 256-token window is scored).
        """
        from .langid import detect_language

        texts = list(texts)
        _check_texts(texts)
        bounded = [normalize_bounded(t, self.norm_config, max_chars) for t in texts]
        norms = [n for n, _ in bounded]
        logits = self._logits(norms, batch_size)
        results = []
        for text, lg, (norm, cut) in zip(texts, logits, bounded):
            lang = detect_language(norm.original if cut else text).lang if text else "other"
            if not norm.text:
                scores = {lab: 0.0 for lab in self.labels}
            else:
                scores = self.scores_from_logits(lg)
            labels = tuple(lab for lab in self.labels if scores[lab] >= self.config.threshold(lab, lang))
            subs = subtype_scores(self.config, lg, labels) if norm.text else _no_subtypes(self.config, labels)
            ev: tuple[Evidence, ...] = ()
            if evidence and norm.text:
                from .evidence import find_evidence

                ev = name_subtypes(self, find_evidence(self, norm, labels), subs)
            results.append(Detection(text=text, labels=labels, scores=scores, language=lang, evidence=ev,
                                     truncated=cut, subtypes=subs))
        return results

    def detect(self, text: str, evidence: bool = True, max_chars: int | None = DEFAULT_MAX_CHARS) -> Detection:
        """Detect frames in one text (``max_chars``: as in :meth:`detect_many`)."""
        if not isinstance(text, str):
            raise TypeError(f"detect() expects str, got {type(text).__name__}")
        return self.detect_many([text], evidence=evidence, max_chars=max_chars)[0]


def _load_encoder(spec: str, fast: bool = False) -> tuple[Any, Any, str | None]:
    """Encoder and tokenizer for a backbone spec (safetensors only, never remote code).

    ``fast``: for inference, a plain BERT directory loads as :class:`framing.encoder.BertEncoder`
    with a ``tokenizers`` tokenizer, which skips importing transformers (seconds of start-up).
    """
    if os.path.isdir(spec):  # a local standard directory is used as is
        path, sha = spec, None
    else:
        from .backbone import resolve_backbone

        rb = resolve_backbone(spec)
        path, sha = rb.path, rb.sha256
    if fast:
        from .encoder import FastTokenizer, load_fast_encoder, supports_fast_path

        if supports_fast_path(path):
            return load_fast_encoder(path), FastTokenizer(path), sha
    from transformers import AutoModel, AutoTokenizer

    encoder = AutoModel.from_pretrained(path, use_safetensors=True)
    tokenizer = AutoTokenizer.from_pretrained(path)
    return encoder, tokenizer, sha
