"""The ``framing`` command line: one Click group, one module per subcommand family.

Subcommand modules are imported lazily by :class:`LazyGroup` so that
``framing --help`` and ``framing --version`` never import torch or OpenCC.
Library errors (``ValueError``, ``FileNotFoundError``, ``BackboneError`` ...)
are turned into one clean line on stderr and exit code 1.
"""
from __future__ import annotations

import importlib
from typing import Any

import click

from .._version import __version__

# command name -> "module:attribute"
_COMMANDS: dict[str, str] = {
    "normalize": "framing.cli.normalize_cmd:normalize_cmd",
    "backbone": "framing.cli.backbone_cmd:backbone_group",
    "detect": "framing.cli.detect_cmd:detect_cmd",
    "train": "framing.cli.detect_cmd:train_cmd",
    "evaluate": "framing.cli.detect_cmd:evaluate_cmd",
    "score": "framing.cli.score_cmd:score_cmd",
    "export": "framing.cli.export_cmd:export_cmd",
    "report": "framing.cli.report_cmd:report_cmd",
    "serve": "framing.cli.serve_cmd:serve_cmd",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS:
            module_name, attr = _COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module_name), attr)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="framing")
def cli() -> None:
    """Find dehumanising and delegitimising frames in English and Chinese text."""


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``framing`` console script."""
    return cli.main(args=argv, prog_name="framing")
