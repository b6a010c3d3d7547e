"""The functional suite (training/functional/): well-formed, balanced, and apart from every corpus text."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training" / "functional"))
sys.path.insert(0, str(REPO / "training" / "data"))

import run as functional  # noqa: E402

POSITIVE = ("deh_animal", "deh_disease", "deh_filth", "deh_monster", "deh_extermination", "del_criminal_label",
            "del_foreign_agent", "del_terror_comparison", "del_so_called", "del_media_dismissal")
CONTRAST = ("c_reporting", "c_quoting", "c_counter_speech", "c_literal", "c_act_criticism", "c_policy",
            "c_foreign_gov", "c_fake_illegal_things")
# floors the shipped model must keep on the suite (pass rate over all languages; see docs/results.md)
FLOORS = {"positive": 0.90, "contrast": 0.83}  # measured 0.95 and 0.88 (docs/results.md)


@pytest.fixture(scope="module")
def cases() -> list[dict]:
    return functional.load_cases()


def test_cases_are_well_formed(cases: list[dict]) -> None:
    import build

    label_of = {s: lab for lab, subs in build.SUBTYPES.items() for s in subs}
    assert len(cases) >= 600
    cells = Counter((c["functionality"], c["lang"]) for c in cases)
    for f in POSITIVE + CONTRAST:
        for lang in functional.LANGS:
            assert cells[(f, lang)] >= 5, (f, lang, cells[(f, lang)])
    assert {c["functionality"] for c in cases} == set(POSITIVE + CONTRAST)
    for c in cases:
        subs = c["subtypes"]
        for lab in build.LABELS:
            assert bool(c[lab]) == any(label_of[s] == lab for s in subs), c
        if c["functionality"].startswith("c_"):
            assert not c["dehumanising"] and not c["delegitimising"], c
        else:
            assert c["functionality"].split("_", 1)[1] in subs, c
    assert len({c["text"] for c in cases}) == len(cases), "duplicate case texts"


def test_no_case_is_a_near_duplicate_of_a_corpus_row(cases: list[dict], data_dir: Path) -> None:
    """The suite is never trained on: no case shares >= 0.8 of its character 3-grams with any corpus row."""
    import build

    from framing.normalizer import normalize

    def grams(t: str) -> set[str]:
        t = normalize(t).text.lower().replace(" ", "")
        return {t[i:i + 3] for i in range(max(1, len(t) - 2))}

    dd = build.build(data_dir)
    corpus = [grams(t) for split in ("train", "validation", "test") for t in dd[split]["text"]]
    index: dict[str, list[int]] = {}
    for i, g in enumerate(corpus):
        for x in g:
            index.setdefault(x, []).append(i)
    worst, where = 0.0, ""
    for c in cases:
        g = grams(c["text"])
        hits = Counter(i for x in g for i in index.get(x, ()))
        for i, shared in hits.most_common(20):
            j = shared / len(g | corpus[i])
            if j > worst:
                worst, where = j, c["text"]
    print(f"\nhighest 3-gram Jaccard between a case and a corpus row: {worst:.3f} ({where[:40]!r})")
    assert worst < 0.8


@pytest.mark.slow
def test_shipped_model_keeps_its_floors(cases: list[dict]) -> None:
    from framing.default import default_model_dir

    res = functional.run(cases, functional.detector_predict(default_model_dir()))
    for kind, names in (("positive", POSITIVE), ("contrast", CONTRAST)):
        p = sum(res[f][lg][0] for f in names for lg in res[f])
        t = sum(res[f][lg][1] for f in names for lg in res[f])
        print(f"\n{kind}: {p}/{t} = {p / t:.3f} (floor {FLOORS[kind]})")
        assert p / t >= FLOORS[kind]
