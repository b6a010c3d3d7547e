"""Counters of a ``framing score`` run: rows, errors, truncated rows, rows per label, and per-group stats.

Only counters are kept (one set per distinct group value), so memory does not grow with rows.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .io import plain, time_key

__all__ = ["GroupStats", "Tally"]

_MAX_TERMS = 2000  # per group; pruned to half when exceeded, so memory stays bounded


@dataclass(frozen=True)
class GroupStats:
    """Per-group counts for the report; rates are over scored (non-error) rows."""

    group: str
    rows: int
    errors: int
    label_rows: dict[str, int]
    any_rows: int
    first: Any
    last: Any
    top_terms: tuple[tuple[str, int], ...]

    @property
    def scored(self) -> int:
        return self.rows - self.errors

    @property
    def rates(self) -> dict[str, float]:
        return {lab: round(n / self.scored, 6) if self.scored else 0.0 for lab, n in self.label_rows.items()}

    @property
    def any_rate(self) -> float:
        return round(self.any_rows / self.scored, 6) if self.scored else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "rows": self.rows, "errors": self.errors, "scored": self.scored,
                "label_rows": dict(self.label_rows), "rates": self.rates, "any_rows": self.any_rows,
                "any_rate": self.any_rate, "first": self.first, "last": self.last,
                "top_terms": [list(t) for t in self.top_terms]}


class _Group:
    __slots__ = ("rows", "errors", "labels", "any", "first", "last", "terms")

    def __init__(self, n_labels: int) -> None:
        self.rows = self.errors = self.any = 0
        self.labels = [0] * n_labels
        self.first: tuple[Any, Any] | None = None
        self.last: tuple[Any, Any] | None = None
        self.terms: Counter[str] = Counter()


class Tally:
    """Run counters and, when grouping, one :class:`_Group` per group value."""

    def __init__(self, labels: Sequence[str], group_by: str | None, time_field: str | None, grouped: bool) -> None:
        self.labels, self.index = tuple(labels), {lab: i for i, lab in enumerate(labels)}
        self.group_by, self.time_field, self.grouped = group_by, time_field, grouped
        self.rows = self.errors = self.truncated = 0
        self.counts = [0] * len(labels)
        self.groups: dict[str, _Group] = {}

    def add(self, fields: Mapping[str, Any] | None, rec: Mapping[str, Any]) -> None:
        self.rows += 1
        err = rec.get("error")
        hits = [self.index[lab] for lab in (rec.get("labels") or ()) if lab in self.index]
        if err:
            self.errors += 1
        self.truncated += bool(rec.get("truncated"))
        for j in hits:
            self.counts[j] += 1
        if not self.grouped:
            return
        key = _group_key(fields, self.group_by)
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = _Group(len(self.labels))
        g.rows += 1
        if err:
            g.errors += 1
            return
        g.any += bool(hits)
        for j in hits:
            g.labels[j] += 1
        for e in rec.get("evidence") or ():
            term = (e.get("term") or e.get("surface") or "").strip().lower()
            if term:
                g.terms[term] += 1
        if len(g.terms) > _MAX_TERMS:
            g.terms = Counter(dict(g.terms.most_common(_MAX_TERMS // 2)))
        if self.time_field and fields is not None:
            v = fields.get(self.time_field)
            k = time_key(v)
            if k is not None:
                if g.first is None or k < g.first[0]:
                    g.first = (k, v)
                if g.last is None or k > g.last[0]:
                    g.last = (k, v)

    def stats(self) -> tuple[GroupStats, ...]:
        out = [GroupStats(group=k, rows=g.rows, errors=g.errors, label_rows=dict(zip(self.labels, g.labels)),
                          any_rows=g.any, first=plain(g.first[1]) if g.first else None,
                          last=plain(g.last[1]) if g.last else None, top_terms=tuple(g.terms.most_common(10)))
               for k, g in self.groups.items()]
        return tuple(sorted(out, key=lambda s: (-s.any_rate, -s.rows, s.group)))


def _group_key(fields: Mapping[str, Any] | None, group_by: str | None) -> str:
    if group_by is None:
        return "(all)"
    if fields is None:
        return "(unreadable)"
    v = fields.get(group_by)
    return "(missing)" if v is None or v == "" else str(v)
