"""framing: find dehumanising and delegitimising frames in English and Chinese.

The public API is re-exported here lazily: ``import framing`` stays cheap (no
torch, transformers, OpenCC or jieba at import time) so that ``framing --help``
is fast; each name is imported from its module on first access.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

__all__ = [
    "__version__",
    # normalisation
    "normalize",
    "Normalized",
    "NormalizeConfig",
    # language / script
    "detect_language",
    "LanguageGuess",
    # segmentation
    "segment",
    "Token",
    # lexicon
    "Lexicon",
    "LexiconEntry",
    "CueMatch",
    "load_lexicon",
    "match_cues",
    # backbone
    "resolve_backbone",
    "BackboneError",
    # detection and training
    "detect",
    "detect_many",
    "Detector",
    "Detection",
    "Evidence",
    "train",
    "TrainingArguments",
    "evaluate",
]

_LAZY = {
    "normalize": "framing.normalizer",
    "Normalized": "framing.normalizer",
    "NormalizeConfig": "framing.normalizer",
    "detect_language": "framing.langid",
    "LanguageGuess": "framing.langid",
    "segment": "framing.segmenter",
    "Token": "framing.segmenter",
    "Lexicon": "framing.lexicon",
    "LexiconEntry": "framing.lexicon",
    "CueMatch": "framing.lexicon",
    "load_lexicon": "framing.lexicon",
    "match_cues": "framing.lexicon",
    "resolve_backbone": "framing.backbone",
    "BackboneError": "framing.backbone",
    "detect": "framing.default",
    "detect_many": "framing.default",
    "Detector": "framing.detector",
    "Detection": "framing.detector",
    "Evidence": "framing.detector",
    "train": "framing.trainer",
    "TrainingArguments": "framing.trainer",
    "evaluate": "framing.trainer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .backbone import BackboneError, resolve_backbone
    from .default import detect, detect_many
    from .detector import Detection, Detector, Evidence
    from .trainer import TrainingArguments, evaluate, train
    from .langid import LanguageGuess, detect_language
    from .lexicon import CueMatch, Lexicon, LexiconEntry, load_lexicon, match_cues
    from .normalizer import NormalizeConfig, Normalized, normalize
    from .segmenter import Token, segment
