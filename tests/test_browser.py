"""The report file and the served page in a real browser: Debian's headless Chromium driven by Selenium.

Checks the live DOM: the evidence spans are highlighted for an English and a
Cantonese text, and hostile texts stay text (no injected element, no script run).
Skipped, saying why, where chromium/chromedriver are missing; .ci/run installs them.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from .app_helpers import chromium, start_server, stop_server, tiny_model

EN, YUE = "Those people are rats and must be removed.", "呢班曱甴全部都係黑暴"
HOSTILE = ('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
           '"onerror="window.__pwned=3" \u202eevil\u202c \u200bzw\u200d')


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    browser, driver_path = chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not try to download anything
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,1400"):
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


def _no_injection(d: Any) -> None:
    assert d.execute_script("return window.__pwned === undefined")
    found = d.execute_script(
        "return [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on')))"
        ".length + document.querySelectorAll('img:not(.chart), script:not([src])').length")
    assert found == 0


def _marks(d: Any, root: str) -> set[tuple[str, str]]:
    from selenium.webdriver.common.by import By

    return {(m.get_attribute("data-label"), m.get_attribute("textContent"))
            for m in d.find_elements(By.CSS_SELECTOR, f"{root} mark.ev")}


def test_report_in_chromium(driver: Any, tmp_path: Path) -> None:
    from framing.report import ReportOptions, build

    from .test_report import rec, write_jsonl

    recs = [rec(1, f"{EN} {HOSTILE}", ["dehumanising"], [("dehumanising", "rats")], author=HOSTILE),
            rec(2, YUE, ["dehumanising", "delegitimising"], [("dehumanising", "曱甴"), ("delegitimising", "黑暴")],
                lang="yue", author="hk")]
    out = tmp_path / "report.html"
    build(str(write_jsonl(tmp_path / "s.jsonl", recs)), str(out), ReportOptions(group_by="author", min_support=1))
    driver.get(out.as_uri())
    assert driver.title == "framing report: s.jsonl"
    assert {("dehumanising", "rats"), ("dehumanising", "曱甴"), ("delegitimising", "黑暴")} <= _marks(driver, ".example")
    texts = driver.execute_script("return [...document.querySelectorAll('.example .text')].map(e => e.textContent)")
    assert f"{EN} {HOSTILE}" in texts and YUE in texts
    _no_injection(driver)
    assert driver.execute_script("return document.images[0].naturalWidth") > 0  # the SVG chart renders offline


def test_served_page_in_chromium(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    proc, url = start_server(tiny_model(tmp_path))  # dehumanising over threshold for every text
    try:
        wait = WebDriverWait(driver, 60)
        for text, term in ((EN, "rats"), (YUE, "曱甴")):
            driver.get(f"{url}/?text={quote(text)}")  # the page fills the box and runs
            wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#highlighted mark.ev")))
            assert ("dehumanising", term) in _marks(driver, "#highlighted")
            assert driver.find_element(By.ID, "highlighted").get_attribute("textContent") == text
            assert "dehumanising" in driver.find_element(By.ID, "labels").text
        box = driver.find_element(By.ID, "text")
        box.clear()
        driver.execute_script("arguments[0].value = arguments[1]", box, HOSTILE + " rats")
        driver.find_element(By.ID, "run").click()
        wait.until(lambda d: d.find_element(By.ID, "highlighted").get_attribute("textContent") == HOSTILE + " rats")
        _no_injection(driver)
        assert driver.find_elements(By.CSS_SELECTOR, "#highlighted mark.ev")
        driver.execute_script("arguments[0].value = arguments[1]", box, "x" * 10001)
        driver.find_element(By.ID, "run").click()  # over the server's limit: the error is shown, as text
        wait.until(ec.visibility_of_element_located((By.ID, "error")))
        assert "at most 10000" in driver.find_element(By.ID, "error").text
    finally:
        stop_server(proc)
