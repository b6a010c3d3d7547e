"""Frame sub-types: extra head rows after the labels, reported only where they were measured to work.

A model trained with sub-types (``TrainingArguments.subtypes``) has one output per
(label, sub-type) after its label outputs. Their thresholds are fitted on
validation; a sub-type is SHIPPED (listed in ``DetectorConfig.subtypes_shipped``,
reported in ``Detection.subtypes``) only when its positive-class F1 on the test
split reached the bar (0.70, with at least 30 test positives); the others stay in
the weights, unreported, and the model card says so. A sub-type is reported only
under a label the text got. An evidence span is named after one of its label's reported
sub-types only when the span's own text, scored alone, clears that sub-type's threshold.
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


def name_subtypes(det: Any, evidence: Sequence[Any], subs: dict[str, dict[str, float]] | None) -> tuple[Any, ...]:
    """Evidence spans with ``subtype`` set where the span ITSELF carries one of the text's reported sub-types.

    Each span's surface is scored on its own; a span is named after the highest-scoring of its
    label's reported sub-types that clears its threshold on the span alone, else left unnamed
    (so "masked thugs" is not called media dismissal because the text also says "fake news").
    """
    import torch

    if not subs or not any(subs.values()) or not evidence:
        return tuple(evidence)
    cfg = det.config
    index = {o: len(cfg.labels) + k for k, o in enumerate(cfg.subtype_outputs)}
    span_logits, _ = det.logits_many([e.surface for e in evidence])
    out = []
    for e, lg in zip(evidence, span_logits):
        best, best_p = None, -1.0
        for st in subs.get(e.label, {}):
            p = float(torch.sigmoid(lg[index[(e.label, st)]]))
            if p >= cfg.subtype_thresholds.get(st, 0.5) and p > best_p:
                best, best_p = st, p
        out.append(dataclasses.replace(e, subtype=best) if best else e)
    return tuple(out)


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


def _label_gate(cfg: Any, logits: Sequence[Any], rows: Sequence[dict[str, Any]], lang_field: str) -> list[dict]:
    """Per text, label -> whether the detector gives it (calibrated score over the label's threshold)."""
    import torch

    out = []
    for lg, r in zip(logits, rows):
        lang = str(r.get(lang_field) or "")
        out.append({lab: float(torch.sigmoid(lg[j] / cfg.temperature.get(lab, 1.0))) >= cfg.threshold(lab, lang)
                    for j, lab in enumerate(cfg.labels)})
    return out


def fit_subtypes(det: Any, val_logits: Sequence[Any], val_rows: Sequence[dict[str, Any]],
                 test_logits: Sequence[Any], test_rows: Sequence[dict[str, Any]],
                 lang_field: str = "lang") -> dict[str, Any]:
    """Thresholds on validation, the test report per sub-type, and which sub-types ship; stored in ``det.config``.

    A sub-type counts as predicted only where its label is (that is all ``Detection.subtypes``
    reports), so thresholds are fitted and F1 is measured on that gated prediction, over all texts.
    """
    import torch

    from .metrics import best_threshold, prf

    cfg = det.config
    outs = cfg.subtype_outputs
    base = len(cfg.labels)
    yv, yt = subtype_targets(val_rows, outs), subtype_targets(test_rows, outs) if test_rows else []
    gv = _label_gate(cfg, val_logits, val_rows, lang_field)
    gt = _label_gate(cfg, test_logits, test_rows, lang_field) if test_rows else []
    report: dict[str, Any] = {}
    shipped = []
    for k, (lab, st) in enumerate(outs):
        pv = [float(torch.sigmoid(lg[base + k])) if g[lab] else 0.0 for lg, g in zip(val_logits, gv)]
        thr = best_threshold(pv, [y[k] for y in yv]) if any(y[k] for y in yv) else 0.5
        thr = max(thr, 1e-6)  # a text without the label never gets its sub-types
        cfg.subtype_thresholds[st] = round(thr, 4)
        if not test_rows:
            continue
        gold = [y[k] for y in yt]
        pred = [int(g[lab] and float(torch.sigmoid(lg[base + k])) >= thr) for lg, g in zip(test_logits, gt)]
        m = prf(gold, pred)
        report[st] = {"label": lab, "positives": sum(gold), "precision": m["precision"], "recall": m["recall"],
                      "f1": m["f1"]}
        if m["f1"] >= SHIP_MIN_F1 and sum(gold) >= SHIP_MIN_POSITIVES:
            shipped.append(st)
    cfg.subtypes_shipped = shipped
    if test_rows:
        cfg.metrics["test_subtypes"] = report
    return report
