"""Output of ``framing score``: record writers, atomic output files, reading records back, group reports.

Writers append whole chunks with one write and flush. ``framing score``'s partial
output and checkpoint are in framing.checkpoint; :func:`resume_point` continues an
OUTPUT written in place by an older ``--resume`` (a partial last record is cut
off). :class:`OutputTarget` writes a temporary file beside OUTPUT and renames it
into place at the end (``--engine ray``); reports are written the same way.
Parquet output holds scores as a struct per label (:func:`arrow_schema`).
"""
from __future__ import annotations

import csv
import io
import json
import os
import secrets
import sys
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO, Iterable, Iterator, Sequence

from .io import DELIMITERS, csv_records, decoded_lines

__all__ = ["Writer", "OutputTarget", "open_writer", "arrow_schema", "records_to_table", "record_from_row", "resume_point",
           "read_output", "write_report", "RESULT_KEYS"]


def arrow_schema(labels: Sequence[str], id_field: str | None, keep: Sequence[str], in_schema: Any = None) -> Any:
    """Parquet output schema: scores as a struct per label; ids and kept columns keep Parquet input types."""
    import pyarrow as pa

    def typ(name: str | None) -> Any:
        return in_schema.field(name).type if in_schema is not None and name in in_schema.names else pa.string()

    ev = pa.struct([("label", pa.string()), ("start", pa.int64()), ("end", pa.int64()), ("surface", pa.string()),
                    ("source", pa.string()), ("term", pa.string()), ("weight", pa.float64())])
    return pa.schema([("id", pa.int64() if id_field is None else typ(id_field)),
                      ("labels", pa.list_(pa.string())), ("scores", pa.struct([(lab, pa.float64()) for lab in labels])),
                      ("language", pa.string()), ("evidence", pa.list_(ev)), ("error", pa.string()),
                      ("truncated", pa.bool_()), *[(k, typ(k)) for k in keep]])


def records_to_table(records: list[dict[str, Any]], schema: Any) -> Any:
    """Output records as a pyarrow Table of :func:`arrow_schema`; string columns hold other JSON values as text."""
    import pyarrow as pa

    for c in [f.name for f in schema if pa.types.is_string(f.type)]:
        for r in records:
            v = r.get(c)
            if v is not None and not isinstance(v, str):
                r[c] = _dumps(v)
    return pa.Table.from_pylist(records, schema=schema)


#: what a scored row adds; an error row has ``error`` instead
RESULT_KEYS = ("labels", "scores", "language", "evidence", "truncated")


