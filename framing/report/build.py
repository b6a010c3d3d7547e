"""``framing.report.build``: read a scored file once, aggregate, write one self-contained HTML file atomically."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .aggregate import Aggregator
from .records import open_scored
from .render import context, render_html

__all__ = ["ReportOptions", "ReportSummary", "build"]


@dataclass(frozen=True)
class ReportOptions:
    """What to group and sample; see ``framing report --help``."""

    group_by: str | None = None
    time_field: str | None = None
    text_field: str = "text"
    min_support: int = 20
    top: int = 15
    examples: int = 5
    seed: int = 0
    title: str | None = None
    model: str | None = None  # model directory whose version/thresholds are shown (default: the bundled one)
    input_format: str | None = None
    progress: bool = False


@dataclass(frozen=True)
class ReportSummary:
    output: str
    rows: int
    errors: int
    labels: tuple[str, ...]
    groups: int


def _model(opts: ReportOptions) -> tuple[dict[str, Any] | None, str | None]:
    from ..modelinfo import model_info

    if opts.model is not None:
        return model_info(opts.model), None
    from ..default import default_model_dir

    try:
        return model_info(default_model_dir()), ("Model and thresholds shown are the bundled default model's; "
                                                 "if the file was scored with another model, pass --model DIR.")
    except FileNotFoundError:
        return None, "The model is unknown (no bundled default model; pass --model DIR)."


def _validate(opts: ReportOptions, output: str) -> None:
    for name in ("min_support", "top", "examples"):
        if getattr(opts, name) < (0 if name == "examples" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be at least {0 if name == 'examples' else 1}")
    if not output.lower().endswith((".html", ".htm")):
        raise ValueError(f"the report is HTML: OUTPUT must end in .html, got {output!r}")
    parent = Path(output).resolve().parent
    if not parent.is_dir():
        raise FileNotFoundError(f"output directory does not exist: {parent}")


def build(input: str, output: str, options: ReportOptions = ReportOptions(), *, progress_file: IO[str] | None = None
          ) -> ReportSummary:
    """Read ``input`` (``framing score`` output) in one pass and write the HTML report to ``output``."""
    o = options
    _validate(o, output)
    model, note = _model(o)
    needed = ["id", "labels", "scores", "language", "evidence", "error", "subtypes", o.text_field,
              *(f for f in (o.group_by, o.time_field) if f)]
    agg = Aggregator(group_by=o.group_by, time_field=o.time_field, text_field=o.text_field, examples=o.examples,
                     seed=o.seed)
    with open_scored(input, o.input_format, columns=needed) as f:
        if f.columns is not None:
            missing = [(opt, c) for opt, c in (("--group-by", o.group_by), ("--time-field", o.time_field)) if c
                       and c not in f.columns]
            if missing:
                raise ValueError("; ".join(f"{opt}: no column {c!r} in {input}" for opt, c in missing)
                                 + f" (columns: {', '.join(f.columns)}); carry it with framing score --keep-fields")
        bar = None
        if o.progress:
            from tqdm import tqdm

            bar = tqdm(total=f.total, unit=" rows", file=progress_file or sys.stderr, dynamic_ncols=True,
                       mininterval=0.5, desc="report")
        try:
            for i, rec in enumerate(f, 1):
                agg.add(rec)
                if bar is not None and not i % 4096:
                    bar.update(4096)
            if bar is not None:
                bar.update(agg.rows - bar.n)
        finally:
            if bar is not None:
                bar.close()
    if agg.rows == 0:
        raise ValueError(f"{input} holds no records")
    labels = set(agg.labels)
    if model is not None and labels and labels != set(model["labels"]):
        note = (f"The records' labels ({', '.join(sorted(labels))}) are not this model's "
                f"({', '.join(model['labels'])}): the thresholds shown are not the ones that scored the file. "
                "Pass --model DIR.")
    html = render_html(context(agg, source=input, model=model, model_note=note, min_support=o.min_support,
                               top=o.top, title=o.title))
    _write_atomic(output, html)
    return ReportSummary(output=output, rows=agg.rows, errors=agg.errors, labels=tuple(agg.labels),
                         groups=len(agg.groups))


def _write_atomic(path: str, text: str) -> None:
    import secrets

    p = Path(path)
    tmp = p.with_name(f".{p.name}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
