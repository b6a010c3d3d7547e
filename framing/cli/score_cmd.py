"""``framing score``: batch scoring of JSONL/CSV/TSV/Parquet files with bounded memory."""
from __future__ import annotations

import sys

import click

from ._util import clean_errors

_FORMATS = ["jsonl", "csv", "tsv", "parquet"]


def _label_thresholds(values: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in values:
        lab, sep, num = v.partition("=")
        try:
            if not sep or not lab.strip():
                raise ValueError
            out[lab.strip()] = float(num)
        except ValueError:
            raise click.BadParameter(f"expected LABEL=VALUE, got {v!r}", param_hint="--label-threshold") from None
    return out


@click.command("score")
@click.argument("input", metavar="INPUT")
@click.option("--output", "-o", default="-", show_default=True, metavar="OUTPUT",
              help="Output file; its extension picks the format. '-' writes JSONL to standard output. With "
              "--engine ray, a DIRECTORY (ending in '/') gets part files written by the workers, a "
              "_manifest.json and _SUCCESS.")
@click.option("--format", "input_format", type=click.Choice(_FORMATS, case_sensitive=False),
              help="Input format (default: from the extension; JSONL for '-').")
@click.option("--output-format", type=click.Choice(_FORMATS, case_sensitive=False),
              help="Output format (default: from the extension; JSONL for '-'; Parquet for a directory).")
@click.option("--text-field", default="text", show_default=True, help="Field/column holding the text.")
@click.option("--id-field", help="Field/column copied to 'id' (default: 1-based line number for JSONL, "
              "record number for CSV/TSV/Parquet).")
@click.option("--keep-fields", default="", metavar="A,B", help="Comma-separated input fields copied to the output.")
@click.option("--batch-size", default=32, show_default=True, help="Texts per model batch.")
@click.option("--int8", is_flag=True, help="Dynamic int8 quantisation (faster on CPU; no model-attributed evidence).")
@click.option("--model", "-m", type=click.Path(file_okay=False), help="Model directory (default: the bundled one).")
@click.option("--threshold", type=float, help="One threshold for every label and language (overrides calibration).")
@click.option("--label-threshold", multiple=True, metavar="LABEL=VALUE",
              help="Threshold for one label (repeatable; wins over --threshold).")
@click.option("--evidence/--no-evidence", default=True, show_default=True,
              help="Add evidence spans (--no-evidence is faster; 'evidence' is then null).")
@click.option("--max-chars", default=10_000, show_default=True, type=click.IntRange(min=0), metavar="N",
              help="Score at most the first N characters (after normalisation) of each text; longer ones get "
              "'truncated': true. 0: no limit (every 256-token window of a text is scored).")
@click.option("--resume", is_flag=True, help="Continue the interrupted run of OUTPUT even if the input file changed "
              "since (its last record is checked against the input), or continue an OUTPUT of complete records.")
@click.option("--overwrite", is_flag=True, help="Discard the interrupted run of OUTPUT (OUTPUT.partial) and start "
              "over; with --engine ray, replace the part files of an earlier run in the output DIRECTORY.")
@click.option("--strict", is_flag=True, help="Exit with status 3 if any row could not be scored.")
@click.option("--group-by", metavar="FIELD", help="Per-group report by this input field (needs --report).")
@click.option("--time-field", metavar="FIELD", help="Timestamp field for first/last in the report.")
@click.option("--report", type=click.Path(dir_okay=False), metavar="FILE.csv|FILE.json",
              help="Write a per-group report: rows, rows and rate per label, first/last time, top evidence terms.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="'ray': read, score and order rows on a Ray Data actor pool (pip install 'framing[ray]'); "
              "files only, no --resume/--report.")
@click.option("--num-workers", type=int, help="--engine ray: scoring actors, one CPU each (default: all CPUs).")
@click.option("--ray-address", metavar="ADDRESS", help="--engine ray: join this cluster ('auto' or "
              "ray://host:10001) instead of starting a local Ray.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar, no summary (errors are still printed).")
@click.option("--progress", is_flag=True, help="Show the progress bar even when stderr is not a terminal.")
@clean_errors
def score_cmd(input: str, output: str, input_format: str | None, output_format: str | None, text_field: str,
              id_field: str | None, keep_fields: str, batch_size: int, int8: bool, model: str | None,
              threshold: float | None, label_threshold: tuple[str, ...], evidence: bool, max_chars: int, resume: bool,
              overwrite: bool, strict: bool,
              group_by: str | None, time_field: str | None, report: str | None, engine: str, num_workers: int | None,
              ray_address: str | None, quiet: bool, progress: bool) -> None:
    """Score every record of INPUT (JSONL, CSV, TSV, Parquet; '-' = stdin) into OUTPUT.

    One output record per input record, in input order: id, labels, scores,
    language, evidence and the --keep-fields. A record that cannot be scored
    (invalid JSON or UTF-8, missing/null/non-string text) gets 'error' instead
    of scores. A summary (rows, errors, truncated rows, rows per label) is
    printed on stderr.

    OUTPUT is written as OUTPUT.partial plus a checkpoint (OUTPUT.checkpoint)
    after every chunk, and renamed onto OUTPUT at the end. If a run is killed,
    running the same command again continues where it stopped; a run with
    another input or other options refuses and names --resume / --overwrite.

    Exit status: 0 ok, 1 error, 2 usage error, 3 --strict and some rows errored.
    """
    import contextlib
    import io

    from ..io import stderr_is_tty
    from ..score import ScoreOptions, format_summary, score_file

    keep = tuple(k.strip() for k in keep_fields.split(",") if k.strip())
    opts = ScoreOptions(
        text_field=text_field, id_field=id_field, keep_fields=keep,
        batch_size=batch_size, evidence=evidence, input_format=input_format, output_format=output_format,
        resume=resume, overwrite=overwrite, max_chars=max_chars, group_by=group_by, time_field=time_field, report=report, threshold=threshold,
        label_thresholds=_label_thresholds(label_threshold),
        progress=not quiet and (progress or stderr_is_tty()))

    def load():  # type: ignore[no-untyped-def]
        from ..default import default_model_dir
        from ..detector import CONFIG_NAME, Detector

        path = model or default_model_dir()
        if model is None and not (default_model_dir() / CONFIG_NAME).exists():
            raise click.ClickException(f"no bundled default model at {path}; pass --model DIR "
                                       "(a directory written by `framing train`)")
        quiet_load = io.StringIO() if quiet else None
        with contextlib.redirect_stderr(quiet_load) if quiet_load is not None else contextlib.nullcontext():
            return Detector.from_pretrained(path, quantize="int8" if int8 else None)

    if engine != "ray" and (num_workers is not None or ray_address):
        raise click.UsageError("--num-workers and --ray-address need --engine ray")
    try:
        if engine == "ray":
            summary = _score_ray(model, input, output, opts, num_workers, ray_address, int8)
        else:
            summary = score_file(load, input, output, opts)
    except BrokenPipeError:  # e.g. `framing score x.jsonl | head`: stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    if not quiet:
        click.echo(format_summary(summary), err=True)
        if report:
            click.echo(f"report: {len(summary.groups or ())} groups in {report}", err=True)
    if strict and summary.errors:
        click.echo(f"Error: {summary.errors} of {summary.rows} rows could not be scored (--strict)", err=True)
        raise SystemExit(3)


def _score_ray(model: str | None, input: str, output: str, opts: object, num_workers: int | None,
               address: str | None, int8: bool) -> object:
    import logging

    from ..integrations.ray import score_file_ray

    logging.getLogger("ray").setLevel(logging.ERROR)  # Ray Data's INFO lines would bury the summary

    return score_file_ray(model, input, output, opts, num_workers=num_workers, address=address,  # type: ignore
                          int8=int8)
