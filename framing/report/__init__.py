"""framing.report: one self-contained HTML report of a ``framing score`` output file.

An app on top of the library: it reads only the scored-record format (and a model
directory's config for the "how to read this" note); the core never imports it.
Needs the ``report`` extra (matplotlib, Jinja2): ``pip install "framing[report]"``.

    framing.report.build("scored.jsonl", "report.html", ReportOptions(group_by="author", time_field="date"))
"""
from __future__ import annotations

from .build import ReportOptions, ReportSummary, build

__all__ = ["build", "ReportOptions", "ReportSummary"]
