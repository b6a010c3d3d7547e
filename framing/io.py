"""Streaming readers and writers for ``framing score``: JSONL, CSV, TSV, Parquet, standard streams.

Readers yield one :class:`Row` per input record, in order, and never raise on a bad
record: a line that is not UTF-8, not JSON or not an object becomes a row with an
``error``. Files are read as bytes and decoded record by record so that one bad
byte costs one row, not the run. Writers append whole chunks with one write and
flush, so a killed run leaves complete records plus at most one partial record,
which :func:`resume_point` cuts off. Memory is bounded by the chunk size.
"""
from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import os
import re
import secrets
import sys
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Any, BinaryIO, Iterable, Iterator, Sequence

__all__ = ["FORMATS", "Row", "Reader", "Writer", "OutputTarget", "guess_format", "open_input", "open_writer",
           "parse_jsonl_line", "check_columns", "peek_text_field", "arrow_schema", "records_to_table", "resume_point",
           "read_output", "time_key", "plain", "write_report"]

FORMATS = ("jsonl", "csv", "tsv", "parquet")
_EXT = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
        ".parquet": "parquet", ".pq": "parquet"}
_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\ud800-\udfff]")
_DELIM = {"csv": ",", "tsv": "\t"}


@dataclass(frozen=True)
class Row:
    """One input record: its 1-based number (0: not known here), its fields (None when unreadable) and why it
    is unreadable."""

    n: int
    fields: dict[str, Any] | None
    error: str | None = None


def guess_format(path: str, explicit: str | None = None, *, output: bool = False) -> str:
    """The format named by ``explicit``, else by the file extension (``-`` means JSONL)."""
    what = "--output-format" if output else "--format"
    if explicit:
        if explicit.lower() not in FORMATS:
            raise ValueError(f"unknown format {explicit!r} ({what}); use one of: {', '.join(FORMATS)}")
        return explicit.lower()
    if path == "-":
        return "jsonl"
    name = path.lower()
    if name.endswith(".gz") and not output:
        name = name[:-3]
    fmt = _EXT.get(os.path.splitext(name)[1])
    if fmt is None:
        raise ValueError(f"unknown format: cannot tell the format of {path!r} from its extension; "
                         f"pass {what} ({', '.join(FORMATS)})")
    return fmt


# ---- readers -----------------------------------------------------------------------------------------
class Reader:
    """Rows of one input; ``columns`` is the header (None for JSONL), ``total`` the row count when known."""

    def __init__(self, rows: Iterator[Row], columns: tuple[str, ...] | None, total: int | None,
                 closer: Any, arrow_schema: Any = None) -> None:
        self._rows, self.columns, self.total, self._closer = rows, columns, total, closer
        self.arrow_schema = arrow_schema

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def close(self) -> None:
        if self._closer is not None:
            self._closer.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _open_bytes(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"input file not found: {path}")
    if p.is_dir():
        raise IsADirectoryError(f"input is a directory, not a file: {path}")
    if path.lower().endswith(".gz"):
        return gzip.open(p, "rb")  # type: ignore[return-value]
    return open(p, "rb")


def _jsonl_rows(stream: BinaryIO) -> Iterator[Row]:
    for n, raw in enumerate(stream, 1):
        row = parse_jsonl_line(raw, n)
        if row is not None:
            yield row


def parse_jsonl_line(raw: bytes, n: int) -> Row | None:
    """One JSONL line as a :class:`Row` (``error`` set when it is not a UTF-8 JSON object); None for a blank line."""
    if n == 1 and raw.startswith(_BOM):
        raw = raw[3:]
    line = raw.strip()
    if not line:
        return None  # a blank line is not a record (its number is still counted)
    try:
        s = line.decode("utf-8")
    except UnicodeDecodeError as e:
        return Row(n, None, f"undecodable bytes: not UTF-8 at byte {e.start}")
    try:
        obj = json.loads(s)
    except ValueError as e:
        return Row(n, None, f"invalid JSON: {getattr(e, 'msg', str(e))}")
    except RecursionError:
        return Row(n, None, "invalid JSON: nested too deeply")
    if not isinstance(obj, dict):
        return Row(n, None, f"not a JSON object but {type(obj).__name__}")
    return Row(n, obj)


def _lines(stream: BinaryIO, state: list[Any] | None = None, errors: str = "surrogateescape") -> Iterator[str]:
    """Decoded lines (line ends kept, for csv); invalid bytes become lone surrogates, detected per record.

    ``state``, when given, tracks [bytes consumed, whether the last line pulled ended with a newline].
    """
    first = True
    for raw in stream:
        if state is not None:
            state[0] += len(raw)
            state[1] = raw.endswith(b"\n")
        if first:
            first = False
            if raw.startswith(_BOM):
                raw = raw[3:]
        yield raw.decode("utf-8", errors)


def _csv_records(lines: Iterator[str], fmt: str, strict: bool = False) -> Iterator[list[str] | csv.Error]:
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(lines, delimiter=_DELIM[fmt], strict=strict)
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield e


def _csv_rows(records: Iterator[list[str] | csv.Error], header: tuple[str, ...]) -> Iterator[Row]:
    n = 0
    for rec in records:
        if rec == []:
            continue  # blank line
        n += 1
        if isinstance(rec, csv.Error):
            yield Row(n, None, f"bad CSV record: {rec}")
        elif any(_SURROGATE.search(v) for v in rec):
            yield Row(n, None, "undecodable bytes: not UTF-8")
        else:
            yield Row(n, dict(zip(header, rec)))


