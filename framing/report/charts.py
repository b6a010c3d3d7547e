"""The report's charts, drawn by matplotlib as SVG and embedded as ``data:`` images (no network, no script).

An SVG inside ``<img>`` cannot run script, so whatever label names a scored file
holds cannot inject anything into the page. Output is deterministic (fixed
hash salt, no date in the metadata).
"""
from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta, timezone
from typing import Any, Sequence

__all__ = ["svg_data_uri", "rates_chart", "time_chart", "bucket_size"]

_COLORS = ("#c0392b", "#2e6da4", "#8e44ad", "#d68910", "#16a085", "#7f8c8d")


def _figure(w: float, h: float, rows: int = 1) -> tuple[Any, Any]:
    import matplotlib
    from matplotlib.figure import Figure

    matplotlib.rcParams["svg.hashsalt"] = "framing-report"
    matplotlib.rcParams["svg.fonttype"] = "path"
    fig = Figure(figsize=(w, h), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, axes


def svg_data_uri(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def rates_chart(labels: Sequence[str], langs: Sequence[str], rate: dict[tuple[str, str], float]) -> str:
    """Grouped bars: % of scored posts with each label, per language."""
    fig, (ax,) = _figure(7.5, 2.6)
    width = 0.8 / max(len(labels), 1)
    for j, lab in enumerate(labels):
        xs = [i + (j - (len(labels) - 1) / 2) * width for i in range(len(langs))]
        ax.bar(xs, [100 * rate.get((lab, lg), 0.0) for lg in langs], width, label=lab,
               color=_COLORS[j % len(_COLORS)])
    ax.set_xticks(range(len(langs)), [_ascii(x) for x in langs])
    ax.set_ylabel("% of scored posts")
    ax.legend([_ascii(x) for x in labels], frameon=False, fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return svg_data_uri(fig)


def bucket_size(first_day: int, last_day: int) -> str:
    """'day' for spans up to 90 days, else 'week'."""
    return "day" if last_day - first_day <= 90 else "week"


def bucket_start(day: int, size: str) -> int:
    return day if size == "day" else day - (day + 3) % 7  # day 0 (1970-01-01) was a Thursday; weeks start Monday


def time_chart(labels: Sequence[str], series: dict[int, list[Any]], size: str, min_point: int) -> str:
    """Top: scored posts per bucket; then one panel per label: % of the bucket's posts with the label.

    Buckets with fewer than ``min_point`` posts get no rate point (a gap in the line).
    """
    days = sorted(series)
    x = [datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(days=d) for d in days]
    fig, axes = _figure(7.5, 1.3 + 1.2 * len(labels), rows=1 + len(labels))
    step = 1 if size == "day" else 7
    axes[0].bar(x, [series[d][0] for d in days], width=step * 0.9, color="#95a5a6", align="edge")
    axes[0].set_ylabel(f"posts/{size}", fontsize=8)
    for j, lab in enumerate(labels):
        ax = axes[j + 1]
        ys = [100 * series[d][2].get(lab, 0) / series[d][0] if series[d][0] >= min_point else float("nan")
              for d in days]
        ax.plot(x, ys, color=_COLORS[j % len(_COLORS)], lw=1.2, marker=".", ms=3)
        ax.set_ylabel(f"% {_ascii(lab)}", fontsize=8)
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=7)
    return svg_data_uri(fig)


def _ascii(s: str) -> str:
    """Chart text in the fonts matplotlib always has; tables show the exact names."""
    t = "".join(c if c.isascii() and c.isprintable() else "?" for c in str(s))
    return t[:24].replace("$", r"\$")
