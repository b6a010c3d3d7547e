"""Inter-annotator agreement: Cohen's kappa per label and language on the double-annotated sample.

The second pass (annotations/double.jsonl) was made blind to the first; this
compares it with the first pass as originally annotated (before the review
pass, which is the adjudication) and with the final gold labels.

    python training/data/agreement.py
    python training/data/agreement.py --batches dbl_08,dbl_09   # one round's sample (round 6)
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

ANN = Path(__file__).resolve().parent / "annotations"
LABELS = ("dehumanising", "delegitimising")
GROUP = {"en": "en", "zh-Hans": "zh-Hans", "zh-Hant": "zh-Hant", "yue": "zh-Hant", "mixed": "mixed", "other": "other"}


def _rows(name: str) -> list[dict]:
    with open(ANN / name, encoding="utf-8") as fh:
        return [json.loads(x) for x in fh if x.strip()]


def _agree(ab: list[tuple[int, int]]) -> tuple[float, float]:
    """Raw agreement and Cohen's kappa of (first, second) pairs; kappa is nan when only one class occurs."""
    a, b = zip(*ab)
    raw = sum(x == y for x, y in ab) / len(ab)
    return raw, (cohen_kappa_score(a, b) if len(set(a) | set(b)) > 1 else float("nan"))


def _pairs(batches: set[str] | None, need_subtypes: bool = False) -> list[tuple[dict, dict]]:
    """(gold record, second-pass record) pairs, optionally only those of the given second-pass batches."""
    gold = {g["key"]: g for g in _rows("gold.jsonl")}
    return [(gold[d["key"]], d) for d in _rows("double.jsonl") if d["key"] in gold
            and (batches is None or d.get("batch") in batches) and (not need_subtypes or "subtypes" in d)]


def agreement(batches: set[str] | None = None) -> list[tuple[str, str, int, float, float]]:
    """(label, language, n, raw agreement, kappa) rows; language from the first annotator's judgement."""
    pairs = _pairs(batches)
    out = []
    for lab in LABELS:
        by: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for g, d in pairs:
            first = g.get("first_pass", {}).get(lab, g[lab])
            by[GROUP[g["lang"]]].append((first, d[lab]))
            by["all"].append((first, d[lab]))
        for lang in ("en", "zh-Hans", "zh-Hant", "all"):
            ab = by.get(lang, [])
            if not ab:
                continue
            out.append((lab, lang, len(ab), *_agree(ab)))
    return out


SUBTYPES = ("animal", "disease", "filth", "monster", "extermination",
            "criminal_label", "foreign_agent", "terror_comparison", "so_called", "media_dismissal")


def subtype_agreement(batches: set[str] | None = None) -> list[tuple[str, str, int, int, float, float]]:
    """(sub-type, language group, n, positives in either pass, raw agreement, kappa) on the v2 second pass.

    Only second-pass records that carry sub-types (corpus v2) count; the first pass is taken as first
    annotated (before adjudication). Language groups: en and zh (zh-Hans + zh-Hant)."""
    pairs = _pairs(batches, need_subtypes=True)
    out = []
    for sub in SUBTYPES:
        by: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for g, d in pairs:
            first = set(g.get("first_pass", {}).get("subtypes", g.get("subtypes", [])))
            grp = "en" if GROUP[g["lang"]] == "en" else "zh" if GROUP[g["lang"]] in ("zh-Hans", "zh-Hant") else None
            if grp is None:
                continue
            pair = (int(sub in first), int(sub in d["subtypes"]))
            by[grp].append(pair)
            by["all"].append(pair)
        for grp in ("en", "zh", "all"):
            ab = by.get(grp, [])
            if not ab:
                continue
            out.append((sub, grp, len(ab), sum(x or y for x, y in ab), *_agree(ab)))
    return out


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", default=None, help="comma-separated second-pass batches (e.g. dbl_08,dbl_09)")
    args = ap.parse_args()
    batches = set(args.batches.split(",")) if args.batches else None
    print("| label | language | n | raw agreement | Cohen's kappa |\n|---|---|---|---|---|")
    for lab, lang, n, raw, kappa in agreement(batches):
        print(f"| {lab} | {lang} | {n} | {raw:.3f} | {kappa:.3f} |")
    sub = subtype_agreement(batches)
    if sub:
        print("\n| sub-type | language | n | positive in either pass | raw agreement | Cohen's kappa |")
        print("|---|---|---|---|---|---|")
        for s, grp, n, pos, raw, kappa in sub:
            print(f"| {s} | {grp} | {n} | {pos} | {raw:.3f} | {kappa:.3f} |")


if __name__ == "__main__":
    main()
