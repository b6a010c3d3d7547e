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
        assert not any(corpus[split]["authored"])
        assert "authored" not in set(corpus[split]["source"])
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


def test_accounts_and_threads_never_cross_splits(corpus, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """One IRA account's tweets, and one LIHKG thread's messages, stay in one split."""
    from sources import read_all

    meta = read_all(data_dir, ("ira", "lihkg"))
    where: dict[str, set[str]] = {}
    for split in ("train", "validation", "test"):
        for rid in corpus[split]["id"]:
            row = meta.get(rid.split("#")[0])
            if row is None:
                continue
            unit = row.meta.get("author") or row.meta.get("post_id")
            where.setdefault(f"{rid.split(':')[0]}:{unit}", set()).add(split)
    assert where, "no IRA or LIHKG row in the corpus"
    crossing = {u: s for u, s in where.items() if len(s) > 1}
    assert not crossing, f"units across splits: {list(crossing.items())[:5]}"


def test_subtypes_agree_with_labels(corpus) -> None:  # type: ignore[no-untyped-def]
    import build

    label_of = {s: lab for lab, subs in build.SUBTYPES.items() for s in subs}
    n_typed = 0
    for split in ("train", "validation", "test"):
        for r in corpus[split]:
            if r["weak"]:
                continue
            subs = r["subtypes"]
            assert all(s in label_of for s in subs), (r["id"], subs)
            for lab in build.LABELS:
                has = any(label_of[s] == lab for s in subs)
                # every positive carries a sub-type of its label, and no negative does
                assert has == bool(r[lab]), (r["id"], lab, r[lab], subs)
            n_typed += bool(subs)
    assert n_typed > 0


def test_authored_rows_are_marked_and_optional(data_dir: Path) -> None:
    import build

    full = build.build(data_dir, weak=False)
    bare = build.build(data_dir, weak=False, authored=False)
    assert sum(full["train"]["authored"]) > 0
    assert not any(bare["train"]["authored"])
    # leaving authored rows out moves no real row to another split
    for split in ("validation", "test"):
        assert build.split_hash(full[split]) == build.split_hash(bare[split])
