"""Batch scoring at scale: stream a file through a :class:`~framing.detector.Detector` with bounded memory.

``score_file`` reads JSONL/CSV/TSV/Parquet (or stdin) chunk by chunk, scores each
chunk with ``detect_many`` and appends one output record per input record, in
input order. A record that cannot be scored gets an ``error`` instead of scores;
no row is dropped and no bad row stops the run. A text is scored on at most
``max_chars`` normalised characters, so no row costs more than that. Output goes
to ``OUTPUT.partial`` with a checkpoint after every chunk and is renamed onto
OUTPUT at the end; a rerun continues an interrupted run (framing.checkpoint).
Counts and the optional per-group report are kept as counters only
(framing.tally), so memory does not grow with rows.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import re
import time
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from .checkpoint import OutputPlan
from .detector import DEFAULT_MAX_CHARS
from .io import Row, check_columns, guess_format, open_input, peek_text_field
from .output import RESULT_KEYS, arrow_schema, record_from_row, write_report  # noqa: F401 - re-exported
from .tally import GroupStats, Tally

if TYPE_CHECKING:  # pragma: no cover
    from .detector import Detection, Detector

__all__ = ["ScoreOptions", "ScoreSummary", "GroupStats", "score_file", "score_rows", "with_thresholds",
           "format_summary", "OUTPUT_FIELDS"]

OUTPUT_FIELDS = ("id", "labels", "scores", "language", "evidence", "error", "truncated")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class ScoreOptions:
    """How to read, score and write; see ``framing score --help`` for each option."""

    text_field: str = "text"
    id_field: str | None = None  # None: the 1-based line (JSONL) or record (CSV/TSV/Parquet) number
    keep_fields: tuple[str, ...] = ()
    batch_size: int = 32
    evidence: bool = True
    input_format: str | None = None
    output_format: str | None = None
    resume: bool = False
    group_by: str | None = None
    time_field: str | None = None
    report: str | None = None
    threshold: float | None = None
    label_thresholds: Mapping[str, float] = dataclasses.field(default_factory=dict)
    progress: bool = False
    chunk_batches: int = 32  # rows per chunk = batch_size * chunk_batches; output is checkpointed per chunk
    max_chars: int | None = DEFAULT_MAX_CHARS  # texts are scored on their first max_chars normalised characters
    overwrite: bool = False  # discard OUTPUT.partial of an interrupted run instead of continuing it


@dataclass(frozen=True)
class ScoreSummary:
    """What a run did: rows written (incl. resumed ones), errors, rows per label, timing, report groups."""

    output: str
    rows: int
    errors: int
    label_counts: dict[str, int]
    resumed: int
    seconds: float  # reading, scoring and writing; the model load is not included
    load_seconds: float = 0.0
    groups: tuple[GroupStats, ...] | None = None
    truncated: int = 0  # rows scored on their first --max-chars characters

    @property
    def rows_per_second(self) -> float:
        """New rows (not resumed ones) per second of scoring."""
        return (self.rows - self.resumed) / self.seconds if self.seconds > 0 else 0.0


def with_thresholds(det: "Detector", threshold: float | None = None,
                    label_thresholds: Mapping[str, float] | None = None) -> "Detector":
    """A shallow copy of ``det`` with a global and/or per-label threshold that overrides per-language ones."""
    label_thresholds = dict(label_thresholds or {})
    if threshold is None and not label_thresholds:
        return det
    for lab, v in [("--threshold", threshold), *label_thresholds.items()]:
        if v is not None and not 0.0 <= v <= 1.0:
            raise ValueError(f"threshold for {lab} must be between 0 and 1, got {v}")
    unknown = [lab for lab in label_thresholds if lab not in det.labels]
    if unknown:
        raise ValueError(f"unknown label(s) {', '.join(unknown)}; this model's labels are: {', '.join(det.labels)}")
    th, lt = dict(det.config.thresholds), {k: dict(v) for k, v in det.config.lang_thresholds.items()}
    over = {lab: threshold for lab in det.labels} if threshold is not None else {}
    over.update(label_thresholds)
    for lab, v in over.items():
        th[lab] = float(v)  # type: ignore[arg-type]
        lt.pop(lab, None)
    new = copy.copy(det)  # shares model, tokenizer and lock
    new.config = dataclasses.replace(det.config, thresholds=th, lang_thresholds=lt)
    return new


def _text_of(row: Row, field: str) -> tuple[str | None, str | None]:
    """The text to score, or why there is none."""
    if row.error:
        return None, row.error
    assert row.fields is not None
    if field not in row.fields:
        return None, f"no {field!r} field"
    v = row.fields[field]
    if v is None:
        return None, f"{field!r} is null"
    if isinstance(v, (bytes, bytearray)):
        try:
            v = bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            return None, "undecodable bytes: text is not UTF-8"
    if not isinstance(v, str):
        return None, f"{field!r} is {type(v).__name__}, not a string"
    if _SURROGATE.search(v):
        return None, "text has unpaired surrogates (bad \\u escapes)"
    return v, None


_libc: Any = None


def release_freed_memory() -> bool:
    """Give memory freed by the last chunk back to the OS (glibc ``malloc_trim``); False where there is none.

    Batches of different shapes leave freed blocks scattered over glibc's heaps; without this the
    process keeps them and its resident size creeps up with the rows scored (docs/scaling.md).
    """
    global _libc
    if _libc is None:
        import ctypes
        import ctypes.util

        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):
            _libc = False
    if _libc is False:
        return False
    _libc.malloc_trim(0)
    return True


def _record(rid: Any, det: "Detection | None", error: str | None, kept: dict[str, Any], evidence: bool) -> dict:
    if error is not None or det is None:
        rec: dict[str, Any] = {"id": rid, "error": error or "not scored"}
    else:
        rec = {"id": rid, "labels": list(det.labels), "scores": det.scores, "language": det.language,
               "evidence": [e.to_dict() for e in det.evidence] if evidence else None}
        if getattr(det, "truncated", False):
            rec["truncated"] = True
    rec.update(kept)
    return rec


def _detect(det: "Detector", texts: list[str], o: ScoreOptions, batch_size: int) -> list["Detection"]:
    if o.max_chars == DEFAULT_MAX_CHARS:  # the default: also for detectors whose detect_many has no max_chars
        return det.detect_many(texts, batch_size=batch_size, evidence=o.evidence)
    return det.detect_many(texts, batch_size=batch_size, evidence=o.evidence, max_chars=o.max_chars)


def _score_chunk(det: "Detector", chunk: Sequence[Row], o: ScoreOptions) -> list[dict[str, Any]]:
    """One output record per row of ``chunk``, in order; a failing batch is retried row by row."""
    texts: list[str] = []
    where: list[int] = []
    errors: list[str | None] = []
    for row in chunk:
        text, err = _text_of(row, o.text_field)
        errors.append(err)
        if text is not None:
            where.append(len(errors) - 1)
            texts.append(text)
    results: list[Detection | None] = [None] * len(chunk)
    try:
        for i, d in zip(where, _detect(det, texts, o, o.batch_size)):
            results[i] = d
    except Exception:  # one poisonous text must not cost its neighbours: retry one by one
        for i, t in zip(where, texts):
            try:
                results[i] = _detect(det, [t], o, 1)[0]
            except Exception as exc:  # noqa: BLE001 - reported per row
                errors[i] = f"scoring failed: {type(exc).__name__}: {exc}"[:200]
    out = []
    for row, d, err in zip(chunk, results, errors):
        f = row.fields
        rid = row.n if o.id_field is None else (f.get(o.id_field) if f is not None else None)
        if err is not None and rid is None and row.n:
            err = f"{err} (row {row.n})"
        kept = {k: (f.get(k) if f is not None else None) for k in o.keep_fields}
        out.append(_record(rid, d, err, kept, o.evidence))
    return out


def score_rows(detector: "Detector", rows: Iterable[Mapping[str, Any]], options: ScoreOptions = ScoreOptions()
               ) -> Iterator[dict[str, Any]]:
    """Score in-memory records (e.g. ``df.to_dict("records")``) lazily; same output records as ``score_file``."""
    det = with_thresholds(detector, options.threshold, options.label_thresholds)
    numbered = (Row(n, dict(r) if isinstance(r, Mapping) else None, None if isinstance(r, Mapping) else
                    f"not a record but {type(r).__name__}") for n, r in enumerate(rows, 1))
    size = max(options.batch_size * options.chunk_batches, 1)
    while chunk := list(islice(numbered, size)):
        yield from _score_chunk(det, chunk, options)
        release_freed_memory()


def _validate(input: str, output: str, in_fmt: str, out_fmt: str, o: ScoreOptions) -> None:
    clash = sorted(set(o.keep_fields) & set(OUTPUT_FIELDS))
    if clash:
        raise ValueError(f"--keep-fields {', '.join(clash)}: these names are output fields "
                         f"({', '.join(OUTPUT_FIELDS)}); rename the column or use --id-field")
    if o.batch_size < 1:
        raise ValueError("--batch-size must be at least 1")
    if o.max_chars is not None and o.max_chars < 0:
        raise ValueError("--max-chars must be 0 (no limit) or more")
    if o.resume and o.overwrite:
        raise ValueError("--resume and --overwrite exclude each other")
    if output == "-":
        if o.resume:
            raise ValueError("--resume needs an OUTPUT file, not standard output")
        if out_fmt == "parquet":
            raise ValueError("Parquet cannot be written to standard output; give -o FILE.parquet")
    elif input != "-" and os.path.exists(output) and os.path.exists(input) and os.path.samefile(input, output):
        raise ValueError("OUTPUT is the INPUT file; write somewhere else")
    if (o.group_by or o.time_field) and not o.report:
        raise ValueError("--group-by and --time-field need --report FILE.csv|FILE.json")
    if o.report and os.path.splitext(o.report.lower())[1] not in (".csv", ".json"):
        raise ValueError(f"--report must end in .csv or .json, got {o.report!r}")


def score_file(detector: "Detector | Callable[[], Detector]", input: str, output: str = "-",
               options: ScoreOptions = ScoreOptions(), *, progress_file: Any = None) -> ScoreSummary:
    """Score every record of ``input`` into ``output`` (``-`` = stdin/stdout); see the module docstring.

    ``detector`` may be a callable, so that bad input or options fail before a model is loaded.
    """
    o = options
    if output != "-" and (output.endswith(("/", os.sep)) or os.path.isdir(output)):
        raise ValueError(f"OUTPUT {output} is a directory: partitioned output is written by --engine ray; "
                         "give an OUTPUT file")
    in_fmt = guess_format(input, o.input_format)
    out_fmt = guess_format(output, o.output_format, output=True)
    _validate(input, output, in_fmt, out_fmt, o)
    columns = (*OUTPUT_FIELDS, *o.keep_fields)
    size = max(o.batch_size * o.chunk_batches, 1)
    needed = [c for c in (o.text_field, o.id_field, *o.keep_fields, o.group_by, o.time_field) if c]
    with open_input(input, in_fmt, columns=needed, chunk=size) as reader:
        rows: Iterator[Row] = iter(reader)
        if reader.columns is not None:
            check_columns(reader.columns, input, o.text_field, id_field=o.id_field, keep=o.keep_fields,
                          group_by=o.group_by, time_field=o.time_field)
        else:
            rows = peek_text_field(rows, o.text_field, input)
        plan = OutputPlan(output, out_fmt, columns, resume=o.resume, overwrite=o.overwrite)
        t0 = time.perf_counter()
        det = detector() if callable(detector) and not hasattr(detector, "detect_many") else detector
        loaded = time.perf_counter()
        det = with_thresholds(det, o.threshold, o.label_thresholds)  # type: ignore[arg-type]
        plan.check(run_meta(input, in_fmt, o, det))  # refuses to continue another run's partial output
        tally = Tally(det.labels, o.group_by, o.time_field, grouped=bool(o.report))
        last = None
        for rec in plan.done_records():
            row = next(rows, None)
            if row is None:
                raise ValueError(f"cannot resume: {plan.source} has {plan.done} records but {input} has only "
                                 f"{tally.rows} rows; it is not from this input")
            tally.add(row.fields, rec)
            last = (row, rec)
        if last is not None:
            row, rec = last
            rid = row.n if o.id_field is None else (row.fields or {}).get(o.id_field)
            if rec.get("id") is not None and rid is not None and str(rec["id"]) != str(rid):
                raise ValueError(f"cannot resume: the last record of {plan.source} has id {rec['id']!r} but row "
                                 f"{row.n} of {input} has id {rid!r}; it is not from this input (--overwrite starts "
                                 "over)")
        start = time.perf_counter()  # rows/s counts new rows only
        schema = None
        if out_fmt == "parquet":
            schema = arrow_schema(det.labels, o.id_field, o.keep_fields, reader.arrow_schema)
        bar = None
        sink = plan.open(schema)
        try:
            if o.progress:
                import sys

                from tqdm import tqdm

                bar = tqdm(total=reader.total, initial=plan.done, unit=" rows", file=progress_file or sys.stderr,
                           dynamic_ncols=True, mininterval=0.5, smoothing=0.05)
            while chunk := list(islice(rows, size)):
                recs = _score_chunk(det, chunk, o)
                sink.write(recs)
                for row, rec in zip(chunk, recs):
                    tally.add(row.fields, rec)
                if bar is not None:
                    bar.update(len(chunk))
                del recs, chunk
                release_freed_memory()
            plan.commit()
        finally:
            plan.close()  # an interrupted run keeps OUTPUT.partial and its checkpoint for the next run
            if bar is not None:
                bar.close()
    groups = tally.stats() if o.report else None
    if groups is not None:
        write_report([g.to_dict() for g in groups], o.report, det.labels)  # type: ignore[arg-type]
    return ScoreSummary(output=output, rows=tally.rows, errors=tally.errors,
                        label_counts=dict(zip(tally.labels, tally.counts)), resumed=plan.done,
                        seconds=time.perf_counter() - start, load_seconds=loaded - t0, groups=groups,
                        truncated=tally.truncated)


def run_meta(input: str, in_fmt: str, o: ScoreOptions, det: "Detector") -> dict[str, Any]:
    """What a checkpoint records about a run: the input file, the options that change records, the model."""
    import hashlib
    import json

    from .checkpoint import input_fingerprint

    opts = {"format": in_fmt, "text_field": o.text_field, "id_field": o.id_field, "keep_fields": list(o.keep_fields),
            "evidence": o.evidence, "max_chars": o.max_chars or 0}
    cfg = getattr(det, "config", None)
    model = json.dumps([cfg.to_dict() if hasattr(cfg, "to_dict") else repr(cfg), getattr(det, "quantize", None)],
                       sort_keys=True, default=str)
    return {"input": input_fingerprint(input), "options": opts,
            "model": hashlib.sha256(model.encode("utf-8")).hexdigest()[:16]}


def format_summary(s: ScoreSummary) -> str:
    """The exit summary printed on stderr: rows, errors, rows per label."""
    new = s.rows - s.resumed
    lines = [f"scored {s.rows} rows ({s.errors} errors) into {s.output} in {s.seconds:.1f}s"
             + (f" ({s.rows_per_second:.0f} rows/s)" if new else "") + f" after {s.load_seconds:.1f}s loading the model"
             + (f"; {s.resumed} rows were already done (resumed)" if s.resumed else "")]
    if s.truncated:
        lines.append(f"  {s.truncated} rows longer than --max-chars were scored on their first characters "
                     "('truncated' in their records)")
    ok = s.rows - s.errors
    for lab, n in s.label_counts.items():
        lines.append(f"  {lab:<16} {n:>9}  ({100.0 * n / ok if ok else 0.0:.2f}% of scored rows)")
    return "\n".join(lines)

