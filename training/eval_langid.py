"""Accuracy of framing.detect_language on the hand-labelled language field of the corpus.

Every annotated text carries the annotator's judgement of its language variety
(en / zh-Hans / zh-Hant / yue / mixed / other), made by reading it. This
script compares detect_language with it and prints accuracy and a confusion
table (the figures in docs/language.md).

    python training/eval_langid.py [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "data"))

from sources import read_all  # noqa: E402

from framing.langid import LANGUAGES, detect_language  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    ann = HERE / "data" / "annotations"
    gold = [json.loads(x) for x in open(ann / "gold.jsonl", encoding="utf-8")]
    texts = read_all(args.data_dir, tuple(sorted({g["source"] for g in gold})))
    pairs = [(texts[g["key"]].text, g["lang"]) for g in gold if g["key"] in texts]
    pairs += [(a["text"], a["lang"]) for a in (json.loads(x) for x in open(ann / "authored.jsonl", encoding="utf-8"))]
    conf: Counter = Counter()
    for text, lang in pairs:
        conf[(lang, detect_language(text).lang)] += 1
    n = sum(conf.values())
    correct = sum(v for (g, p), v in conf.items() if g == p)
    print(f"texts: {n}; accuracy: {correct / n:.3f}")
    print("| gold \\ predicted | " + " | ".join(LANGUAGES) + " | n | recall |")
    print("|---" * (len(LANGUAGES) + 3) + "|")
    for g in LANGUAGES:
        row = [conf[(g, p)] for p in LANGUAGES]
        tot = sum(row)
        rec = f"{conf[(g, g)] / tot:.3f}" if tot else "-"
        print(f"| {g} | " + " | ".join(map(str, row)) + f" | {tot} | {rec} |")
    # Chinese script only (the split the detector relies on): zh-Hans vs (zh-Hant or yue written in Hant)
    print("\nscript agreement on zh-Hans / zh-Hant gold texts:",
          f"{sum(1 for t, g in pairs if g in ('zh-Hans', 'zh-Hant') and detect_language(t).lang in (g, 'yue')) / max(1, sum(1 for _, g in pairs if g in ('zh-Hans', 'zh-Hant'))):.3f}")


if __name__ == "__main__":
    main()
