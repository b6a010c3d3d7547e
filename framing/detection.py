"""The result types of detection: :class:`Detection` per text and its :class:`Evidence` spans.

Frozen dataclasses with ``to_dict()`` (JSON-ready); ``framing.detect`` and
``Detector.detect_many`` return exactly these, whatever the model.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Detection", "Evidence"]


@dataclass(frozen=True)
class Evidence:
    """A span of the original text supporting a label; ``source`` is "lexicon" or "model"."""

    label: str
    start: int
    end: int
    surface: str
    source: str
    term: str | None = None
    weight: float | None = None
    subtype: str | None = None  # a reported sub-type of ``label`` the span itself carries (framing.subtypes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Detection:
    """The result for one text: labels over threshold, calibrated scores, language, evidence.

    ``truncated``: the text was longer than ``max_chars`` after normalisation and only its first
    ``max_chars`` characters were scored (``to_dict`` has ``"truncated": True`` only then).
    ``subtypes``: for each label in ``labels``, the sub-types over their thresholds with their
    scores (``{"dehumanising": {"animal": 0.93}}``); ``None`` when the model ships no sub-types
    (then ``to_dict`` has no ``"subtypes"`` key). Only sub-types that reached positive-class
    F1 >= 0.70 on the model's test split are shipped (``DetectorConfig.subtypes_shipped``).
    """

    text: str
    labels: tuple[str, ...]
    scores: dict[str, float]
    language: str
    evidence: tuple[Evidence, ...] = ()
    truncated: bool = False
    subtypes: dict[str, dict[str, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"text": self.text, "labels": list(self.labels), "scores": dict(self.scores),
             "language": self.language, "evidence": [e.to_dict() for e in self.evidence]}
        if self.subtypes is not None:
            d["subtypes"] = {lab: dict(v) for lab, v in self.subtypes.items()}
        if self.truncated:
            d["truncated"] = True
        return d
