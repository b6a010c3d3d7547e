"""Tests for the frame-cue lexicon (framing.lexicon): data validity, spans, positives, false friends."""
from __future__ import annotations

import re
import threading
from importlib import resources

import pytest

from framing.lexicon import (
    COLUMNS,
    LABELS,
    LANGS,
    STRENGTHS,
    CueMatch,
    Lexicon,
    LexiconEntry,
    load_lexicon,
    match_cues,
    parse_tsv,
)
from framing.normalizer import NormalizeConfig, normalize

FILES = {"en.tsv": {"en"}, "zh_hans.tsv": {"zh-Hans"}, "zh_hant.tsv": {"zh-Hant", "yue"}}
HEADER = "\t".join(COLUMNS)


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return load_lexicon()


def _rows() -> dict[str, list[LexiconEntry]]:
    root = resources.files("framing.lexicon")
    return {name: parse_tsv((root / name).read_text(encoding="utf-8"), name=name) for name in FILES}


def _labels(matches: list[CueMatch]) -> set[str]:
    return {m.label for m in matches}


# ---------------------------------------------------------------------------- data


def test_loads_and_has_enough_entries(lex: Lexicon) -> None:
    counts = lex.counts()
    print("\nlexicon entries per label x lang:")
    for label in LABELS:
        print(f"  {label:15s} " + "  ".join(f"{lang}={counts[label][lang]}" for lang in LANGS)
              + f"  total={sum(counts[label].values())}")
    assert sum(sum(c.values()) for c in counts.values()) == len(lex) == len(lex.entries)
    for label in LABELS:
        assert sum(counts[label].values()) >= 150, label
        # every language group is covered in both directions
        assert counts[label]["en"] >= 30, label
        assert counts[label]["zh-Hans"] >= 30, label
        assert counts[label]["zh-Hant"] + counts[label]["yue"] >= 30, label
        assert counts[label]["yue"] >= 10, label


def test_every_row_is_valid() -> None:
    seen: set[tuple[str, str, str]] = set()
    for name, rows in _rows().items():
        assert rows, name
        for e in rows:
            assert e.label in LABELS and e.strength in STRENGTHS and e.lang in LANGS, e
            assert e.lang in FILES[name], (name, e)
            assert e.term and e.note and e.source, e
            assert e.term == e.term.strip() and "\t" not in e.note, e
            if e.pattern:
                re.compile(e.pattern)
            key = (e.term, e.label, e.lang)
            assert key not in seen, f"duplicate {key}"
            seen.add(key)


