"""Language/script detection and segmentation."""
from __future__ import annotations

import logging

import pytest

from framing.langid import LANGUAGES, detect_language
from framing.segmenter import segment


@pytest.mark.parametrize(
    "text, lang",
    [
        ("They are like cockroaches that need to be killed.", "en"),
        ("乱港分子勾结外国势力，搞颜色革命。", "zh-Hans"),
        ("香港警方昨日拘捕多名示威者，並檢獲大批汽油彈。", "zh-Hant"),
        ("啲黑警全部都係狗，打死都唔使可憐。", "yue"),
        ("佢哋今日喺旺角搞事", "yue"),
        ("Hong Kong police 今日 fired tear gas at 示威者 again in Mong Kok", "mixed"),
        ("今日天好", "zh-Hans"),  # script-neutral characters
        ("こんにちは、元気ですか", "other"),
        ("Der Hund ist sehr groß und schön heute", "other"),
        ("😀😀😀", "other"),
        ("ＲＩＯＴＥＲＳ ａｒｅ ｔｈｕｇｓ", "en"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    guess = detect_language(text)
    assert guess.lang == lang
    assert guess.lang in LANGUAGES
    assert 0.0 <= guess.confidence <= 1.0


def test_detect_language_bad_input() -> None:
    with pytest.raises(TypeError):
        detect_language(None)  # type: ignore[arg-type]
    assert detect_language("").lang == "other"
    assert detect_language("x\ud800y").lang in LANGUAGES


def test_segment_uses_project_dictionary_and_original_spans() -> None:
    raw = "這些廢青就是一群曱甴，黑警攬炒 and the rioters"
    toks = segment(raw)
    words = [t.text for t in toks]
    for w in ("废青", "蟑螂", "黑警", "揽炒", "rioters"):
        assert w in words
    for t in toks:
        assert 0 <= t.start < t.end <= len(raw)
    cockroach = next(t for t in toks if t.text == "蟑螂")
    assert raw[cockroach.start:cockroach.end] == "曱甴"


def test_segment_leaves_user_logging_alone(caplog: pytest.LogCaptureFixture) -> None:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    segment("暴徒")
    assert (root.level, list(root.handlers)) == before


def test_segment_thread_safe() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = ["這些廢青就是一群曱甴", "黑警攬炒", "外國勢力黑手"] * 20
    with ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda t: [x.text for x in segment(t)], texts))
    assert results[:3] * 20 == results
