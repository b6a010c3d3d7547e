"""training/baselines.py on tiny synthetic rows: report structure, and a separable toy set is learnt."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LABELS = ("dehumanising", "delegitimising")
METRICS = {"n", "positives", "predicted", "precision", "recall", "f1", "macro_f1"}


@pytest.fixture(scope="module")
def baselines():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("framing_baselines", REPO / "training" / "baselines.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["framing_baselines"] = mod
    spec.loader.exec_module(mod)
    return mod


def toy(n: int, offset: int = 0) -> list[dict]:
    """Separable rows: each label has its own marker words, negatives have neither."""
    dehum = ["these people are vermin {f}", "他们就是一群蟑螂 {f}", "subhuman vermin everywhere {f}"]
    deleg = ["the puppet regime is illegitimate {f}", "伪政府是傀儡 {f}", "illegitimate puppet court {f}"]
    neg = ["the weather is lovely today {f}", "今天天气很好 {f}", "we had noodles for lunch {f}"]
    fillers = ["again", "really", "honestly", "今天", "lol", "#hk", "ok"]
    rows = []
    for k in range(n):
        i = k + offset
        kind = k % 3
        text = (dehum, deleg, neg)[kind][(k // 3) % 3].format(f=fillers[i % len(fillers)])
        rows.append({"text": text, "lang": "zh-Hans" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en",
                     "dehumanising": int(kind == 0), "delegitimising": int(kind == 1),
                     "gold": True, "augmented": False, "weak": False})
    return rows


def _check_structure(rep: dict, langs: set[str]) -> None:
    assert set(rep) == set(LABELS)
    for lab in LABELS:
        assert set(rep[lab]) == langs | {"all"}
        for m in rep[lab].values():
            assert set(m) == METRICS
            assert 0.0 <= m["f1"] <= 1.0 and 0.0 <= m["macro_f1"] <= 1.0


def test_lexicon_baseline_structure(baselines) -> None:  # type: ignore[no-untyped-def]
    rows = toy(12)
    out = baselines.lexicon_baseline(rows)
    _check_structure(out["report"], {"en", "zh-Hans"})
    assert out["report"]["dehumanising"]["all"]["n"] == 12
    assert out["report"]["dehumanising"]["all"]["positives"] == 4
    # "蟑螂" next to "他们" is a licensed cue: the lexicon finds at least that row
    assert out["report"]["dehumanising"]["zh-Hans"]["predicted"] >= 1
    json.dumps(out)


def test_tfidf_baseline_learns_separable_toy(baselines) -> None:  # type: ignore[no-untyped-def]
    out = baselines.tfidf_baseline(toy(60), toy(30, 100), toy(30, 200))
    rep = out["report"]
    _check_structure(rep, {"en", "zh-Hans"})
    for lab in LABELS:
        assert rep[lab]["all"]["f1"] >= 0.95, (lab, rep[lab]["all"])
        assert out["C"][lab] in baselines.C_GRID
        assert 0.05 <= out["thresholds"][lab] <= 0.95
    json.dumps(out)


def test_tfidf_baseline_single_class_label(baselines) -> None:  # type: ignore[no-untyped-def]
    rows = [{**r, "delegitimising": 0} for r in toy(12)]
    out = baselines.tfidf_baseline(rows, rows, rows)
    assert out["C"]["delegitimising"] is None
    assert out["report"]["delegitimising"]["all"]["predicted"] == 0
    with pytest.raises(ValueError):
        baselines.tfidf_baseline([], rows, rows)


def test_train_rows_filter(baselines) -> None:  # type: ignore[no-untyped-def]
    rows = [{"gold": True, "augmented": False, "weak": False}, {"gold": False, "augmented": True, "weak": False},
            {"gold": False, "augmented": False, "weak": True}]
    assert len(baselines.train_rows(rows)) == 2
    assert len(baselines.train_rows(rows, include_weak=True)) == 3


def test_script_end_to_end(baselines, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datasets import Dataset, DatasetDict

    dd = DatasetDict({"train": Dataset.from_list(toy(30)), "validation": Dataset.from_list(toy(15, 100)),
                      "test": Dataset.from_list(toy(15, 200))})
    dd.save_to_disk(str(tmp_path / "corpus"))
    out = tmp_path / "res" / "baselines.json"
    assert baselines.main(["--data", str(tmp_path / "corpus"), "--out", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["rows"] == {"train": 30, "validation": 15, "test": 15}
    _check_structure(res["lexicon"]["report"], {"en", "zh-Hans"})
    _check_structure(res["tfidf"]["report"], {"en", "zh-Hans"})
