"""Acceptance checks of the bundled default model (slow: real backbone).

Skipped when no default model is bundled. FRAMING_MODEL_UNDER_TEST points the
checks at another model directory (used while training a candidate).
"""
from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def det(shipped_detector):  # type: ignore[no-untyped-def]
    return shipped_detector


DEHUM = [
    ("Those people are vermin and must be swept off our streets.", "vermin"),
    ("这些人就是老鼠和害虫，必须清除干净。", "害虫"),
    ("呢班人係曱甴，全部都要清除。", "曱甴"),
]
DELEG = [
    ("Masked thugs paid by foreign forces stormed the council again", "thugs"),
    ("蒙面暴徒收了外国势力的钱，又冲击立法会。", "暴徒"),
    ("蒙面暴徒收了外國勢力的錢，又衝擊立法會。", "暴徒"),
]


@pytest.mark.parametrize("text, cue", DEHUM)
def test_dehumanising_examples(det, text: str, cue: str) -> None:  # type: ignore[no-untyped-def]
    d = det.detect(text)
    print(json.dumps(d.to_dict(), ensure_ascii=False))
    assert "dehumanising" in d.labels
    spans = [text[e.start:e.end] for e in d.evidence if e.label == "dehumanising"]
    assert any(cue in s or s in cue for s in spans), spans


@pytest.mark.parametrize("text, cue", DELEG)
def test_delegitimising_examples(det, text: str, cue: str) -> None:  # type: ignore[no-untyped-def]
    d = det.detect(text)
    print(json.dumps(d.to_dict(), ensure_ascii=False))
    assert "delegitimising" in d.labels
    spans = [text[e.start:e.end] for e in d.evidence if e.label == "delegitimising"]
    assert any(cue in s or s in cue for s in spans), spans


def test_script_invariance(det, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The same sentence in Simplified and Traditional: same labels (>= 99% of >= 200 pairs), scores within 0.05."""
    import opencc

    rng = random.Random(5)
    hans = [json.loads(x)["text"] for x in open(data_dir / "hk_io" / "pool.jsonl", encoding="utf-8")
            if json.loads(x)["lang"] == "zh-Hans"]
    sample = rng.sample([t for t in hans if len(t) >= 8], 220)
    s2hk, s2tw = opencc.OpenCC("s2hk"), opencc.OpenCC("s2tw")
    trad = [s2hk.convert(t) if i % 2 else s2tw.convert(t) for i, t in enumerate(sample)]
    a = det.detect_many(sample, evidence=False)
    b = det.detect_many(trad, evidence=False)
    same = sum(x.labels == y.labels for x, y in zip(a, b))
    close = sum(all(abs(x.scores[k] - y.scores[k]) <= 0.05 for k in x.scores) for x, y in zip(a, b))
    print(f"\nsame labels {same}/{len(a)}; scores within 0.05 {close}/{len(a)}")
    assert same / len(a) >= 0.99
    assert close / len(a) >= 0.99


def test_fast_encoder_equals_transformers(det, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The plain-torch inference encoder (framing.encoder) against transformers + peft on 300 real posts."""
    from framing.detector import Detector
    from framing.encoder import BertEncoder

    assert isinstance(det.model.encoder, BertEncoder)
    rng = random.Random(11)
    pool = [json.loads(x)["text"] for name in ("hk_io", "lihkg")
            for x in open(data_dir / name / "pool.jsonl", encoding="utf-8")]
    texts = rng.sample(pool, 300)
    from framing.default import default_model_dir

    path = Path(os.environ.get("FRAMING_MODEL_UNDER_TEST", default_model_dir()))
    ref = Detector.from_pretrained(path, merge_adapters=False)
    assert not isinstance(ref.model.encoder, BertEncoder)
    a, b = det.detect_many(texts), ref.detect_many(texts)
    diff = max(abs(x.scores[k] - y.scores[k]) for x, y in zip(a, b) for k in x.scores)
    print(f"\nmax score difference {diff:.2e}; same labels {sum(x.labels == y.labels for x, y in zip(a, b))}/300")
    assert diff <= 1e-5
    assert [x.labels for x in a] == [y.labels for y in b]


def test_standard_export_runs_in_a_plain_pipeline(det, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The issue's call on the real exported model: sigmoid scores == framing's calibrated scores."""
    from transformers import pipeline

    from framing.export import export_detector
    from framing.normalizer import normalize

    out = export_detector(det, tmp_path / "export")
    texts = ["Masked thugs paid by foreign forces stormed the council again.", "那些暴徒就是蟑螂，应该清除",
             "啲黑警全部都係狗", "The weather in Hong Kong is nice today."]
    want = det.detect_many(texts, evidence=False)
    pipe = pipeline("text-classification", model=str(out), top_k=None, function_to_apply="sigmoid")
    got = pipe([normalize(t, det.norm_config).text for t in texts])
    for g, w in zip(got, want):
        scores = {x["label"]: x["score"] for x in g}
        for lab in det.labels:
            assert scores[lab] == pytest.approx(w.scores[lab], abs=1e-4)
