"""Shared fixtures: an isolated FRAMING_HOME, and the shared data folder when present."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("FRAMING_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never write into the developer's real cache; never reach a hub."""
    os.environ.setdefault("FRAMING_HOME", str(tmp_path_factory.mktemp("framing_home")))
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "hk_io" / "pool.jsonl").exists():
        pytest.skip(f"shared data not found at {DATA_DIR}")
    return DATA_DIR


@pytest.fixture(scope="session")
def shipped_detector():  # type: ignore[no-untyped-def]
    """The bundled default model (or FRAMING_MODEL_UNDER_TEST, a candidate being trained); skips when absent."""
    from framing.default import default_model_dir
    from framing.detector import CONFIG_NAME, Detector

    path = Path(os.environ.get("FRAMING_MODEL_UNDER_TEST", default_model_dir()))
    if not (path / CONFIG_NAME).exists():
        pytest.skip(f"no model at {path}")
    return Detector.from_pretrained(path)
