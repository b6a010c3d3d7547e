"""docs/cli.md is generated from the commands' --help; fail when it is stale.

The generator runs in a fresh interpreter: Click caches a command's help option
the first time it is built, so tests that invoke a subcommand on its own (without
the ``framing`` group's ``-h``) would otherwise change the rendered help.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_cli_docs_are_current() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "37"}  # the output must not depend on the terminal
    r = subprocess.run([sys.executable, str(REPO / "docs" / "gen_cli_docs.py"), "--check"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + "\n(docs/cli.md is stale: run `python docs/gen_cli_docs.py`)"
    have = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in ("framing score", "framing detect", "framing normalize", "framing backbone export"):
        assert f"### `{name}`" in have
    assert "-h, --help" in have.split("### `framing score`")[1]
