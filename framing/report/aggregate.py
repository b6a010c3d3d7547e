"""One streaming pass over scored records, keeping only counters and a reservoir of examples.

Memory grows with the number of labels, languages, groups, sub-types and time
buckets, never with the number of records: term counters are pruned to their
most frequent entries when they grow past a cap, the time buckets are capped,
and the examples are a fixed-size uniform random sample (reservoir sampling)
per label.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..io import time_key

__all__ = ["Aggregator", "Example", "MAX_TERMS", "MAX_BUCKETS", "MAX_TEXT"]

MAX_TERMS = 5000  # per label (and per label x sub-type); pruned to half when exceeded
MAX_BUCKETS = 50_000  # distinct days (about 137 years); later new days are counted as out of range
MAX_TEXT = 2000  # characters of an example text that are kept and shown
DAY = 86400.0


@dataclass
class Example:
    """One sampled record of a label: its text (may be None) and the evidence spans to highlight."""

    id: Any
    text: str | None
    truncated: bool
    spans: list[dict[str, Any]]
    bad_spans: int
    scores: dict[str, float]
    language: str
    group: str | None
    time: Any


@dataclass
class _Group:
    scored: int = 0
    any: int = 0
    labels: Counter = field(default_factory=Counter)


def _subtype_of(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v] if v else []
    if isinstance(v, Mapping):  # Detection.subtypes: {sub-type: score}
        return [str(k) for k in v if isinstance(k, str) and k]
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if isinstance(x, (str, int)) and str(x)]
    return []


class Aggregator:
    """Feed records with :meth:`add`; read the totals from its attributes afterwards."""

    def __init__(self, *, group_by: str | None = None, time_field: str | None = None, text_field: str = "text",
                 examples: int = 5, seed: int = 0) -> None:
        self.group_by, self.time_field, self.text_field = group_by, time_field, text_field
        self.k = examples
        self.rng = random.Random(seed)
        self.rows = self.errors = self.any = 0
        self.error_reasons: Counter[str] = Counter()
        self.labels: dict[str, None] = {}  # in order of first appearance (scores' key order)
        self.lang_rows: Counter[str] = Counter()
        self.lang_any: Counter[str] = Counter()
        self.label_lang: Counter[tuple[str, str]] = Counter()
        self.min_score: dict[tuple[str, str], float] = {}  # lowest score among flagged rows, per label x language
        self.groups: dict[str, _Group] = {}
        self.group_field_seen = 0
        self.days: dict[int, list[Any]] = {}  # day number -> [scored rows, any, Counter of labels]
        self.time_seen = self.time_unparsed = self.time_out_of_range = 0
        self.terms: dict[str, Counter[str]] = {}  # lexicon cue terms per label
        self.model_terms: dict[str, Counter[str]] = {}  # surfaces of model-attributed spans per label
        self.subtype_rows: Counter[tuple[str, str]] = Counter()
        self.subtype_terms: dict[tuple[str, str], Counter[str]] = {}
        self.evidence_sources: Counter[tuple[str, str]] = Counter()
        self.flagged_seen: Counter[str] = Counter()
        self.reservoir: dict[str, list[Example]] = {}
        self.text_seen = 0

    # ---- one record ------------------------------------------------------------------------------------
    def add(self, rec: Mapping[str, Any]) -> None:
        self.rows += 1
        err = rec.get("error")
        if err:
            self.errors += 1
            if len(self.error_reasons) < 200 or str(err)[:80] in self.error_reasons:
                self.error_reasons[str(err)[:80]] += 1
            return
        scores = rec.get("scores") if isinstance(rec.get("scores"), Mapping) else {}
        for lab in scores:
            self.labels.setdefault(str(lab), None)
        hits = [str(x) for x in (rec.get("labels") or ()) if isinstance(x, str)]
        for lab in hits:
            self.labels.setdefault(lab, None)
        lang = str(rec.get("language") or "other")
        self.lang_rows[lang] += 1
        if hits:
            self.any += 1
            self.lang_any[lang] += 1
        for lab in hits:
            self.label_lang[(lab, lang)] += 1
            s = scores.get(lab)
            if isinstance(s, (int, float)):
                key = (lab, lang)
                self.min_score[key] = min(self.min_score.get(key, 1.0), float(s))
        group = self._group(rec, hits)
        when = self._time(rec, hits)
        evidence = [e for e in (rec.get("evidence") or ()) if isinstance(e, Mapping)]
        self._terms(evidence)
        subs = rec.get("subtypes")
        if isinstance(subs, Mapping):
            for lab, v in subs.items():
                for st in _subtype_of(v):
                    self.subtype_rows[(str(lab), st)] += 1
        text = rec.get(self.text_field)
        if isinstance(text, str):
            self.text_seen += 1
        for lab in hits:
            self._sample(lab, rec, text if isinstance(text, str) else None, evidence, scores, lang, group, when)

    def _group(self, rec: Mapping[str, Any], hits: list[str]) -> str | None:
        if self.group_by is None:
            return None
        v = rec.get(self.group_by)
        if v is None or v == "":
            key = "(missing)"
        else:
            key = str(v)
            self.group_field_seen += 1
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = _Group()
        g.scored += 1
        g.any += bool(hits)
        g.labels.update(hits)
        return key

    def _time(self, rec: Mapping[str, Any], hits: list[str]) -> Any:
        if self.time_field is None:
            return None
        v = rec.get(self.time_field)
        k = time_key(v)
        if k is None:
            return None
        self.time_seen += 1
        if k[0] != 0:
            self.time_unparsed += 1
            return v
        day = int(k[1] // DAY)
        b = self.days.get(day)
        if b is None:
            if len(self.days) >= MAX_BUCKETS:
                self.time_out_of_range += 1
                return v
            b = self.days[day] = [0, 0, Counter()]
        b[0] += 1
        b[1] += bool(hits)
        b[2].update(hits)
        return v

    def _terms(self, evidence: list[Mapping[str, Any]]) -> None:
        for e in evidence:
            lab = str(e.get("label") or "")
            term = str(e.get("term") or e.get("surface") or "").strip().lower()
            if not lab or not term:
                continue
            source = str(e.get("source") or "?")
            self.evidence_sources[(lab, source)] += 1
            table = self.model_terms if source == "model" else self.terms
            c = table.setdefault(lab, Counter())
            c[term] += 1
            if len(c) > MAX_TERMS:
                table[lab] = Counter(dict(c.most_common(MAX_TERMS // 2)))
            st = e.get("subtype")
            if isinstance(st, str) and st:
                key = (lab, st)
                sc = self.subtype_terms.setdefault(key, Counter())
                sc[term] += 1
                if len(sc) > MAX_TERMS:
                    self.subtype_terms[key] = Counter(dict(sc.most_common(MAX_TERMS // 2)))

    def _sample(self, lab: str, rec: Mapping[str, Any], text: str | None, evidence: list[Mapping[str, Any]],
                scores: Mapping[str, Any], lang: str, group: str | None, when: Any) -> None:
        self.flagged_seen[lab] += 1
        res = self.reservoir.setdefault(lab, [])
        n = self.flagged_seen[lab]
        if len(res) < self.k:
            slot = len(res)
            res.append(None)  # type: ignore[arg-type]
        else:
            slot = self.rng.randrange(n)
            if slot >= self.k:
                return
        res[slot] = _example(rec, text, evidence, scores, lang, group, when)

    # ---- results -----------------------------------------------------------------------------------------
    @property
    def scored(self) -> int:
        return self.rows - self.errors

    def label_count(self, lab: str) -> int:
        return sum(n for (la, _), n in self.label_lang.items() if la == lab)


def _example(rec: Mapping[str, Any], text: str | None, evidence: list[Mapping[str, Any]], scores: Mapping[str, Any],
             lang: str, group: str | None, when: Any) -> Example:
    """An example with only the spans that really index its text (``bad_spans`` counts the others)."""
    spans, bad = [], 0
    truncated = text is not None and len(text) > MAX_TEXT
    shown = text[:MAX_TEXT] if text is not None else None
    for e in evidence:
        s, t = e.get("start"), e.get("end")
        if text is None:  # no text to highlight in: keep what the evidence says
            spans.append({"label": str(e.get("label") or ""), "surface": str(e.get("surface") or ""),
                          "source": str(e.get("source") or ""), "term": e.get("term"), "subtype": e.get("subtype")})
            continue
        ok = (text is not None and isinstance(s, int) and isinstance(t, int) and 0 <= s < t <= len(text)
              and (e.get("surface") is None or text[s:t] == e.get("surface")))
        if not ok:
            bad += 1
            continue
        if t > MAX_TEXT:  # beyond the part shown
            continue
        spans.append({"label": str(e.get("label") or ""), "start": s, "end": t, "source": str(e.get("source") or ""),
                      "term": e.get("term"), "subtype": e.get("subtype")})
    return Example(id=rec.get("id"), text=shown, truncated=truncated, spans=spans, bad_spans=bad,
                   scores={str(k): v for k, v in scores.items() if isinstance(v, (int, float))}, language=lang,
                   group=group, time=when)
