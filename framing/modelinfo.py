"""A model directory's identity and calibration, read from its files without loading it (no torch).

Used by the apps (``framing serve``, ``framing report``) to say which model and
thresholds produced or will produce the scores.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from ._version import __version__
from .detector import CONFIG_NAME, WEIGHTS_NAME

__all__ = ["model_info"]


def model_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Name, version, labels and thresholds of the saved detector at ``path``.

    ``version`` is ``<directory name>@<first 12 hex digits of the weights' sha256>``: two
    directories with the same version hold the same weights.
    """
    path = Path(path)
    cfg_path = path / CONFIG_NAME
    if not cfg_path.exists():
        raise FileNotFoundError(f"{path} is not a framing model directory (no {CONFIG_NAME})")
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    digest = hashlib.sha256()
    weights = path / WEIGHTS_NAME
    if weights.exists():
        with open(weights, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    sha = digest.hexdigest() if weights.exists() else None
    return {
        "name": path.name,
        "version": f"{path.name}@{sha[:12] if sha else 'no-weights'}",
        "weights_sha256": sha,
        "framing_version": __version__,
        "base_model": cfg.get("model", {}).get("base_model"),
        "labels": list(cfg.get("labels", ())),
        "thresholds": dict(cfg.get("thresholds", {})),
        "lang_thresholds": {k: dict(v) for k, v in cfg.get("lang_thresholds", {}).items()},
    }
