"""Streaming readers for ``framing score``: JSONL, CSV, TSV, Parquet, standard input.

Readers yield one :class:`Row` per input record, in order, and never raise on a bad
record: a line that is not UTF-8, not JSON or not an object becomes a row with an
``error``. Files are read as bytes and decoded record by record so that one bad
byte costs one row, not the run. Memory is bounded by the chunk size. Writing,
resuming and reports are in framing.output.
"""
from __future__ import annotations

import csv
import gzip
import itertools
import json
import os
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Iterator, Sequence

__all__ = ["DELIMITERS", "FORMATS", "Row", "Reader", "guess_format", "open_input", "parse_jsonl_line",
           "check_columns", "peek_text_field", "csv_records", "decoded_lines", "time_key", "plain", "stderr_is_tty"]

FORMATS = ("jsonl", "csv", "tsv", "parquet")
_EXT = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
        ".parquet": "parquet", ".pq": "parquet"}
_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\ud800-\udfff]")
DELIMITERS = {"csv": ",", "tsv": "\t"}


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


def decoded_lines(stream: BinaryIO, state: list[Any] | None = None, errors: str = "surrogateescape") -> Iterator[str]:
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


def csv_records(lines: Iterator[str], fmt: str, strict: bool = False) -> Iterator[list[str] | csv.Error]:
    csv.field_size_limit(2**31 - 1)
    reader = csv.reader(lines, delimiter=DELIMITERS[fmt], strict=strict)
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
    if fmt not in DELIMITERS:
        raise ValueError(f"unknown format {fmt!r}")
    records = csv_records(decoded_lines(stream), fmt)
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


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # pragma: no cover
        return False
