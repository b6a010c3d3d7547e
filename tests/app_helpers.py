"""Helpers for the app tests (report, server, browser): a tiny model directory, an HTML element list, Chromium."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .tiny import make_tiny_backbone

REPO = Path(__file__).resolve().parents[1]
LABELS = ("dehumanising", "delegitimising")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def tiny_model(root: Path, thresholds: dict[str, float] | None = None) -> Path:
    """A saved detector on the tiny random backbone, with the given thresholds."""
    from framing.detector import Detector
    from framing.model import ModelConfig

    bb = make_tiny_backbone(root / "backbone")
    out = Detector.build(LABELS, ModelConfig(base_model=str(bb), max_length=64), backbone_dir=str(bb)
                         ).save_pretrained(root / "model")
    cfg_path = out / "framing_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["thresholds"] = thresholds or {"dehumanising": 0.0, "delegitimising": 1.0}
    cfg_path.write_text(json.dumps(cfg))
    return out


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts)


class Elements(HTMLParser):
    """Every element of a page in document order, each with its attributes and its text (descendants included)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.all: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, dict(attrs))
        self.all.append(el)
        if tag not in _VOID:
            self._open.append(el)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        for el in self._open:
            el.parts.append(data)

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [e for e in self.all if e.tag == tag and all(
            (k.rstrip("_") == "class" and v in (e.attrs.get("class") or "").split()) or e.attrs.get(k) == v
            for k, v in attrs.items())]


def chromium() -> tuple[str, str]:
    """Paths of Debian's chromium and chromedriver, or skip the test saying why."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("Chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver; "
                    ".ci/run installs them)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[dev]')")
    return browser, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model_dir: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """``framing serve`` on 127.0.0.1 in a subprocess; waits (bounded) for /healthz."""
    import httpx

    port = _free_port()
    log = tempfile.TemporaryFile("w+")  # not a pipe: a full pipe would block the server
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "framing", "serve", "--model", str(model_dir), "--port", str(port),
                             "--log-level", "warning", *args], env=env, cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError(f"framing serve exited {proc.returncode}: {log.read()[-3000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    stop_server(proc)
    raise AssertionError("framing serve did not answer /healthz within 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
