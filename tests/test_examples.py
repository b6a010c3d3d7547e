"""The codebook's example table and the README's sentences (with their Simplified, Traditional and Cantonese
renderings) get exactly the right labels from the shipped model (slow: real backbone)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
D, G = "dehumanising", "delegitimising"


def codebook_examples() -> list[tuple[str, tuple[str, ...]]]:
    """Rows of the '## Examples' table of docs/codebook.md."""
    text = (REPO / "docs" / "codebook.md").read_text(encoding="utf-8")
    table = text.split("## Examples", 1)[1].split("\n\n", 1)[0]
    out = []
    for line in table.splitlines()[3:]:
        m = re.match(r"\| (.+?) \| ([01]) \| ([01]) \|$", line.strip())
        if m:
            out.append((m[1], tuple(lab for lab, v in ((D, m[2]), (G, m[3])) if v == "1")))
    return out


# The README's sentences and their renderings in each script (written for this test, not from any corpus).
README = [
    ("Those people are vermin and must be swept off our streets.", (D,)),
    ("那些人就是害虫，必须从我们的街道上清除干净。", (D,)),
    ("那些人就是害蟲，必須從我們的街道上清除乾淨。", (D,)),
    ("嗰班人係害蟲，一定要喺街上面清走晒佢哋。", (D,)),
    ("Masked thugs paid by foreign forces stormed the council again.", (G,)),
    ("蒙面暴徒收了外国势力的钱，又冲击立法会。", (G,)),
    ("蒙面暴徒收了外國勢力的錢，又衝擊立法會。", (G,)),
    ("班蒙面暴徒收咗外國勢力啲錢，又衝擊立法會。", (G,)),
    ("They are like cockroaches that need to be killed.", (D,)),
    ("他们就像蟑螂一样，必须被消灭。", (D,)),
    ("他們就像蟑螂一樣，必須被消滅。", (D,)),
    ("佢哋就好似曱甴咁，一定要殺晒。", (D,)),
    ("These protesters are no different from ISIS fighters.", (G,)),
    ("这些示威者跟ISIS武装分子没有分别。", (G,)),
    ("這些示威者跟ISIS武裝分子沒有分別。", (G,)),
    ("啲示威者同ISIS武裝分子冇分別。", (G,)),
]
# Misses of the shipped model, kept visible (strict: the test fails once the model gets them right).
KNOWN_MISSES: dict[str, str] = {}


def _params() -> list:  # type: ignore[type-arg]
    out = []
    for text, labels in codebook_examples() + README:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[text])] if text in KNOWN_MISSES else []
        out.append(pytest.param(text, labels, marks=marks, id=text[:24]))
    return out


@pytest.fixture(scope="module")
def det(shipped_detector):  # type: ignore[no-untyped-def]
    return shipped_detector


def test_codebook_table_is_parsed() -> None:
    assert len(codebook_examples()) == 10


@pytest.mark.parametrize("text, labels", _params())
def test_example_gets_its_labels(det, text: str, labels: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    d = det.detect(text, evidence=False)
    assert d.labels == labels, (d.labels, d.scores)
