"""CLI: --version, --help is fast and light, normalize with text, stdin and --json."""
from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from framing import __version__
from framing.cli import cli


def test_version() -> None:
    r = CliRunner().invoke(cli, ["--version"])
    assert r.exit_code == 0 and __version__ in r.output


def test_help_does_not_import_heavy_modules() -> None:
    code = ("import sys; from framing.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'transformers', 'opencc', 'jieba', 'datasets') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    assert "normalize" in out


def test_normalize_text_and_stdin() -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["normalize", "這些廢青就是一群曱 甴"])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "这些废青就是一群蟑螂"
    r = runner.invoke(cli, ["normalize", "-"], input="ＲＩＯＴＥＲＳ\n")
    assert r.output.strip() == "RIOTERS"


def test_normalize_json() -> None:
    r = CliRunner().invoke(cli, ["normalize", "--json", "啲黑警係曱甴"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["text"] == "啲黑警系蟑螂"
    assert data["language"]["lang"] == "yue"
    assert len(data["offsets"]) == len(data["text"])
    assert any(t["text"] == "蟑螂" and (t["start"], t["end"]) == (4, 6) for t in data["tokens"])
