"""From the aggregates to the report's tables, charts and HTML (Jinja2, autoescaped).

Every string from the data goes through Jinja2's autoescaping (or
:func:`markupsafe.escape` in :func:`highlight`) and sits in a ``<bdi>`` element, so
markup, bidi overrides and invisible characters in texts, group names or terms
can neither run nor reorder the page around them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .aggregate import Aggregator, Example
from .charts import bucket_size, bucket_start, rates_chart, time_chart

__all__ = ["highlight", "context", "render_html"]

_TEMPLATES = Path(__file__).with_name("templates")
MIN_POINT = 5  # a bucket with fewer scored posts has no rate point (a rate of 1 post in 2 is noise)


def highlight(text: str, spans: Sequence[dict[str, Any]], label_class: dict[str, int]) -> Any:
    """``text`` escaped, with each evidence span in ``<mark class="ev lN" data-label=...>`` (overlaps: first wins)."""
    from markupsafe import Markup, escape

    out, pos = [], 0
    for sp in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        s, e = sp["start"], sp["end"]
        if s < pos:
            continue
        title = f"{sp['label']} ({sp['source']}" + (f", {sp['subtype']}" if sp.get("subtype") else "") + ")"
        out.append(escape(text[pos:s]))
        out.append(Markup('<mark class="ev l{}" data-label="{}" title="{}">{}</mark>').format(
            label_class.get(sp["label"], 0), sp["label"], title, text[s:e]))
        pos = e
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def _rate(n: int, d: int) -> float:
    return n / d if d else 0.0


def _group_tables(agg: Aggregator, labels: list[str], min_support: int, top: int) -> list[dict[str, Any]]:
    tables = []
    for lab in ["(any label)", *labels]:
        def hits(g: Any, lab: str = lab) -> int:
            return g.any if lab == "(any label)" else g.labels.get(lab, 0)

        items = [(k, g.scored, hits(g)) for k, g in agg.groups.items()]
        supported = [t for t in items if t[1] >= min_support]
        by_rate = sorted(supported, key=lambda t: (-_rate(t[2], t[1]), -t[2], t[0]))[:top]
        by_count = sorted((t for t in items if t[2]), key=lambda t: (-t[2], -t[1], t[0]))[:top]
        tables.append({"label": lab, "eligible": len(supported),
                       "by_rate": [(k, n, h, _rate(h, n)) for k, n, h in by_rate if h],
                       "by_count": [(k, n, h, _rate(h, n)) for k, n, h in by_count]})
    return tables


def _time_series(agg: Aggregator, labels: list[str], min_support: int) -> dict[str, Any] | None:
    if not agg.days:
        return None
    size = bucket_size(min(agg.days), max(agg.days))
    series: dict[int, list[Any]] = {}
    for day, (n, anyn, c) in agg.days.items():
        b = series.setdefault(bucket_start(day, size), [0, 0, {}])
        b[0] += n
        b[1] += anyn
        for lab, k in c.items():
            b[2][lab] = b[2].get(lab, 0) + k
    from datetime import date, timedelta

    def iso(d: int) -> str:
        return (date(1970, 1, 1) + timedelta(days=d)).isoformat()

    supported = [kv for kv in series.items() if kv[1][0] >= min_support]
    peaks = []
    for lab in labels:
        if supported:
            d, b = max(supported, key=lambda kv: (_rate(kv[1][2].get(lab, 0), kv[1][0]), kv[0]))
            peaks.append((lab, iso(d), b[2].get(lab, 0), b[0], _rate(b[2].get(lab, 0), b[0])))
    return {"size": size, "buckets": len(series), "first": iso(min(agg.days)), "last": iso(max(agg.days)),
            "chart": time_chart(labels, series, size, MIN_POINT), "min_point": MIN_POINT, "peaks": peaks,
            "supported": len(supported)}


def context(agg: Aggregator, *, source: str, model: dict[str, Any] | None, model_note: str | None,
            min_support: int, top: int, title: str | None) -> dict[str, Any]:
    """Everything the template shows, computed from the aggregates only."""
    labels = list(agg.labels)
    label_class = {lab: i % 6 for i, lab in enumerate(labels)}
    langs = [lg for lg, _ in agg.lang_rows.most_common()]
    rate = {(lab, lg): _rate(agg.label_lang[(lab, lg)], agg.lang_rows[lg]) for lab in labels for lg in langs}
    totals = [{"lang": lg, "rows": agg.lang_rows[lg], "any": agg.lang_any[lg],
               "cells": [(agg.label_lang[(lab, lg)], rate[(lab, lg)], agg.min_score.get((lab, lg))) for lab in labels]}
              for lg in langs]
    overall = [(agg.label_count(lab), _rate(agg.label_count(lab), agg.scored)) for lab in labels]
    terms = {lab: agg.terms[lab].most_common(top) if lab in agg.terms else [] for lab in labels}
    model_terms = {lab: agg.model_terms[lab].most_common(top) if lab in agg.model_terms else [] for lab in labels}
    subtypes = sorted({st for (_, st) in agg.subtype_rows} | {st for (_, st) in agg.subtype_terms})
    sub_tables = [{"label": lab, "subtype": st, "rows": agg.subtype_rows.get((lab, st), 0),
                   "terms": agg.subtype_terms.get((lab, st), {}) and agg.subtype_terms[(lab, st)].most_common(10)}
                  for lab in labels for st in subtypes
                  if agg.subtype_rows.get((lab, st)) or agg.subtype_terms.get((lab, st))]
    examples = {lab: [_example_view(ex, label_class) for ex in agg.reservoir.get(lab, [])] for lab in labels}
    sources = {lab: {src: n for (la, src), n in agg.evidence_sources.items() if la == lab} for lab in labels}
    return {
        "title": title or f"framing report: {Path(source).name}", "source": Path(source).name,
        "labels": labels, "label_class": label_class, "rows": agg.rows, "errors": agg.errors,
        "scored": agg.scored, "any": agg.any, "any_rate": _rate(agg.any, agg.scored),
        "error_reasons": agg.error_reasons.most_common(5), "overall": overall, "totals": totals,
        "rates_chart": rates_chart(labels, langs, rate) if labels and langs else None,
        "group_by": agg.group_by, "group_seen": agg.group_field_seen, "n_groups": len(agg.groups),
        "group_tables": _group_tables(agg, labels, min_support, top) if agg.group_by else [],
        "min_support": min_support, "top": top,
        "time_field": agg.time_field, "time_seen": agg.time_seen, "time_unparsed": agg.time_unparsed,
        "time_out_of_range": agg.time_out_of_range, "time": _time_series(agg, labels, min_support),
        "terms": terms, "model_terms": model_terms, "sources": sources, "sub_tables": sub_tables, "subtypes": subtypes,
        "text_field": agg.text_field, "text_seen": agg.text_seen, "examples": examples,
        "flagged_seen": dict(agg.flagged_seen), "k": agg.k,
        "model": model, "model_note": model_note,
    }


def _example_view(ex: Example, label_class: dict[str, int]) -> dict[str, Any]:
    return {"id": ex.id, "group": ex.group, "time": ex.time, "language": ex.language, "scores": ex.scores,
            "truncated": ex.truncated, "bad_spans": ex.bad_spans, "spans": ex.spans,
            "html": highlight(ex.text, ex.spans, label_class) if ex.text is not None else None}


def render_html(ctx: dict[str, Any]) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda x, d=1: f"{100 * x:.{d}f}%"
    env.filters["num"] = lambda n: f"{n:,}"
    return env.get_template("report.html.j2").render(**ctx)
