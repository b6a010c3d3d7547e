"""Frame sub-types: extra head rows after the labels, reported only where they were measured to work.

A model trained with sub-types (``TrainingArguments.subtypes``) has one output per
(label, sub-type) after its label outputs. Their thresholds are fitted on
validation; a sub-type is SHIPPED (listed in ``DetectorConfig.subtypes_shipped``,
reported in ``Detection.subtypes``) only when its positive-class F1 on the test
split reached the bar (0.70, with at least 30 test positives); the others stay in
the weights, unreported, and the model card says so. A sub-type is reported only
under a label the text got. Evidence spans of a label are named after the text's
highest-scoring sub-type of that label (a sub-type is predicted per text, not per span).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

__all__ = ["subtype_scores", "no_subtypes", "name_subtypes", "subtype_targets", "fit_subtypes", "SHIP_MIN_F1",
           "SHIP_MIN_POSITIVES"]

SHIP_MIN_F1 = 0.70
SHIP_MIN_POSITIVES = 30


def subtype_scores(config: Any, logits: Any, labels: Sequence[str]) -> dict[str, dict[str, float]] | None:
    """label -> {sub-type: score} over threshold, for the labels the text got; None if no sub-type is shipped."""
    import torch

    shipped = set(config.subtypes_shipped)
    if not shipped:
        return None
    out: dict[str, dict[str, float]] = {lab: {} for lab in labels}
    base = len(config.labels)
    for k, (lab, st) in enumerate(config.subtype_outputs):
        if lab in out and st in shipped:
            p = round(float(torch.sigmoid(logits[base + k])), 6)
            if p >= config.subtype_thresholds.get(st, 0.5):
                out[lab][st] = p
    return {lab: dict(sorted(v.items(), key=lambda kv: -kv[1])) for lab, v in out.items()}


def no_subtypes(config: Any, labels: Sequence[str]) -> dict[str, dict[str, float]] | None:
    return {lab: {} for lab in labels} if config.subtypes_shipped else None


def name_subtypes(evidence: Sequence[Any], subs: dict[str, dict[str, float]] | None) -> tuple[Any, ...]:
    """Evidence spans with ``subtype`` set to the text's top sub-type of their label (unchanged if none)."""
    if not subs:
        return tuple(evidence)
    return tuple(dataclasses.replace(e, subtype=next(iter(subs[e.label]))) if subs.get(e.label) else e
                 for e in evidence)


def subtype_targets(rows: Sequence[dict[str, Any]], outputs: Sequence[tuple[str, str]],
                    field: str = "subtypes") -> list[list[int]]:
    """0/1 per (label, sub-type) output from each row's list of sub-type names (a row's ``field``)."""
    out = []
    for i, r in enumerate(rows):
        v = r.get(field)
        if v is None:
            raise ValueError(f"row {i} has no {field!r} column (a list of sub-type names) but sub-types were asked for")
        names = {v} if isinstance(v, str) else set(v)
        out.append([int(st in names) for _, st in outputs])
    return out


def fit_subtypes(det: Any, val_logits: Sequence[Any], val_rows: Sequence[dict[str, Any]],
                 test_logits: Sequence[Any], test_rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Thresholds on validation, the test report per sub-type, and which sub-types ship; stored in ``det.config``."""
    import torch

    from .metrics import best_threshold, prf

    cfg = det.config
    outs = cfg.subtype_outputs
    base = len(cfg.labels)
    yv, yt = subtype_targets(val_rows, outs), subtype_targets(test_rows, outs) if test_rows else []
    report: dict[str, Any] = {}
    shipped = []
    for k, (lab, st) in enumerate(outs):
        pv = [float(torch.sigmoid(lg[base + k])) for lg in val_logits]
        thr = best_threshold(pv, [y[k] for y in yv]) if any(y[k] for y in yv) else 0.5
        cfg.subtype_thresholds[st] = round(thr, 4)
        if not test_rows:
            continue
        gold = [y[k] for y in yt]
        pred = [int(float(torch.sigmoid(lg[base + k])) >= thr) for lg in test_logits]
        m = prf(gold, pred)
        report[st] = {"label": lab, "positives": sum(gold), "precision": m["precision"], "recall": m["recall"],
                      "f1": m["f1"]}
        if m["f1"] >= SHIP_MIN_F1 and sum(gold) >= SHIP_MIN_POSITIVES:
            shipped.append(st)
    cfg.subtypes_shipped = shipped
    if test_rows:
        cfg.metrics["test_subtypes"] = report
    return report
