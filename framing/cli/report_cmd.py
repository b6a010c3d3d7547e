"""``framing report``: an HTML report of a ``framing score`` output file."""
from __future__ import annotations

import click

from ._util import clean_errors


@click.command("report")
@click.argument("scored", metavar="SCORED")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), metavar="REPORT.html",
              help="The HTML file to write (replaced atomically).")
@click.option("--format", "input_format", type=click.Choice(["jsonl", "csv", "tsv", "parquet"], case_sensitive=False),
              help="Format of SCORED (default: from the extension).")
@click.option("--group-by", metavar="FIELD", help="Rank groups (e.g. accounts) by this kept field.")
@click.option("--time-field", metavar="FIELD", help="Time series by this kept field (epoch, ISO-8601, Twitter dates).")
@click.option("--text-field", default="text", show_default=True, metavar="FIELD",
              help="Kept field with the original text, for the examples.")
@click.option("--min-support", default=20, show_default=True,
              help="Groups need this many scored posts to be ranked by rate.")
@click.option("--top", default=15, show_default=True, help="Rows per top-groups and top-terms table.")
@click.option("--examples", default=5, show_default=True, help="Sampled example posts per label.")
@click.option("--seed", default=0, show_default=True, help="Seed of the example sample.")
@click.option("--title", help="Report title (default: from SCORED's name).")
@click.option("--model", "-m", type=click.Path(exists=True, file_okay=False),
              help="Model directory that scored the file, for the version and thresholds shown (default: the "
              "bundled one).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, no summary.")
@click.option("--progress", is_flag=True, help="Show the progress bar even when stderr is not a terminal.")
@clean_errors
def report_cmd(scored: str, output: str, input_format: str | None, group_by: str | None, time_field: str | None,
               text_field: str, min_support: int, top: int, examples: int, seed: int, title: str | None,
               model: str | None, quiet: bool, progress: bool) -> None:
    """Write one self-contained HTML report of SCORED (output of `framing score`).

    Sections: totals and rates per label and language; top groups by rate and by
    count (--group-by); a time series per label (--time-field); top evidence
    terms per label and sub-type; sampled examples with the evidence highlighted
    (--text-field); how to read it, with the model version and thresholds.

    Reads SCORED once, keeping counters and a sample only (bounded memory).
    Carry the fields through scoring with `framing score --keep-fields
    author,date,text`. No script and no network in the page.
    """
    from ..io import stderr_is_tty
    from ..report import ReportOptions, build

    opts = ReportOptions(group_by=group_by, time_field=time_field, text_field=text_field, min_support=min_support,
                         top=top, examples=examples, seed=seed, title=title, model=model, input_format=input_format,
                         progress=not quiet and (progress or stderr_is_tty()))
    s = build(scored, output, opts)
    if not quiet:
        click.echo(f"report of {s.rows} records ({s.errors} not scored; labels: {', '.join(s.labels) or 'none'}"
                   + (f"; {s.groups} groups" if group_by else "") + f") written to {output}", err=True)
