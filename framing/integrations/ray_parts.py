"""Partitioned output of ``framing score --engine ray -o DIR/``: part files written by the workers.

Each scoring actor writes the records of one batch to ``DIR/part-<key>.<ext>``
(temp file, then rename) and returns one row of counts; the driver never holds
records. The key is the batch's first line number for JSONL input (names sort in
input order) and a hash of the input batch otherwise, so a batch that Ray retries
rewrites the same part. At the end the driver removes parts no batch reported
(leftovers of failed attempts), writes ``_manifest.json`` (format, totals, the parts
in input order with their row counts) and then the empty ``_SUCCESS`` marker:
a directory without ``_SUCCESS`` is incomplete.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any, Sequence

from ..output import Writer, records_to_table

__all__ = ["PartWriter", "prepare_directory", "finish_directory", "MANIFEST", "SUCCESS"]

MANIFEST, SUCCESS = "_manifest.json", "_SUCCESS"
_EXT = {"jsonl": "jsonl", "csv": "csv", "tsv": "tsv", "parquet": "parquet"}


def _ours(name: str) -> bool:
    return name in (MANIFEST, SUCCESS) or name.startswith(("part-", ".part-"))


def prepare_directory(path: str, fmt: str, *, overwrite: bool) -> None:
    """Create DIR, or empty a previous run's DIR with --overwrite; refuse a directory holding other files."""
    if fmt not in _EXT:
        raise ValueError(f"unknown output format {fmt!r}; use one of: {', '.join(_EXT)}")
    d = Path(path)
    if d.exists() and not d.is_dir():
        raise ValueError(f"{path} is a file, not a directory")
    d.mkdir(parents=True, exist_ok=True)
    names = os.listdir(d)
    if not names:
        return
    foreign = [n for n in names if not _ours(n)]
    if foreign:
        raise ValueError(f"output directory {path} holds other files ({', '.join(sorted(foreign)[:5])}); "
                         "give an empty or new directory")
    if not overwrite:
        raise ValueError(f"output directory {path} holds {'a finished' if SUCCESS in names else 'an unfinished'} "
                         "run; pass --overwrite to replace it")
    (d / SUCCESS).unlink(missing_ok=True)  # first: the directory stops claiming to be complete
    for n in names:
        (d / n).unlink(missing_ok=True)


def _batch_key(batch: Any) -> str:
    h = hashlib.sha1(str(batch.num_rows).encode())
    for col in batch.columns:
        for chunk in col.chunks:
            for buf in chunk.buffers():
                if buf is not None:
                    h.update(memoryview(buf))
    return h.hexdigest()[:20]


class PartWriter:
    """Writes one batch of output records as one part file of DIR and returns its counts as a pyarrow table."""

    def __init__(self, path: str, fmt: str, columns: Sequence[str], schema: Any, labels: Sequence[str]) -> None:
        self.dir, self.fmt, self.columns, self.schema, self.labels = Path(path), fmt, tuple(columns), schema, labels

    def write(self, records: list[dict[str, Any]], batch: Any, first_line: int | None) -> Any:
        import pyarrow as pa

        key = f"{first_line:012d}" if first_line is not None else _batch_key(batch)
        name = f"part-{key}.{_EXT[self.fmt]}"
        counts = {lab: 0 for lab in self.labels}
        errors = truncated = 0
        for r in records:
            errors += "error" in r
            truncated += bool(r.get("truncated"))
            for lab in r.get("labels") or ():
                counts[lab] += 1
        tmp = self.dir / f".{name}.{secrets.token_hex(4)}"
        try:
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                pq.write_table(records_to_table(records, self.schema), tmp)
            else:
                with open(tmp, "wb") as f:
                    Writer(f, self.fmt, self.columns).write(records)
                    os.fsync(f.fileno())
            os.replace(tmp, self.dir / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return pa.table({"part": [name], "rows": [len(records)], "errors": [errors], "truncated": [truncated],
                         "label_counts": [json.dumps(counts)]})


def finish_directory(path: str, fmt: str, scored: Any, labels: Sequence[str], input: str) -> Any:
    """Run the dataset (the workers write the parts), then write the manifest and ``_SUCCESS``."""
    from ..score import ScoreSummary

    parts: list[dict[str, Any]] = []
    counts = dict.fromkeys(labels, 0)
    for batch in scored.iter_batches(batch_format="pyarrow", batch_size=None):  # preserve_order: input order
        for row in batch.to_pylist():
            parts.append({"file": row["part"], "rows": row["rows"], "errors": row["errors"],
                          "truncated": row["truncated"]})
            for lab, n in json.loads(row["label_counts"]).items():
                counts[lab] += n
    d = Path(path)
    listed = {p["file"] for p in parts}
    for n in os.listdir(d):  # parts of failed attempts, temp files
        if _ours(n) and n not in listed and n not in (MANIFEST, SUCCESS):
            (d / n).unlink(missing_ok=True)
    missing = [f for f in listed if not (d / f).exists()]
    if missing:
        raise RuntimeError(f"parts reported by the workers are missing from {path}: {', '.join(missing[:5])} "
                           "(on a cluster, DIR must be a file system every worker and the driver share)")
    total = sum(p["rows"] for p in parts)
    errors = sum(p["errors"] for p in parts)
    truncated = sum(p["truncated"] for p in parts)
    manifest = {"format": fmt, "input": os.path.abspath(input), "rows": total, "errors": errors,
                "truncated": truncated, "label_counts": counts, "parts": parts}
    tmp = d / f".{MANIFEST}.{secrets.token_hex(4)}"
    tmp.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, d / MANIFEST)
    (d / SUCCESS).write_bytes(b"")
    return ScoreSummary(output=path, rows=total, errors=errors, label_counts=counts, resumed=0, seconds=0.0,
                        truncated=truncated)
