"""Read ``framing score`` output (JSONL, CSV/TSV, Parquet; ``.gz`` for text formats) as plain records, streaming.

Each record comes back as a dict in the JSONL shape: ``labels`` (list), ``scores``
(dict), ``language``, ``evidence`` (list of dicts or None), ``error`` (None when
scored) plus the kept fields. CSV cells holding JSON are decoded; a line that
cannot be read becomes a record with an ``error``, so it is counted, never fatal.
"""
from __future__ import annotations

import itertools
import json
from typing import Any, Iterator, Sequence

from ..io import guess_format, open_input

__all__ = ["ScoredFile", "open_scored"]

_NESTED = ("labels", "scores", "evidence", "subtypes")


class ScoredFile:
    """An open scored file: iterate for records; ``total`` is the record count when known (Parquet)."""

    def __init__(self, path: str, fmt: str | None = None, columns: Sequence[str] | None = None) -> None:
        self.path = path
        self.fmt = guess_format(path, fmt)
        self._reader = open_input(path, self.fmt, columns=columns, chunk=4096)
        self.total: int | None = self._reader.total
        self.columns = self._reader.columns
        if self.columns is not None and not {"labels", "scores"} <= set(self.columns):
            self._reader.close()
            raise ValueError(f"{path} is not `framing score` output: it has no 'labels' and 'scores' columns "
                             f"(columns: {', '.join(self.columns)})")
        self._rows = iter(self._reader)
        if self.columns is None:  # JSONL: look at the first records
            head = list(itertools.islice(self._rows, 100))
            objs = [r.fields for r in head if r.fields is not None]
            if objs and not any("labels" in o or "error" in o for o in objs):
                self._reader.close()
                raise ValueError(f"{path} is not `framing score` output: none of its first {len(objs)} records "
                                 "has 'labels' or 'error'")
            self._rows = itertools.chain(head, self._rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        csv_like = self.fmt in ("csv", "tsv")
        for row in self._rows:
            if row.fields is None:
                yield {"error": f"unreadable record {row.n}: {row.error}"}
                continue
            rec = row.fields
            if csv_like:
                rec = _decode_cells(rec, row.n)
            yield rec

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> "ScoredFile":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _decode_cells(rec: dict[str, Any], n: int) -> dict[str, Any]:
    out = dict(rec)
    for k in _NESTED:
        v = out.get(k)
        if isinstance(v, str):
            if not v:
                out[k] = None
                continue
            try:
                out[k] = json.loads(v)
            except ValueError:
                return {"error": f"record {n}: the {k!r} cell is not JSON"}
    out["error"] = out.get("error") or None
    return out


def open_scored(path: str, fmt: str | None = None, columns: Sequence[str] | None = None) -> ScoredFile:
    """Open a scored file for one streaming pass (see :class:`ScoredFile`)."""
    return ScoredFile(path, fmt, columns)
