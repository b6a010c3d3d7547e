"""Corpus builder: deterministic, no near-duplicate across splits, no weak/augmented rows in eval splits."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training" / "data"))


@pytest.fixture(scope="module")
def corpus(data_dir: Path):  # type: ignore[no-untyped-def]
    import build

    return build.build(data_dir)


def test_deterministic(corpus, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    import build

    again = build.build(data_dir)
    for split in ("train", "validation", "test"):
        assert build.split_hash(corpus[split]) == build.split_hash(again[split])
    print("\n" + build.count_table(corpus))


def test_eval_splits_are_gold_only(corpus) -> None:  # type: ignore[no-untyped-def]
    for split in ("validation", "test"):
        assert all(corpus[split]["gold"])
        assert not any(corpus[split]["weak"])
        assert not any(corpus[split]["augmented"])
    assert set(corpus["train"].column_names) >= {"id", "text", "lang", "dehumanising", "delegitimising", "source", "split"}


def test_no_near_duplicate_crosses_splits(corpus) -> None:  # type: ignore[no-untyped-def]
    from framing.normalizer import normalize

    def grams(t: str) -> set[str]:
        t = normalize(t).text.lower().replace(" ", "")
        return {t[i:i + 3] for i in range(max(1, len(t) - 2))}

    groups: dict[str, set[str]] = {}
    for split in ("train", "validation", "test"):
        for g in corpus[split]["group"]:
            groups.setdefault(g, set()).add(split)
    assert all(len(s) == 1 for s in groups.values()), "a group spans two splits"
    train = [grams(t) for t, a in zip(corpus["train"]["text"], corpus["train"]["augmented"]) if not a]
    index: dict[str, list[int]] = {}
    for i, g in enumerate(train):
        for x in g:
            index.setdefault(x, []).append(i)
    worst = 0.0
    for split in ("validation", "test"):
        for t in corpus[split]["text"]:
            g = grams(t)
            cands = {i for x in g for i in index.get(x, ())}
            for i in cands:
                j = len(g & train[i]) / len(g | train[i])
                worst = max(worst, j)
    print(f"\nhighest 3-gram Jaccard between an eval row and a train row: {worst:.3f}")
    assert worst < 0.8
