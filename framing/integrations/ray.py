"""Score on Ray Data: one :class:`~framing.detector.Detector` per actor, batches in, output columns out.

Design: Ray Data reads the input (JSONL as raw byte lines with their line
numbers, CSV/TSV with every column as a string, Parquet with only the needed columns) and hands batches to
:class:`RayScorer` actors through ``map_batches``. Each actor parses and checks
its rows with the same code as ``framing score`` (``framing.io``, ``framing.output``,
``framing.score``), so a bad row becomes an error record, never an exception,
and returns a pyarrow batch with the columns and types of ``framing score``'s
Parquet output. :func:`score_file_ray` runs the dataset with ``preserve_order``
and streams the batches back to the driver, which numbers CSV/Parquet rows,
writes one output file atomically with ``framing score``'s writers, and counts.
JSONL goes through a small streaming datasource that splits on ``\n`` only and
keeps bytes, so each actor decodes UTF-8 per line (an undecodable line costs one
row, not the run) and ids are the same line numbers as ``framing score``'s.

With an output DIRECTORY the actors write the records themselves, one part file
per batch (:mod:`framing.integrations.ray_parts`), and send the driver only their
counts; the driver writes ``_manifest.json`` (parts in input order, rows per part)
and then ``_SUCCESS``.

Install with ``pip install "framing[ray]"``.
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Mapping

from ..io import Row, check_columns, guess_format, open_input, parse_jsonl_line
from ..output import arrow_schema, records_to_table
from ..score import (OUTPUT_FIELDS, ScoreOptions, ScoreSummary, _score_chunk, _validate, record_from_row,
                     release_freed_memory, with_thresholds)

__all__ = ["RayScorer", "read_jsonl_lines", "score_file_ray", "is_directory_output"]

_LINE, _NUM = "line", "line_number"  # the columns of the JSONL datasource


class RayScorer:
    """Callable class for ``ray.data.Dataset.map_batches``: score a batch, one output row per input row.

    Batches are records (pandas or pyarrow), or with ``raw_jsonl=True`` the
    ``line``/``line_number`` columns of :func:`read_jsonl_lines`. The output has
    the columns of ``framing score``: ``id`` (``options.id_field``; the line number
    for JSONL; else null, for the caller to number), ``labels``, ``scores``,
    ``language``, ``evidence``, ``error`` and the kept fields.
    """

    def __init__(self, model: str | None = None, options: ScoreOptions | Mapping[str, Any] | None = None, *,
                 raw_jsonl: bool = False, int8: bool = False, threads: int | None = 1,
                 in_schema: Any = None, out_dir: str | None = None, out_format: str = "parquet") -> None:
        import torch

        from ..default import default_model_dir
        from ..detector import Detector

        if threads:
            torch.set_num_threads(threads)  # one actor per CPU: do not oversubscribe the cores
        o = options if isinstance(options, ScoreOptions) else ScoreOptions(**dict(options or {}))
        det = Detector.from_pretrained(model or default_model_dir(), quantize="int8" if int8 else None)
        self.detector = with_thresholds(det, o.threshold, o.label_thresholds)
        self.options, self.raw_jsonl = o, raw_jsonl
        self.schema = arrow_schema(self.detector.labels, o.id_field, o.keep_fields, in_schema)
        self.parts = None
        if out_dir is not None:
            from .ray_parts import PartWriter

            self.parts = PartWriter(out_dir, out_format, (*OUTPUT_FIELDS, *o.keep_fields), self.schema,
                                    self.detector.labels)

    def _rows(self, batch: Any) -> list[Row]:
        if not self.raw_jsonl:
            return [Row(0, rec) for rec in batch.to_pylist()]
        rows = (parse_jsonl_line(raw, n) for raw, n in zip(batch.column(_LINE).to_pylist(),
                                                           batch.column(_NUM).to_pylist()))
        return [r for r in rows if r is not None]

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        if not isinstance(batch, pa.Table):  # pandas or dict of numpy arrays
            batch = pa.Table.from_pandas(batch) if hasattr(batch, "columns") else pa.table(batch)
        rows = self._rows(batch)
        records = _score_chunk(self.detector, rows, self.options) if rows else []
        release_freed_memory()  # an actor scores batch after batch: keep its heap from creeping up
        if self.parts is not None:  # written here, on the worker; the driver gets one row of counts
            first = rows[0].n if rows and self.raw_jsonl else None
            return self.parts.write(records, batch, first)
        if self.options.id_field is None and not self.raw_jsonl:
            for r in records:
                r["id"] = None
        return records_to_table(records, self.schema)


def read_jsonl_lines(ray: Any, paths: str | list[str], block_lines: int = 8192) -> Any:
    """A Ray dataset of the non-blank lines of JSONL files: ``line`` (bytes) and ``line_number`` (1-based).

    ``ray.data.read_text`` decodes whole files and splits on every Unicode line
    break (U+2028 inside a JSON string would cut a record in two); this reads each
    file as a byte stream, splits on ``\n`` only and yields bounded blocks.
    """
    import pyarrow as pa
    from ray.data.datasource import FileBasedDatasource

    class JsonlLines(FileBasedDatasource):  # type: ignore[misc, valid-type]
        def _read_stream(self, f: Any, path: str) -> Any:
            lines: list[bytes] = []
            numbers: list[int] = []
            rest, n = b"", 0
            while True:
                chunk = f.read(1 << 22)
                parts = (rest + chunk).split(b"\n")
                rest = parts.pop() if chunk else b""
                for raw in parts:
                    n += 1
                    if raw.strip():
                        lines.append(raw)
                        numbers.append(n)
                if len(lines) >= block_lines or (not chunk and lines):
                    yield pa.table({_LINE: pa.array(lines, pa.binary()), _NUM: pa.array(numbers, pa.int64())})
                    lines, numbers = [], []
                if not chunk:
                    return

    return ray.data.read_datasource(JsonlLines(paths), num_cpus=0)  # I/O: never wait for a CPU an actor holds


def _dataset(ray: Any, input: str, fmt: str, needed: list[str], o: ScoreOptions, size: int) -> tuple[Any, Any]:
    """The Ray dataset of ``input`` and the Parquet input schema (None for text formats)."""
    if fmt == "jsonl":
        return read_jsonl_lines(ray, input, block_lines=size), None
    if fmt == "parquet":
        import pyarrow.parquet as pq

        schema = pq.read_schema(input)
        cols = [c for c in dict.fromkeys(needed) if c in schema.names]
        return ray.data.read_parquet(input, columns=cols, num_cpus=0), schema
    import pyarrow as pa
    from pyarrow import csv as pacsv

    with open_input(input, fmt) as reader:  # the header, read as framing score reads it
        header = reader.columns or ()
    check_columns(header, input, o.text_field, id_field=o.id_field, keep=o.keep_fields)
    delimiter = "," if fmt == "csv" else "\t"
    ds = ray.data.read_csv(
        input, num_cpus=0, parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header},
                                             strings_can_be_null=False, include_columns=list(dict.fromkeys(needed))))
    return ds, None


def score_file_ray(model: str | None, input: str, output: str, options: ScoreOptions = ScoreOptions(), *,
                   num_workers: int | None = None, address: str | None = None, int8: bool = False) -> ScoreSummary:
    """``framing score --engine ray``: score ``input`` on a Ray actor pool into one ``output`` file.

    Starts a local Ray with this machine's CPUs unless ``address`` names a cluster
    (``"auto"`` joins the one this machine belongs to). Output rows are in input order.
    """
    try:
        import ray
    except ImportError as e:
        raise RuntimeError(f"--engine ray needs Ray Data: pip install 'framing[ray]' ({e})") from None

    from ..output import OutputTarget, open_writer

    o = options
    if input == "-" or output == "-":
        raise ValueError("--engine ray reads and writes files, not standard streams")
    if o.resume or o.report or o.group_by or o.time_field:
        raise ValueError("--engine ray does not support --resume or --report; use the default engine for them")
    if not os.path.exists(input):
        raise FileNotFoundError(f"input file not found: {input}")
    in_fmt = guess_format(input, o.input_format)
    to_dir = is_directory_output(output)
    out_fmt = (o.output_format or "parquet").lower() if to_dir else guess_format(output, o.output_format, output=True)
    _validate(input, output, in_fmt, out_fmt, o)
    if to_dir:
        from .ray_parts import prepare_directory

        if in_fmt != "jsonl" and o.id_field is None:
            raise ValueError("directory output of CSV/TSV/Parquet input needs --id-field (the workers cannot "
                             "number rows; JSONL rows keep their line numbers)")
        prepare_directory(output, out_fmt, overwrite=o.overwrite)
    workers = num_workers if num_workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise ValueError("--num-workers must be at least 1")
    labels = _labels(model)  # fails fast on a wrong model directory, before Ray starts
    needed = [c for c in (o.text_field, o.id_field, *o.keep_fields) if c]
    t0 = time.perf_counter()
    if not ray.is_initialized():
        # locally: one logical CPU per actor plus one for Ray's own tasks (Parquet planning needs a CPU; JSONL
        # and CSV reads ask for none), else the actors can hold every CPU while the reads that feed them wait
        ray.init(address=address, num_cpus=None if address else workers + 1,
                 include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    ray.data.DataContext.get_current().enable_progress_bars = o.progress
    size = max(o.batch_size * o.chunk_batches, 1)
    ds, in_schema = _dataset(ray, input, in_fmt, needed, o, size)
    scored = ds.map_batches(
        RayScorer, batch_format="pyarrow", batch_size=size, num_cpus=1,
        # one chunk in flight per actor: a chunk is seconds of work, and more would let the first ready actor
        # take every block of a small input while the others idle
        compute=ray.data.ActorPoolStrategy(size=workers, max_tasks_in_flight_per_actor=1),
        fn_constructor_kwargs={"model": model, "options": o, "raw_jsonl": in_fmt == "jsonl", "int8": int8,
                               "in_schema": in_schema, "out_dir": output if to_dir else None,
                               "out_format": out_fmt})
    if to_dir:
        from .ray_parts import finish_directory

        start = time.perf_counter()
        summary = finish_directory(output, out_fmt, scored, labels, input)
        return dataclasses.replace(summary, seconds=time.perf_counter() - start, load_seconds=start - t0)
    columns = (*OUTPUT_FIELDS, *o.keep_fields)
    schema = arrow_schema(labels, o.id_field, o.keep_fields, in_schema) if out_fmt == "parquet" else None
    target = OutputTarget(output, append=False)
    n = rows = errors = 0
    counts = dict.fromkeys(labels, 0)
    start = time.perf_counter()
    try:
        writer = open_writer(target, out_fmt, columns, schema)
        for batch in scored.iter_batches(batch_format="pyarrow", batch_size=None):
            recs = []
            for rec in batch.to_pylist():
                n += 1
                if in_fmt != "jsonl":  # JSONL rows know their line numbers already (the actors set them)
                    if o.id_field is None:
                        rec["id"] = n
                    elif rec.get("error") and rec.get("id") is None:
                        rec["error"] = f"{rec['error']} (row {n})"
                if not o.evidence:
                    rec["evidence"] = None
                rec = record_from_row(rec)  # the same keys as framing score's records
                if "error" in rec:
                    errors += 1
                for lab in rec.get("labels") or ():
                    counts[lab] += 1
                recs.append(rec)
            rows += len(recs)
            writer.write(recs)
        writer.close()
        target.commit()
    except BaseException:
        target.abort()
        raise
    return ScoreSummary(output=output, rows=rows, errors=errors, label_counts=counts, resumed=0,
                        seconds=time.perf_counter() - start, load_seconds=start - t0)


def is_directory_output(output: str) -> bool:
    """OUTPUT names a directory (partitioned output): it ends with a path separator or is one."""
    return output.endswith(("/", os.sep)) or os.path.isdir(output)


def _labels(model: str | None) -> tuple[str, ...]:
    """The model's labels, read from its config without loading weights on the driver."""
    import json

    from ..default import default_model_dir
    from ..detector import CONFIG_NAME

    path = os.path.join(model or default_model_dir(), CONFIG_NAME)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{os.path.dirname(path)} is not a framing model directory (no {CONFIG_NAME})")
    with open(path, encoding="utf-8") as f:
        return tuple(json.load(f)["labels"])
