"""The default detector shipped inside the package, loaded lazily and cached (thread-safe)."""
from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Iterable

from .detector import CONFIG_NAME, Detection, Detector

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


def detect(text: str, evidence: bool = True) -> Detection:
    """Detect frames in one text with the default detector (``evidence=False``: no evidence spans, faster)."""
    return get_default_detector().detect(text, evidence=evidence)


def detect_many(texts: Iterable[str], batch_size: int = 32, evidence: bool = True) -> list[Detection]:
    """Detect frames in many texts with the default detector; one Detection per text, in order."""
    return get_default_detector().detect_many(list(texts), batch_size=batch_size, evidence=evidence)