def record_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with every output column (Arrow/Parquet: nulls where unused) in the shape of a scored record."""
    if row.get("error"):
        return {k: v for k, v in row.items() if k not in RESULT_KEYS}
    return {k: v for k, v in row.items() if k != "error" and (k != "truncated" or v)}


# ---- writers -----------------------------------------------------------------------------------------
def _json_default(o: Any) -> Any:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, (bytes, bytearray)):
        return bytes(o).decode("utf-8", "backslashreplace")
    return str(o)


def _dumps(o: Any) -> str:
    return json.dumps(o, ensure_ascii=False, default=_json_default)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    return _dumps(v)


class Writer:
    """Appends lists of output records (dicts) to a binary stream in one format."""

    def __init__(self, stream: BinaryIO, fmt: str, columns: Sequence[str], *, header: bool = True,
                 arrow_schema: Any = None, row_group_size: int = 8192) -> None:
        self.stream, self.fmt, self.columns = stream, fmt, tuple(columns)
        self._pq: Any = None
        self._buf: list[dict[str, Any]] = []
        self._rg = row_group_size
        if fmt == "parquet":
            import pyarrow.parquet as pq

            self._schema = arrow_schema
            self._pq = pq.ParquetWriter(stream, arrow_schema)
        elif fmt in DELIMITERS and header:
            self._write_csv([dict(zip(self.columns, self.columns))])

    def _write_csv(self, records: Iterable[dict[str, Any]]) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=DELIMITERS[self.fmt])
        for r in records:
            w.writerow([_cell(r.get(c)) for c in self.columns])
        self.stream.write(buf.getvalue().encode("utf-8", "backslashreplace"))

    def write(self, records: list[dict[str, Any]]) -> None:
        """Write records and flush (Parquet buffers whole row groups instead)."""
        if self.fmt == "jsonl":
            self.stream.write("".join(_dumps(r) + "\n" for r in records).encode("utf-8", "backslashreplace"))
        elif self.fmt == "parquet":
            self._buf.extend(records)
            if len(self._buf) >= self._rg:
                self._flush_parquet()
            return
        else:
            self._write_csv(records)
        self.stream.flush()

    def _flush_parquet(self) -> None:
        if self._buf:
            self._pq.write_table(records_to_table(self._buf, self._schema))
            self._buf = []

    def close(self) -> None:
        if self._pq is not None:
            self._flush_parquet()
            self._pq.close()
        self.stream.flush()


class OutputTarget:
    """Where output goes: stdout, OUTPUT in place (``append``, for --resume), or a temp file renamed at the end."""

    def __init__(self, path: str, append: bool) -> None:
        self.path, self.append = path, append
        self.tmp: Path | None = None
        self.stream: BinaryIO | None = None

    def open(self) -> BinaryIO:
        if self.path == "-":
            self.stream = sys.stdout.buffer
        elif self.append:
            self.stream = open(self.path, "ab")
        else:
            p = Path(self.path)
            while True:
                self.tmp = p.with_name(f".{p.name}.{secrets.token_hex(4)}.part")
                try:
                    self.stream = open(self.tmp, "xb")  # "x": normal permissions, never clobbers
                    break
                except FileExistsError:  # pragma: no cover - 32 random bits
                    continue
        return self.stream

    def commit(self) -> None:
        """Close, and atomically move the temp file onto OUTPUT."""
        if self.stream is not None and self.path != "-":
            self.stream.close()
        if self.tmp is not None:
            os.replace(self.tmp, self.path)
            self.tmp = None

    def abort(self) -> None:
        """Close and remove the temp file (OUTPUT in place is kept: it is a valid prefix to resume from)."""
        if self.stream is not None and self.path != "-":
            try:
                self.stream.close()
            except OSError:  # pragma: no cover
                pass
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)
            self.tmp = None


def open_writer(target: OutputTarget, fmt: str, columns: Sequence[str], arrow_schema: Any = None) -> Writer:
    stream = target.open()
    header = not (target.append and target.path != "-" and os.path.getsize(target.path) > 0)
    return Writer(stream, fmt, columns, header=header, arrow_schema=arrow_schema)


# ---- resume --------------------------------------------------------------------------------------------
def resume_point(path: str, fmt: str, columns: Sequence[str]) -> int:
    """Records already complete in OUTPUT; cuts a partial last record off the file. 0 if absent/empty."""
    if fmt == "parquet":
        raise ValueError(f"cannot resume from {path}: it is a finished Parquet file (an interrupted run continues "
                         f"from {path}.partial, and there is none); rerun without --resume to score again")
    p = Path(path)
    if not p.exists():
        return 0
    good, count, size = 0, 0, p.stat().st_size
    with open(p, "rb") as f:
        if fmt == "jsonl":
            for raw in f:
                if not raw.endswith(b"\n"):
                    break  # only the last line can lack its newline
                good += len(raw)
                count += 1
        else:
            state: list[Any] = [0, False]  # bytes consumed, did the last line pulled end with a newline
            recs = csv_records(decoded_lines(f, state, "replace"), fmt, strict=True)
            for i, rec in enumerate(recs):
                if isinstance(rec, csv.Error) or not rec or not state[1]:
                    rec = []  # broken, or cut before its newline
                if i == 0 and rec and tuple(rec) != tuple(columns):
                    raise ValueError(f"cannot resume: {path} has columns {', '.join(rec)}, this run writes "
                                     f"{', '.join(columns)}; use the same options or a new OUTPUT")
                if len(rec) != len(columns):
                    if state[0] < size:
                        raise ValueError(f"cannot resume: {path} is damaged at record {i} (not a partial last "
                                         "record); use a new OUTPUT")
                    break
                count += i > 0
                good = state[0]
    if good < size:
        os.truncate(p, good)
    return count


def read_output(path: str, fmt: str, columns: Sequence[str], n: int) -> Iterator[dict[str, Any]]:
    """The first ``n`` records of an output file, parsed back (nested CSV cells decoded from JSON)."""
    if n == 0:
        return
    with open(path, "rb") as f:
        if fmt == "jsonl":
            for i, raw in enumerate(f):
                if i >= n:
                    return
                try:
                    yield json.loads(raw)
                except ValueError as e:
                    raise ValueError(f"cannot resume: line {i + 1} of {path} is not JSON ({e})") from e
            return
        recs = csv_records(decoded_lines(f, None, "replace"), fmt, strict=True)
        next(recs, None)  # header
        for i, rec in enumerate(recs):
            if i >= n:
                return
            if isinstance(rec, csv.Error):
                raise ValueError(f"cannot resume: record {i + 1} of {path} is not valid {fmt.upper()}")
            d: dict[str, Any] = dict(zip(columns, rec))
            for k in ("labels", "scores", "evidence"):
                d[k] = json.loads(d[k]) if d.get(k) else None
            d["error"] = d.get("error") or None
            d["truncated"] = d.get("truncated") == "true" or None
            yield record_from_row(d)


# ---- reports -------------------------------------------------------------------------------------------
def write_report(rows: Sequence[dict[str, Any]], path: str, labels: Sequence[str]) -> None:
    """Write per-group report rows (from :meth:`framing.score.GroupStats.to_dict`) as CSV or JSON."""
    ext = os.path.splitext(path.lower())[1]
    if ext not in (".csv", ".json"):
        raise ValueError(f"report must be .csv or .json, got {path!r}")
    tmp = Path(path).with_name(f".{Path(path).name}.{secrets.token_hex(4)}.part")
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        if ext == ".json":
            json.dump(list(rows), f, ensure_ascii=False, indent=2, default=_json_default)
            f.write("\n")
        else:
            _report_csv(rows, f, labels)
    os.replace(tmp, path)


def _report_csv(rows: Sequence[dict[str, Any]], f: IO[str], labels: Sequence[str]) -> None:
    cols = ["group", "rows", "errors", "scored", *[f"n_{lab}" for lab in labels],
            *[f"rate_{lab}" for lab in labels], "n_any", "rate_any", "first", "last", "top_terms"]
    w = csv.writer(f)
    w.writerow(cols)
    for r in rows:
        w.writerow([r["group"], r["rows"], r["errors"], r["scored"], *[r["label_rows"][lab] for lab in labels],
                    *[r["rates"][lab] for lab in labels], r["any_rows"], r["any_rate"],
                    _cell(r["first"]), _cell(r["last"]),
                    "; ".join(f"{t}:{c}" for t, c in r["top_terms"])])