def test_header_and_comment_lines() -> None:
    root = resources.files("framing.lexicon")
    for name in FILES:
        lines = [ln for ln in (root / name).read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
        assert lines[0] == HEADER, name
        assert all(len(ln.split("\t")) == len(COLUMNS) for ln in lines), name


def test_simplified_terms_are_simplified() -> None:
    for e in _rows()["zh_hans.tsv"]:
        if not e.pattern:
            assert normalize(e.term).text == e.term, e.term


def test_no_same_language_collisions_after_normalisation() -> None:
    """Two fixed terms of one label and language must not normalise to the same string."""
    seen: dict[tuple[str, str, str], str] = {}
    for rows in _rows().values():
        for e in rows:
            if e.pattern:
                continue
            key = (normalize(e.term).text.lower(), e.label, e.lang)
            assert key not in seen, f"{e.term!r} and {seen[key]!r} collide"
            seen[key] = e.term


def test_every_fixed_term_matches_in_context(lex: Lexicon) -> None:
    """Each literal term is found inside a sentence with a target (term-vs-context normalisation agrees)."""
    for e in lex.entries:
        if e.pattern:
            continue
        text = f"they are {e.term} now" if e.lang == "en" else f"他们都是{e.term}。"
        start = text.index(e.term)
        hits = [m for m in lex.match(text) if m.label == e.label and m.start <= start < m.end]
        assert hits, (e.term, e.label, lex.match(text))


# ---------------------------------------------------------------------------- spans


@pytest.mark.parametrize("text", [
    "呢班曱\u200b甴真係要清走",
    "ＲＩＯＴＥＲＳ took over the street",
    "這些廢-青就是一群曱 甴",
    "They are like c0ckr0aches that need to be killed.",
    "啲黑警全部都係狗，打死都唔使可憐。",
    "乱港分子勾结外国势力，搞颜色革命。",
    "共匪派三毛入嚟搞分化。",
    "  These   protesters are no different from ISIS fighters.",
])
def test_spans_map_back_to_original(lex: Lexicon, text: str) -> None:
    matches = lex.match(text)
    assert matches
    assert [m.start for m in matches] == sorted(m.start for m in matches)
    for m in matches:
        assert 0 <= m.start < m.end <= len(text)
        assert m.surface == text[m.start:m.end]
    for label in LABELS:
        mine = [m for m in matches if m.label == label]
        assert all(a.end <= b.start for a, b in zip(mine, mine[1:])), "overlap within a label"


def test_noisy_traditional_surface(lex: Lexicon) -> None:
    m = [m for m in lex.match("呢班曱\u200b甴真係要清走") if "曱" in m.surface]
    assert m and m[0].surface == "曱\u200b甴" and m[0].label == "dehumanising" and m[0].term == "曱甴"
    m = lex.match("ＲＩＯＴＥＲＳ took over the street")
    assert m[0].surface == "ＲＩＯＴＥＲＳ" and m[0].label == "delegitimising"


def test_accepts_normalized_input(lex: Lexicon) -> None:
    text = "這些廢青就是一群曱甴"
    assert lex.match(normalize(text)) == lex.match(text) == match_cues(text)


# ---------------------------------------------------------------------------- positives


@pytest.mark.parametrize("text,label,surfaces", [
    ("They are like cockroaches that need to be killed.", "dehumanising", ["cockroaches"]),
    ("這些廢青就是一群曱甴，應該清除。", "dehumanising", ["廢青", "曱甴"]),
    ("乱港分子勾结外国势力，搞颜色革命。", "delegitimising", ["乱港分子", "外国势力", "颜色革命"]),
    ("啲黑警全部都係狗，打死都唔使可憐。", "dehumanising", ["狗"]),
    ("啲黑警全部都係狗，打死都唔使可憐。", "delegitimising", ["黑警"]),
    ("共匪派三毛入嚟搞分化。", "delegitimising", ["共匪", "三毛"]),
    ("The rioters severely vandalised. Do they still think they can win HK people's heart?",
     "delegitimising", ["rioters"]),
    ("These protesters are no different from ISIS fighters.", "delegitimising", ["ISIS"]),
    ("these people are vermin and subhuman", "dehumanising", ["vermin", "subhuman"]),
    ("The protests are a CIA-backed colour revolution run by paid protesters.", "delegitimising",
     ["CIA-backed", "colour revolution", "paid protesters"]),
    ("so-called journalists from the fake news media", "delegitimising", ["so-called journalists", "fake news media"]),
    ("支那豬同蝗蟲滾返大陸", "dehumanising", ["支那豬", "蝗蟲"]),
    ("班藍屍同廢老又出嚟", "dehumanising", ["藍屍", "廢老"]),
    ("五毛同強國人又嚟洗版", "delegitimising", ["五毛", "強國人"]),
    ("呢班港獨暴徒係漢奸", "delegitimising", ["港獨", "暴徒", "漢奸"]),
    ("黑人都是黑鬼，和猴子一样", "dehumanising", ["黑鬼", "猴子"]),
    ("他们就是社会的毒瘤和人渣", "dehumanising", ["毒瘤", "人渣"]),
    ("所谓的民主派只是美国的走狗", "delegitimising", ["所谓的民主派", "走狗"]),
])
def test_positive_cues(lex: Lexicon, text: str, label: str, surfaces: list[str]) -> None:
    found = [m.surface for m in lex.match(text) if m.label == label]
    for s in surfaces:
        assert any(s.lower() in f.lower() for f in found), (s, found)


def test_strong_cue_needs_no_context(lex: Lexicon) -> None:
    assert _labels(lex.match("暴徒")) == {"delegitimising"}
    assert _labels(lex.match("subhuman")) == {"dehumanising"}


def test_weak_cue_needs_a_target(lex: Lexicon) -> None:
    assert lex.match("cockroaches") == []
    assert _labels(lex.match("they are cockroaches")) == {"dehumanising"}
    assert lex.match("垃圾") == []
    assert _labels(lex.match("这些人都是垃圾")) == {"dehumanising"}


# ---------------------------------------------------------------------------- false friends


@pytest.mark.parametrize("text", [
    "There are cockroaches in my kitchen again.",
    "我家厨房有蟑螂",
    "the flu virus spreads in winter",
    "垃圾分类从我做起",
    "Hundreds of thousands of Hong Kongers marched peacefully in the rain.",
    "Riot police fired tear gas near the harbour.",
    "I took out the trash and fed the dogs.",
    "We called pest control because rats got into the basement.",
    "They said the vaccine protects against the virus.",
    "印度支那半岛的历史",
    "这个五毛钱的硬币",
    "热狗很好吃",
    "杂种优势是遗传学概念",
    "无所谓啦",
    "屋企又有曱甴",
    "他们去医院打疫苗，预防病毒感染",
    "三毛流浪记是一部漫画",
    "I hope you get cancer",
])
def test_false_friends_give_no_cue(lex: Lexicon, text: str) -> None:
    assert lex.match(text) == [], lex.match(text)


# ---------------------------------------------------------------------------- API and errors


@pytest.mark.parametrize("bad", [None, 123, b"bytes", ["list"]])
def test_bad_input_raises_type_error(lex: Lexicon, bad: object) -> None:
    with pytest.raises(TypeError, match="expects str"):
        lex.match(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        match_cues(bad)  # type: ignore[arg-type]


def test_empty_text(lex: Lexicon) -> None:
    assert lex.match("") == [] and lex.match("   ") == []


def test_default_is_cached_and_thread_safe() -> None:
    got: list[int] = []
    threads = [threading.Thread(target=lambda: got.append(id(load_lexicon()))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(got)) == 1 and got[0] == id(load_lexicon())


def test_custom_file_and_config(tmp_path) -> None:
    p = tmp_path / "mine.tsv"
    p.write_text(f"# my cues\n{HEADER}\n亂港\tdelegitimising\tzh-Hant\tstrong\t\tnote\ttest\n"
                 f"vermin\tdehumanising\ten\tweak\t\tnote\ttest\n", encoding="utf-8")
    for cfg in (None, NormalizeConfig(script="zh-Hant"), NormalizeConfig(script="keep")):
        lex = Lexicon.load([p], config=cfg)
        assert len(lex) == 2
        assert [m.surface for m in lex.match("亂港派")] == ["亂港"]
        assert lex.match("vermin") == [] and lex.match("they are vermin")[0].term == "vermin"
    # OpenCC folds scripts: a Traditional entry matches Simplified text and vice versa
    assert [m.surface for m in Lexicon.load([p], config=NormalizeConfig(script="zh-Hant")).match("乱港派")] == ["乱港"]


@pytest.mark.parametrize("row,err", [
    ("x\tbadlabel\ten\tstrong\t\tn\ts", "label"),
    ("x\tdehumanising\tfr\tstrong\t\tn\ts", "lang"),
    ("x\tdehumanising\ten\tmedium\t\tn\ts", "strength"),
    ("x\tdehumanising\ten\tstrong\t(unclosed\tn\ts", "compile"),
    ("x\tdehumanising\ten\tstrong", "fields"),
])
def test_bad_rows_raise(tmp_path, row: str, err: str) -> None:
    p = tmp_path / "bad.tsv"
    p.write_text(f"{HEADER}\n{row}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=err):
        Lexicon.load([p])


def test_missing_header_and_duplicates_raise(tmp_path) -> None:
    p = tmp_path / "nohead.tsv"
    p.write_text("x\tdehumanising\ten\tstrong\t\tn\ts\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        Lexicon.load([p])
    e = LexiconEntry("x", "dehumanising", "en", "strong")
    with pytest.raises(ValueError, match="duplicate"):
        Lexicon([e, e])
