"""Make the screenshots in docs/img/ with Debian's headless Chromium (Selenium + chromedriver).

- ``report_top.png``: the top (totals and rates, no post text) of the example report that
  tools/example_report.py builds locally in build/example/ira_report.html (not committed:
  its examples section quotes posts of the shared data, which stay out of the repository);
- ``serve_en.png`` and ``serve_yue.png``: the page of ``framing serve`` (bundled model,
  started on 127.0.0.1 for the occasion) with an English and a Cantonese text.

PNGs are reduced to a 64-colour palette to stay small. Chinese needs a CJK font
(Debian: fonts-wqy-microhei or fonts-noto-cjk).

    python tools/screenshots.py
"""
from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
IMG = REPO / "docs" / "img"
REPORT = REPO / "build" / "example" / "ira_report.html"
TEXTS = {"en": "These rioters are cockroaches paid by foreign forces, sweep the vermin off our streets.",
         "yue": "呢班曱甴收錢做嘢，黑警同廢青一樣都係垃圾，清除佢哋！"}


def driver(width: int, height: int):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or "chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},{height}"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver") or "chromedriver"),
                            options=opts)


def save(png: bytes, name: str) -> None:
    from PIL import Image

    im = Image.open(io.BytesIO(png)).convert("RGB").quantize(64, method=Image.Quantize.MEDIANCUT)
    IMG.mkdir(parents=True, exist_ok=True)
    im.save(IMG / name, optimize=True)
    print(f"wrote docs/img/{name} ({(IMG / name).stat().st_size / 1e3:.0f} kB)")


def report_shots() -> None:
    d = driver(1000, 1250)
    try:
        d.get(REPORT.as_uri())
        save(d.get_screenshot_as_png(), "report_top.png")
    finally:
        d.quit()


def serve_shots() -> None:
    import httpx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen([sys.executable, "-m", "framing", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        d = driver(900, 760)
        try:
            for lang, text in TEXTS.items():
                d.get(f"{url}/?text={quote(text)}")
                WebDriverWait(d, 120).until(ec.visibility_of_element_located((By.ID, "result")))
                save(d.get_screenshot_as_png(), f"serve_{lang}.png")
        finally:
            d.quit()
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    if not REPORT.exists():
        sys.exit(f"{REPORT} is missing: run python tools/example_report.py first")
    report_shots()
    serve_shots()
