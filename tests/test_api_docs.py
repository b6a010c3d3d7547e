"""docs/api.md is generated from ``framing.__all__`` and the docstrings; fail when it is stale."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_api_docs_are_current() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run([sys.executable, str(REPO / "docs" / "gen_api_docs.py"), "--check"], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr + "\n(docs/api.md is stale: run `python docs/gen_api_docs.py`)"


def test_every_public_name_is_documented() -> None:
    import framing

    have = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    for name in framing.__all__:
        if name != "__version__":
            assert f"### `framing.{name}" in have, name
    assert "`framing.__version__`" in have


def test_signature_formatting() -> None:
    sys.path.insert(0, str(REPO / "docs"))
    try:
        import gen_api_docs as g
    finally:
        sys.path.remove(str(REPO / "docs"))

    def f(a: int, /, b: "str" = "x", *args: int, c: float = 1.0, _hidden: int = 0, **kw: str) -> "list[int]":
        """First line.

        Second paragraph."""
        return []

    assert g.signature(f) == "(a: int, /, b: str = 'x', *args: int, c: float = 1.0, **kw: str) -> list[int]"
    assert g.summary(f) == "First line."
    assert g.summary(g.entry) == "The markdown block of one public name."


def test_public_names_survive_submodule_imports() -> None:
    """Importing framing's submodules must not replace a public function with a module of the same name."""
    import importlib
    import pkgutil
    import types

    import framing

    for mod in pkgutil.walk_packages(framing.__path__, "framing."):
        if ".models" not in mod.name and not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    for name in framing.__all__:
        value = getattr(framing, name)
        assert not isinstance(value, types.ModuleType), f"framing.{name} is a module, not the public object"
        if name != "__version__":
            assert callable(value), name
