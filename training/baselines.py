"""Baselines on the framing corpus: lexicon only, and TF-IDF + logistic regression.

Both are scored on the TEST split with :func:`framing.metrics.report`, the same
per-label x per-language format as the model, so the tables compare directly.

- ``lexicon``: a label is predicted when :meth:`Lexicon.match` finds a cue of
  that label (strong cues, and weak cues whose context licenses them). No
  training; it shows what the cue list alone is worth.
- ``tfidf``: TF-IDF over words (jieba/regex tokens of the normalised text,
  :mod:`framing.segmenter`) plus TF-IDF over character 1-3-grams of the
  normalised text, one ``LogisticRegression(class_weight="balanced")`` per
  label. ``C`` and the decision threshold are chosen per label on VALIDATION
  (best positive-class F1), never on test. It is trained on the train split's
  gold and augmented rows; the rule-labelled ``weak`` rows are left out unless
  ``--include-weak`` (they are templates the lexicon rules wrote, so they would
  mostly teach the baseline the lexicon).

    python training/baselines.py --data /tmp/corpus [--out docs/results/baselines.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

LABELS = ("dehumanising", "delegitimising")
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)

Row = dict[str, Any]


def _gold(rows: Sequence[Row], labels: Sequence[str]) -> list[dict[str, int]]:
    return [{lab: int(bool(r[lab])) for lab in labels} for r in rows]


def _langs(rows: Sequence[Row]) -> list[str]:
    from framing.langid import detect_language

    return [str(r["lang"]) if r.get("lang") else detect_language(r["text"]).lang for r in rows]


def lexicon_baseline(rows: Sequence[Row], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Report of "predict a label iff the lexicon finds a cue of it" on ``rows``."""
    from framing.lexicon import load_lexicon
    from framing.metrics import report

    lex = load_lexicon()
    pred = []
    for r in rows:
        found = {m.label for m in lex.match(r["text"])}
        pred.append({lab: int(lab in found) for lab in labels})
    return {"report": report(labels, _gold(rows, labels), pred, _langs(rows)), "predictions": _by_id(rows, pred)}


def _by_id(rows: Sequence[Row], pred: Sequence[dict[str, int]]) -> dict[str, dict[str, int]]:
    """Per-row predictions keyed by row id (for sub-type recall), when rows have ids."""
    return {str(r["id"]): p for r, p in zip(rows, pred) if "id" in r}


def _features(texts: Sequence[str]) -> tuple[list[list[str]], list[str]]:
    """(word tokens, normalised text) per text; words are lower-cased segment tokens."""
    from framing.normalizer import normalize
    from framing.segmenter import segment_normalized

    words, chars = [], []
    for t in texts:
        n = normalize(t)
        words.append([tok.text.lower() for tok in segment_normalized(n) if not tok.text.isspace()])
        chars.append(n.text.lower())
    return words, chars


def _identity(x: Any) -> Any:
    return x


