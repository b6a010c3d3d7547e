"""The default detector shipped inside the package, loaded lazily and cached (thread-safe)."""
from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Iterable

from .detector import CONFIG_NAME, DEFAULT_MAX_CHARS, Detection, Detector

__all__ = ["default_model_dir", "get_default_detector", "detect", "detect_many"]

_lock = threading.Lock()
_default: Detector | None = None


def default_model_dir() -> Path:
    """Where the shipped default model lives (``framing/models/default``)."""
    return Path(str(resources.files("framing").joinpath("models", "default")))


def get_default_detector() -> Detector:
    global _default
    with _lock:
        if _default is None:
            path = default_model_dir()
            if not (path / CONFIG_NAME).exists():
                raise FileNotFoundError(
                    f"no default model is bundled at {path}. Train one with `python training/train_default.py` "
                    "or pass a model directory: framing.Detector.from_pretrained(DIR)")
            _default = Detector.from_pretrained(path)
        return _default


def detect(text: str, evidence: bool = True, max_chars: int | None = DEFAULT_MAX_CHARS) -> Detection:
    """Detect frames in one text with the default detector (``evidence=False``: no evidence spans, faster;
    ``max_chars``: score at most this many normalised characters, see ``Detector.detect_many``)."""
    return get_default_detector().detect(text, evidence=evidence, max_chars=max_chars)


def detect_many(texts: Iterable[str], batch_size: int = 32, evidence: bool = True,
                max_chars: int | None = DEFAULT_MAX_CHARS) -> list[Detection]:
    """Detect frames in many texts with the default detector; one Detection per text, in order."""
    return get_default_detector().detect_many(list(texts), batch_size=batch_size, evidence=evidence,
                                              max_chars=max_chars)