def open_input(path: str, fmt: str, *, columns: Sequence[str] | None = None, chunk: int = 1024) -> Reader:
    """Open ``path`` (``-`` = stdin) as a streaming :class:`Reader`; Parquet reads only ``columns``."""
    if fmt == "parquet":
        if path == "-":
            raise ValueError("Parquet cannot be read from standard input; give a file")
        import pyarrow.parquet as pq

        if not Path(path).exists():
            raise FileNotFoundError(f"input file not found: {path}")
        pf = pq.ParquetFile(path)
        names = tuple(pf.schema_arrow.names)
        cols = [c for c in dict.fromkeys(columns)] if columns is not None else None
        cols = [c for c in cols if c in names] if cols is not None else None

        def prows() -> Iterator[Row]:
            n = 0
            for batch in pf.iter_batches(batch_size=chunk, columns=cols):
                for rec in batch.to_pylist():
                    n += 1
                    yield Row(n, rec)

        return Reader(prows(), names, pf.metadata.num_rows, pf, pf.schema_arrow)
    stream = _open_bytes(path)
    if fmt == "jsonl":
        return Reader(_jsonl_rows(stream), None, None, stream if path != "-" else None)
    if fmt not in _DELIM:
        raise ValueError(f"unknown format {fmt!r}")
    records = _csv_records(_lines(stream), fmt)
    head = next((r for r in records if r != []), None)
    if head is None or isinstance(head, csv.Error):
        raise ValueError(f"{path} has no {fmt.upper()} header line")
    if any(_SURROGATE.search(h) for h in head):
        raise ValueError(f"the header of {path} is not UTF-8")
    header = tuple(head)
    return Reader(_csv_rows(records, header), header, None, stream if path != "-" else None)


def check_columns(columns: Sequence[str], path: str, text_field: str, *, id_field: str | None = None,
                  keep: Sequence[str] = (), group_by: str | None = None, time_field: str | None = None) -> None:
    """Fail before any scoring when a named column is not in the header (listing the columns that are)."""
    if text_field not in columns:
        raise ValueError(f"no text column {text_field!r} in {path}; columns: {', '.join(columns)} "
                         "(choose one with --text-field)")
    for opt, names in (("--id-field", [id_field]), ("--keep-fields", keep), ("--group-by", [group_by]),
                       ("--time-field", [time_field])):
        missing = [n for n in names if n is not None and n not in columns]
        if missing:
            raise ValueError(f"{opt}: no column {', '.join(map(repr, missing))} in {path}; "
                             f"columns: {', '.join(columns)}")


def peek_text_field(rows: Iterator[Row], field: str, path: str, limit: int = 100) -> Iterator[Row]:
    """JSONL has no header: fail fast when none of the first records has the text field."""
    head = list(itertools.islice(rows, limit))
    objs = [r.fields for r in head if r.fields is not None]
    if objs and not any(field in f for f in objs):
        keys = sorted(set().union(*objs))
        raise ValueError(f"no text field {field!r} in the first {len(objs)} records of {path}; fields: "
                         f"{', '.join(keys[:40])} (choose one with --text-field)")
    return itertools.chain(head, rows)


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
                      *[(k, typ(k)) for k in keep]])


def records_to_table(records: list[dict[str, Any]], schema: Any) -> Any:
    """Output records as a pyarrow Table of :func:`arrow_schema`; string columns hold other JSON values as text."""
    import pyarrow as pa

    for c in [f.name for f in schema if pa.types.is_string(f.type)]:
        for r in records:
            v = r.get(c)
            if v is not None and not isinstance(v, str):
                r[c] = _dumps(v)
    return pa.Table.from_pylist(records, schema=schema)


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
        elif fmt in _DELIM and header:
            self._write_csv([dict(zip(self.columns, self.columns))])

    def _write_csv(self, records: Iterable[dict[str, Any]]) -> None:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=_DELIM[self.fmt])
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
        raise ValueError("--resume is not supported for Parquet output: a killed Parquet file has no footer and "
                         "cannot be read. Write JSONL/CSV/TSV to resume, or rerun without --resume")
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
            recs = _csv_records(_lines(f, state, "replace"), fmt, strict=True)
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
        recs = _csv_records(_lines(f, None, "replace"), fmt, strict=True)
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
            yield d


def plain(v: Any) -> Any:
    """A JSON-friendly form of a value read from input (dates as ISO strings)."""
    return v.isoformat() if isinstance(v, (datetime, date)) else v


def time_key(v: Any) -> tuple[int, Any] | None:
    """A sortable key for a timestamp: epoch seconds for numbers and ISO/Twitter dates, else the string."""
    if v is None or v == "" or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return (0, float(v))
    if isinstance(v, datetime):
        return (0, (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).timestamp())
    if isinstance(v, date):
        return (0, datetime(v.year, v.month, v.day, tzinfo=timezone.utc).timestamp())
    s = str(v).strip()
    try:
        return (0, float(s))
    except ValueError:
        pass
    for parse in (datetime.fromisoformat, lambda x: datetime.strptime(x, "%a %b %d %H:%M:%S %z %Y")):
        try:
            return time_key(parse(s))
        except ValueError:
            continue
    return (1, s)


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


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # pragma: no cover
        return False
