"""Print docs/results.md's table: default model vs baselines, macro-F1 per label x language on test.

Reads the default model's test report (written by training/train_default.py) and
docs/results/baselines.json (written by training/baselines.py) - both computed on
the same test split of the same corpus build.

    python training/results.py
"""
from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    model = json.loads((REPO / "framing" / "models" / "default" / "test_report.json").read_text())
    base = json.loads((REPO / "docs" / "results" / "baselines.json").read_text())
    lex, tfidf = base["lexicon"]["report"], base["tfidf"]["report"]
    print("| label | lang | test n | positives | lexicon | TF-IDF + LR | default model | model - TF-IDF |")
    print("|---|---|---|---|---|---|---|---|")
    for lab, by in model.items():
        for lang, m in by.items():
            t = tfidf[lab][lang]["macro_f1"]
            print(f"| {lab} | {lang} | {m['n']} | {m['positives']} | {lex[lab][lang]['macro_f1']:.3f} | {t:.3f} | "
                  f"{m['macro_f1']:.3f} | {100 * (m['macro_f1'] - t):+.1f} |")


if __name__ == "__main__":
    main()
