"""ONNX export: the graph reproduces the detector (tiny model, fast), and the default model on the test split (slow)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from framing.detector import Detector
from framing.export import EXPORT_CONFIG, export_detector
from framing.model import ModelConfig
from framing.onnx_model import ONNX_INT8_NAME, ONNX_NAME, OnnxDetector

from .test_export import _randomise
from .tiny import make_tiny_backbone

REPO = Path(__file__).resolve().parents[1]
TEXTS = ["these people are rats!", "他們就是一群曱甴，應該清除", "暴徒勾结外国势力 and co " * 20, "a", "", "😀 今天天气很好的"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Detector, Path]:
    root = tmp_path_factory.mktemp("onnx")
    bb = make_tiny_backbone(root / "bb")
    det = Detector.build(("dehumanising", "delegitimising"), ModelConfig(base_model=str(bb), max_length=64),
                         backbone_dir=str(bb))
    _randomise(det, 3)
    return det, export_detector(det, root / "exp", onnx=True)


def test_onnx_matches_detector(exported: tuple[Detector, Path]) -> None:
    det, out = exported
    meta = json.loads((out / EXPORT_CONFIG).read_text(encoding="utf-8"))
    assert meta["onnx"]["file"] == ONNX_NAME and meta["onnx"]["max_abs_logit_diff"] <= 1e-4
    assert "## ONNX" in (out / "README.md").read_text(encoding="utf-8")
    onnx = OnnxDetector.from_export(out)
    from framing.encoder import FastTokenizer

    assert isinstance(onnx.tokenizer, FastTokenizer)  # serving ONNX does not import transformers' tokenizers
    want, got = det.detect_many(TEXTS), onnx.detect_many(TEXTS)  # incl. a text longer than the window
    for w, g in zip(want, got):
        assert w.labels == g.labels and w.language == g.language
        assert max(abs(w.scores[k] - g.scores[k]) for k in w.scores) <= 1e-5
        assert all(e.source == "lexicon" for e in g.evidence)  # no gradients in onnxruntime
    lw, _ = det.logits_many(TEXTS)
    lg, _ = onnx.logits_many(TEXTS, batch_size=2)  # other batch shapes than the export's example
    assert max(float((a - b).abs().max()) for a, b in zip(lw, lg)) <= 1e-4


def test_onnx_int8_runs_close(exported: tuple[Detector, Path]) -> None:
    det, out = exported
    meta = json.loads((out / EXPORT_CONFIG).read_text(encoding="utf-8"))
    assert meta["onnx"]["int8_fp32_matmuls"] == 2  # one feed-forward output per layer of the tiny model stays fp32
    q = OnnxDetector.from_export(out, int8=True, threads=1)
    assert (out / ONNX_INT8_NAME).stat().st_size < (out / ONNX_NAME).stat().st_size
    for w, g in zip(det.detect_many(TEXTS, evidence=False), q.detect_many(TEXTS, evidence=False)):
        assert max(abs(w.scores[k] - g.scores[k]) for k in w.scores) <= 0.05


def test_onnx_errors(exported: tuple[Detector, Path], tmp_path: Path) -> None:
    _, out = exported
    with pytest.raises(FileNotFoundError, match="framing export"):
        OnnxDetector.from_export(tmp_path)
    with pytest.raises(ValueError, match="cannot be saved"):
        OnnxDetector.from_export(out).save_pretrained(tmp_path / "x")


@pytest.mark.slow
def test_default_model_onnx_parity_on_test_split(data_dir: Path, tmp_path: Path) -> None:
    """Labels identical on the corpus test split; scores within 1e-3 (fp32)."""
    sys.path.insert(0, str(REPO / "training" / "data"))
    try:
        import build
    finally:
        sys.path.remove(str(REPO / "training" / "data"))
    from framing.default import default_model_dir

    texts = build.build(data_dir, weak=False)["test"]["text"]
    det = Detector.from_pretrained(default_model_dir())
    out = export_detector(det, tmp_path / "exp", onnx=True)
    onnx = OnnxDetector.from_export(out)
    a = det.detect_many(texts, evidence=False)
    b = onnx.detect_many(texts, evidence=False)
    same = sum(x.labels == y.labels for x, y in zip(a, b))
    diff = max(abs(x.scores[k] - y.scores[k]) for x, y in zip(a, b) for k in x.scores)
    print(f"\nONNX fp32 vs Detector on {len(texts)} test texts: labels identical {same}/{len(texts)}, "
          f"max score difference {diff:.2e}")
    assert same == len(texts)
    assert diff <= 1e-3
