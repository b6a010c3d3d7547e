"""A run's output in progress: ``OUTPUT.partial`` plus ``OUTPUT.checkpoint``, renamed onto OUTPUT at the end.

``framing score`` writes every chunk of records to ``OUTPUT.partial`` (JSONL, CSV,
TSV: one file appended to; Parquet: a directory with one complete Parquet file per
chunk), syncs it, then atomically rewrites ``OUTPUT.checkpoint``: how many rows
and bytes (or Parquet parts) are complete, and what produced them (input file
size and time, the options that change records, the model). A run killed at any
point, even by SIGKILL, leaves a partial output whose checkpointed prefix is
valid; the next run with the same OUTPUT cuts whatever lies past the checkpoint,
skips the rows already done and continues. At the end the partial output is
renamed (Parquet: merged) onto OUTPUT and the checkpoint removed, so readers of
OUTPUT only ever see a complete file.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Iterator, Sequence

from .output import Writer, read_output, record_from_row, records_to_table

__all__ = ["PartialOutput", "input_fingerprint"]

_VERSION = 1
_ROW_GROUP = 8192


def input_fingerprint(path: str) -> dict[str, Any] | None:
    """What identifies an input file between runs (None for standard input)."""
    if path == "-":
        return None
    st = os.stat(path)
    return {"path": os.path.abspath(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PartialOutput:
    """``OUTPUT.partial`` and its ``OUTPUT.checkpoint`` for one OUTPUT file in one format."""

    def __init__(self, output: str, fmt: str, columns: Sequence[str], schema: Any = None) -> None:
        self.output, self.fmt, self.columns, self.schema = Path(output), fmt, tuple(columns), schema
        self.partial = Path(f"{output}.partial")
        self.ckpt_path = Path(f"{output}.checkpoint")
        self.rows = 0
        self._bytes = 0
        self._parts = 0
        self._writer: Writer | None = None
        self._meta: dict[str, Any] = {}

    # ---- what is there ---------------------------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any] | None:
        """The saved checkpoint, or None (none, unreadable, or a stale one whose partial output is gone)."""
        try:
            ck = json.loads(self.ckpt_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(ck, dict) or ck.get("version") != _VERSION or not self.partial.exists():
            return None
        return ck

    def discard(self) -> None:
        """Remove the partial output and its checkpoint."""
        self.ckpt_path.unlink(missing_ok=True)
        if self.partial.is_dir():
            shutil.rmtree(self.partial)
        else:
            self.partial.unlink(missing_ok=True)

    def records(self, n: int) -> Iterator[dict[str, Any]]:
        """The first ``n`` records of the partial output, parsed back."""
        if self.fmt != "parquet":
            yield from read_output(str(self.partial), self.fmt, self.columns, n)
            return
        import pyarrow.parquet as pq

        left = n
        for i in range(1, self._parts + 1):
            for row in pq.read_table(self._part(i)).to_pylist():
                if left <= 0:
                    return
                left -= 1
                yield record_from_row(row)

    def _part(self, i: int) -> Path:
        return self.partial / f"part-{i:06d}.parquet"

    # ---- writing -----------------------------------------------------------------------------------------
    def start(self, meta: dict[str, Any], ck: dict[str, Any] | None = None) -> None:
        """Start a new partial output, or continue ``ck``: everything past its checkpoint is cut off."""
        self._meta = dict(meta)
        if ck is None:
            self.discard()
            self.rows = self._bytes = self._parts = 0
        else:
            self.rows, self._bytes, self._parts = int(ck["rows"]), int(ck.get("bytes", 0)), int(ck.get("parts", 0))
        if self.fmt == "parquet":
            self.partial.mkdir(exist_ok=True)
            for p in self.partial.iterdir():  # parts written after the checkpoint, or temp files
                if not (p.name.startswith("part-") and p.suffix == ".parquet"
                        and p.stem[5:].isdigit() and int(p.stem[5:]) <= self._parts):
                    p.unlink()
        else:
            if ck is not None:
                os.truncate(self.partial, self._bytes)
            stream = open(self.partial, "ab")
            self._writer = Writer(stream, self.fmt, self.columns, header=self._bytes == 0)
            stream.flush()
            self._bytes = stream.tell()
        self._save()

    def adopt(self, meta: dict[str, Any], rows: int) -> None:
        """Make a complete-records prefix already in OUTPUT (``--resume`` of an older run) the partial output."""
        self.discard()
        os.replace(self.output, self.partial)
        self.start(meta, {"rows": rows, "bytes": self.partial.stat().st_size})

    def write(self, records: list[dict[str, Any]]) -> None:
        """Append a chunk of records and checkpoint it once it is on disk."""
        if not records:
            return
        if self.fmt == "parquet":
            self._parts += 1
            tmp = self.partial / f".part-{self._parts:06d}.tmp"
            import pyarrow.parquet as pq

            pq.write_table(records_to_table(records, self.schema), tmp)
            _fsync(tmp)
            os.replace(tmp, self._part(self._parts))
        else:
            assert self._writer is not None
            self._writer.write(records)
            os.fsync(self._writer.stream.fileno())
            self._bytes = self._writer.stream.tell()
        self.rows += len(records)
        self._save()

    def _save(self) -> None:
        ck = {"version": _VERSION, **self._meta, "format": self.fmt, "rows": self.rows}
        ck.update({"parts": self._parts} if self.fmt == "parquet" else {"bytes": self._bytes})
        tmp = self.ckpt_path.with_name(f".{self.ckpt_path.name}.{secrets.token_hex(4)}")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(ck, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.ckpt_path)

    def close(self) -> None:
        """Close the partial output (it is kept, with its checkpoint, for the next run)."""
        if self._writer is not None:
            self._writer.stream.close()
            self._writer = None

    def commit(self) -> None:
        """Move the complete output onto OUTPUT atomically, then drop the checkpoint."""
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            tmp = self.output.with_name(f".{self.output.name}.{secrets.token_hex(4)}.part")
            try:
                with pq.ParquetWriter(tmp, self.schema) as w:
                    buf: list[Any] = []
                    for i in range(1, self._parts + 1):
                        buf.append(pq.read_table(self._part(i), schema=self.schema))
                        if sum(t.num_rows for t in buf) >= _ROW_GROUP:
                            w.write_table(pa.concat_tables(buf), row_group_size=_ROW_GROUP)
                            buf = []
                    if buf or self._parts == 0:
                        w.write_table(pa.concat_tables(buf) if buf else self.schema.empty_table())
                os.replace(tmp, self.output)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            self.discard()
            return
        self.close()
        os.replace(self.partial, self.output)
        self.ckpt_path.unlink(missing_ok=True)


class _Stdout:
    """The sink for ``-o -``: JSONL to standard output, nothing to resume."""

    def __init__(self, fmt: str, columns: Sequence[str]) -> None:
        import sys

        self._writer = Writer(sys.stdout.buffer, fmt, columns)

    def write(self, records: list[dict[str, Any]]) -> None:
        self._writer.write(records)

    def close(self) -> None:
        self._writer.close()


class OutputPlan:
    """Where ``framing score`` writes and what it continues: decided before the model loads, checked after.

    Without flags, the partial output of an interrupted run with the same OUTPUT is continued when its
    checkpoint matches this run (same input file, options and model); otherwise the run refuses, naming
    ``--resume`` (continue anyway; ids are checked) and ``--overwrite`` (start over). ``--resume`` also
    continues an OUTPUT of complete records written in place (by an older framing).
    """

    def __init__(self, output: str, fmt: str, columns: Sequence[str], *, resume: bool, overwrite: bool) -> None:
        self.output, self.fmt, self.columns, self.resume = output, fmt, tuple(columns), resume
        self.done, self.source = 0, output
        self.part: PartialOutput | None = None
        self.ck: dict[str, Any] | None = None
        self._legacy = False
        self._meta: dict[str, Any] = {}
        if output == "-":
            return
        self.part = PartialOutput(output, fmt, columns)
        self.source = str(self.part.partial)
        if overwrite:
            self.part.discard()
            return
        self.ck = self.part.checkpoint()
        if self.ck is not None:
            if self.ck.get("format") != fmt:
                raise ValueError(f"{self.part.partial} is an interrupted {self.ck.get('format')} run, this run writes "
                                 f"{fmt}; pass --overwrite to start over")
            self.done = int(self.ck["rows"])
        elif resume and os.path.exists(output):
            from .output import resume_point

            self.done, self.source, self._legacy = resume_point(output, fmt, columns), output, True

    def check(self, meta: dict[str, Any]) -> None:
        """Refuse to continue a partial output that another input, other options or another model began."""
        self._meta = meta
        ck = self.ck
        if ck is None or self.part is None:
            return
        where = f"{self.part.partial} holds {ck['rows']} rows of an interrupted run"
        was, now = ck.get("options") or {}, meta["options"]
        diff = [k for k in dict.fromkeys([*was, *now]) if was.get(k) != now.get(k)]
        if diff or ck.get("model") != meta["model"]:
            what = f"other options ({', '.join('--' + k.replace('_', '-') for k in diff)})" if diff else "another model"
            raise ValueError(f"{where} with {what}; rerun with the same options and model to continue it, or pass "
                             "--overwrite to start over")
        if ck.get("input") != meta["input"] and not self.resume:
            why = ("the input is standard input, which cannot be checked" if meta["input"] is None
                   else "the input file has changed since (size or modification time)")
            raise ValueError(f"{where}, but {why}; pass --resume to continue it anyway (its last record is checked "
                             "against the input) or --overwrite to start over")

    def done_records(self) -> Iterator[dict[str, Any]]:
        """The records already done, parsed back (to count them and to check they belong to this input)."""
        if not self.done:
            return iter(())
        if self._legacy:
            return read_output(self.output, self.fmt, self.columns, self.done)
        assert self.part is not None and self.ck is not None
        self.part._parts = int(self.ck.get("parts", 0))
        return self.part.records(self.done)

    def open(self, schema: Any) -> Any:
        """The sink to write new records to (``write(records)``)."""
        if self.part is None:
            self._sink: Any = _Stdout(self.fmt, self.columns)
            return self._sink
        self.part.schema = schema
        if self._legacy:
            self.part.adopt(self._meta, self.done)
        else:
            self.part.start(self._meta, self.ck)
        self._sink = self.part
        return self.part

    def commit(self) -> None:
        if self.part is not None:
            self.part.commit()

    def close(self) -> None:
        sink = getattr(self, "_sink", None)
        if sink is not None:
            sink.close()
