"""Evaluation: per-label x per-language precision, recall, F1 and macro-F1, and calibration fits.

One report format serves the model, the baselines and ``framing evaluate``:
``{label: {lang: {n, positives, predicted, precision, recall, f1, macro_f1}}}``
with an ``all`` language row. ``f1`` (with ``precision`` and ``recall``) is the positive-class figure, the one
reported and used for model selection; ``macro_f1``, the mean of the positive- and negative-class F1, is kept
for comparison with earlier reports but flatters rare labels.
"""
from __future__ import annotations

import math
from typing import Sequence

__all__ = ["prf", "report", "format_report", "fit_temperature", "best_threshold"]


def prf(y: Sequence[int], p: Sequence[int]) -> dict[str, float]:
    tp = sum(1 for a, b in zip(y, p) if a and b)
    fp = sum(1 for a, b in zip(y, p) if not a and b)
    fn = sum(1 for a, b in zip(y, p) if a and not b)
    tn = len(y) - tp - fp - fn
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    nprec = tn / (tn + fn) if tn + fn else 0.0
    nrec = tn / (tn + fp) if tn + fp else 0.0
    nf1 = 2 * nprec * nrec / (nprec + nrec) if nprec + nrec else 0.0
    return {"n": len(y), "positives": tp + fn, "predicted": tp + fp, "precision": prec, "recall": rec,
            "f1": f1, "macro_f1": (f1 + nf1) / 2}


def report(labels: Sequence[str], gold: Sequence[dict[str, int]], pred: Sequence[dict[str, int]],
           langs: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for lab in labels:
        out[lab] = {}
        for lang in sorted(set(langs)) + ["all"]:
            idx = [i for i, lg in enumerate(langs) if lang == "all" or lg == lang]
            out[lab][lang] = prf([gold[i][lab] for i in idx], [pred[i][lab] for i in idx])
    return out


def format_report(rep: dict[str, dict[str, dict[str, float]]], title: str = "") -> str:
    lines = [f"## {title}"] if title else []
    lines += ["| label | lang | n | pos | pred | precision | recall | F1 | macro-F1 |",
              "|---|---|---|---|---|---|---|---|---|"]
    for lab, by in rep.items():
        for lang, m in by.items():
            lines.append(f"| {lab} | {lang} | {m['n']} | {m['positives']} | {m['predicted']} | {m['precision']:.3f} "
                         f"| {m['recall']:.3f} | {m['f1']:.3f} | {m['macro_f1']:.3f} |")
    return "\n".join(lines)


def _bce(logits: Sequence[float], y: Sequence[int], t: float) -> float:
    tot = 0.0
    for z, yy in zip(logits, y):
        s = z / t
        # log(1 + exp(-|s|)) + max(s, 0) - yy * s, stable
        tot += math.log1p(math.exp(-abs(s))) + max(s, 0.0) - yy * s
    return tot / max(len(y), 1)


def fit_temperature(logits: Sequence[float], y: Sequence[int]) -> float:
    """Temperature minimising validation log-loss (grid over 0.25..8, then refine)."""
    grid = [0.25 * (2 ** (k / 8)) for k in range(41)]
    best = min(grid, key=lambda t: _bce(logits, y, t))
    fine = [best * (2 ** (k / 64)) for k in range(-8, 9)]
    return min(fine, key=lambda t: _bce(logits, y, t))


def best_threshold(probs: Sequence[float], y: Sequence[int]) -> float:
    """Threshold maximising F1 of the positive class (ties: the higher threshold)."""
    if not any(y):
        return 0.5
    cands = sorted(set(round(p, 4) for p in probs) | {0.5})
    best_t, best_f = 0.5, -1.0
    for t in cands:
        f = prf(y, [int(p >= t) for p in probs])["f1"]
        if f > best_f or (f == best_f and t > best_t):
            best_t, best_f = t, f
    return float(min(max(best_t, 0.05), 0.95))