class TfidfFeaturizer:
    """Word TF-IDF (jieba tokens) + character 1-3-gram TF-IDF, stacked side by side."""

    def __init__(self, min_df: int = 1) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.word = TfidfVectorizer(analyzer=_identity, min_df=min_df, sublinear_tf=True)
        self.char = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=min_df, sublinear_tf=True,
                                    lowercase=False)

    def fit_transform(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        w, c = _features(texts)
        return hstack([self.word.fit_transform(w), self.char.fit_transform(c)]).tocsr()

    def transform(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        w, c = _features(texts)
        return hstack([self.word.transform(w), self.char.transform(c)]).tocsr()


def _fit(x: Any, y: Sequence[int], c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000, solver="liblinear",
                              random_state=seed).fit(x, y)


def pick_threshold(probs: Sequence[float], y: Sequence[int]) -> float:
    """F1-optimal threshold, placed mid-way in the gap below it rather than on a validation score.

    :func:`framing.metrics.best_threshold` returns a threshold equal to some validation
    probability (ties: the highest), which sits on the edge of the positives it keeps;
    any value in the gap down to the next lower probability gives the same validation
    predictions, so the middle of that gap generalises better. Clamped to [0.05, 0.95].
    """
    from framing.metrics import best_threshold

    t = best_threshold(probs, y)
    below = [p for p in probs if p < t]
    if below and t in {round(p, 4) for p in probs}:
        t = (t + max(below)) / 2
    return float(min(max(t, 0.05), 0.95))


def tfidf_baseline(train: Sequence[Row], val: Sequence[Row], test: Sequence[Row],
                   labels: Sequence[str] = LABELS, c_grid: Sequence[float] = C_GRID, min_df: int | None = None,
                   seed: int = 0) -> dict[str, Any]:
    """Fit on ``train``, choose C and threshold per label on ``val``, report on ``test``.

    Returns ``{"report", "C", "thresholds", "validation_f1"}``. ``min_df`` defaults to 2
    on corpora of >= 500 training rows (drops hapax n-grams) and 1 on tiny data.
    """
    from sklearn.metrics import log_loss

    from framing.metrics import prf, report

    if not train or not val or not test:
        raise ValueError("tfidf_baseline needs non-empty train, validation and test rows")
    feat = TfidfFeaturizer(min_df if min_df is not None else (2 if len(train) >= 500 else 1))
    x_tr = feat.fit_transform([r["text"] for r in train])
    x_va = feat.transform([r["text"] for r in val])
    x_te = feat.transform([r["text"] for r in test])
    g_tr, g_va = _gold(train, labels), _gold(val, labels)
    chosen_c: dict[str, float | None] = {}
    thresholds: dict[str, float] = {}
    val_f1: dict[str, float] = {}
    test_pred: list[dict[str, int]] = [{} for _ in test]
    for lab in labels:
        y_tr, y_va = [g[lab] for g in g_tr], [g[lab] for g in g_va]
        if len(set(y_tr)) < 2:  # nothing to learn: predict the only class seen
            chosen_c[lab], thresholds[lab], val_f1[lab] = None, 0.5, 0.0
            for p in test_pred:
                p[lab] = y_tr[0] if y_tr else 0
            continue
        best: tuple[float, float, float, float, Any] | None = None  # (f1, -log-loss, C, threshold, model)
        for c in c_grid:  # best validation F1; ties go to the better validation log-loss
            model = _fit(x_tr, y_tr, c, seed)
            probs = model.predict_proba(x_va)[:, 1].tolist()
            t = pick_threshold(probs, y_va)
            f = prf(y_va, [int(p >= t) for p in probs])["f1"]
            nll = -log_loss(y_va, probs, labels=[0, 1])
            if best is None or (f, nll) > (best[0], best[1]):
                best = (f, nll, c, t, model)
        assert best is not None
        f, _, c, t, model = best
        chosen_c[lab], thresholds[lab], val_f1[lab] = c, round(t, 4), round(f, 4)
        for p, s in zip(test_pred, model.predict_proba(x_te)[:, 1].tolist()):
            p[lab] = int(s >= t)
    rep = report(labels, _gold(test, labels), test_pred, _langs(test))
    return {"report": rep, "C": chosen_c, "thresholds": thresholds, "validation_f1": val_f1,
            "predictions": _by_id(test, test_pred)}


def train_rows(rows: Sequence[Row], include_weak: bool = False) -> list[Row]:
    """The training rows used: gold, authored and augmented (as the model), plus weak (rule-labelled) ones if asked."""
    return [r for r in rows if r.get("gold", True) or r.get("augmented") or r.get("authored")
            or (include_weak and r.get("weak"))]


def run(data: str | Path, include_weak: bool = False) -> dict[str, Any]:
    """Both baselines on a saved DatasetDict; the JSON written by the script."""
    from datasets import load_from_disk

    dd = load_from_disk(str(data))
    for split in ("train", "validation", "test"):
        if split not in dd:
            raise ValueError(f"{data} has no {split!r} split (it has {list(dd)})")
    tr = train_rows(dd["train"].to_list(), include_weak)
    va, te = dd["validation"].to_list(), dd["test"].to_list()
    t0 = time.time()
    lex = lexicon_baseline(te)
    t1 = time.time()
    tfidf = tfidf_baseline(tr, va, te)
    t2 = time.time()
    lex["seconds"], tfidf["seconds"] = round(t1 - t0, 1), round(t2 - t1, 1)
    return {"data": str(data), "split": "test", "labels": list(LABELS),
            "rows": {"train": len(tr), "validation": len(va), "test": len(te)},
            "train_rows": "gold + authored + augmented" + (" + weak" if include_weak else ""),
            "lexicon": lex, "tfidf": tfidf}


def main(argv: list[str] | None = None) -> int:
    from framing.metrics import format_report

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, type=Path, help="saved DatasetDict (training/data/build.py --out)")
    ap.add_argument("--out", type=Path, default=Path("docs/results/baselines.json"))
    ap.add_argument("--include-weak", action="store_true", help="also train TF-IDF on the rule-labelled weak rows")
    args = ap.parse_args(argv)
    res = run(args.data, args.include_weak)
    print(format_report(res["lexicon"]["report"], "lexicon only (test)"))
    print()
    print(format_report(res["tfidf"]["report"], f"TF-IDF words + char 1-3 + LogisticRegression (test; "
                                                 f"C={res['tfidf']['C']}, thresholds={res['tfidf']['thresholds']})"))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
