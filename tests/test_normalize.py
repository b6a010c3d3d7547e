"""Normaliser: each step, offsets back to the original, script invariance, bad input."""
from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framing.normalizer import HK_CHAR_MAP, NormalizeConfig, Normalized, normalize


def surface(n: Normalized, start: int, end: int) -> str:
    return n.original[slice(*n.to_original(start, end))]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("蟑-螂", "蟑螂"),
        ("暴.徒", "暴徒"),
        ("曱 甴", "蟑螂"),
        ("呢班曱 甴", "呢班蟑螂"),
        ("曱\u200b甴", "蟑螂"),
        ("暴\u200d徒", "暴徒"),
        ("c0ckr0ach", "cockroach"),
        ("c o c k r o a c h", "cockroach"),
        ("r.a.t.s", "rats"),
        ("v3rm1n", "vermin"),
        ("ＲＩＯＴＥＲＳ", "RIOTERS"),
        ("ｃｏｃｋｒｏａｃｈ", "cockroach"),
        ("𝐜𝐨𝐜𝐤𝐫𝐨𝐚𝐜𝐡", "cockroach"),
        ("sooooo", "so"),
        ("\u201cthugs\u201d \u2014 paid", '"thugs" - paid'),
        ("  a\t\tb\n\nc  ", "a b c"),
        ("這些廢青", "这些废青"),
        ("裏面 乾淨 臺灣 衞生", "里面 干净 台湾 卫生"),
    ],
)
def test_plain_form(raw: str, expected: str) -> None:
    assert normalize(raw).text == expected


def test_offsets_point_at_original_characters() -> None:
    raw = "Those r4ts!! 這些廢青就是一群曱 甴，應該清除"
    n = normalize(raw)
    i = n.text.index("蟑螂")
    assert surface(n, i, i + 2) == "曱 甴"
    j = n.text.index("rats")
    assert surface(n, j, j + 4) == "r4ts"
    k = n.text.index("废青")
    assert surface(n, k, k + 2) == "廢青"


def test_spaced_letters_keep_their_own_spans() -> None:
    n = normalize("the c o c k r o a c h")
    i = n.text.index("cockroach")
    assert [surface(n, p, p + 1) for p in range(i, i + 9)] == list("cockroach")


def test_emoji_kept_and_zwj_sequences_intact() -> None:
    family = "👨\u200d👩\u200d👧"
    assert normalize(f"{family} 😡🐀").text == f"{family} 😡🐀"


def test_each_step_switchable() -> None:
    raw = "ＲＩＯＴ 曱-甴 這些"
    off = NormalizeConfig(unicode=False, collapse_whitespace=False, script="keep", map_hk_chars=False,
                          deobfuscate=False, placeholders=False)
    assert normalize(raw, off).text == raw
    assert normalize(raw, NormalizeConfig(script="keep")).text == "RIOT 蟑螂 這些"
    assert normalize(raw, NormalizeConfig(map_hk_chars=False)).text == "RIOT 曱甴 这些"
    assert normalize(raw, NormalizeConfig(deobfuscate=False)).text == "RIOT 蟑-螂 这些"
    assert normalize("这些废青", NormalizeConfig(script="zh-Hant")).text == "這些廢青"


def test_placeholders() -> None:
    cfg = NormalizeConfig(placeholders=True)
    n = normalize("@bob1 look https://t.co/xyz #暴徒 #FreeHK", cfg)
    assert n.text == "@user look [URL] 暴徒 FreeHK"
    i = n.text.index("[URL]")
    assert surface(n, i, i + 5) == "https://t.co/xyz"
    assert normalize("@bob1 https://t.co/x").text == "@bob1 https://t.co/x"  # off by default


def test_hk_characters_are_mapped() -> None:
    for ch in HK_CHAR_MAP:
        assert ch not in normalize(f"佢{ch}").text


def test_config_round_trip() -> None:
    cfg = NormalizeConfig(script="zh-Hant", placeholders=True)
    assert NormalizeConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="unknown"):
        NormalizeConfig.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="script"):
        NormalizeConfig(script="zh-TW")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [None, 3, b"bytes", ["list"]])
def test_non_str_is_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="expects str"):
        normalize(bad)  # type: ignore[arg-type]


def test_edge_inputs_give_valid_results() -> None:
    assert normalize("").text == ""
    assert normalize("   ").text == ""
    n = normalize("bad \ud800 surrogate 暴\udc00徒")
    assert "\ufffd" in n.text
    n.text.encode("utf-8")  # always encodable
    big = ("這些廢青就是一群曱甴 rioters r4ts " * 40000)[:1_000_000]
    nb = normalize(big)
    assert len(nb.text) > 900_000
    assert nb.to_original(0, len(nb.text)) == (0, len(big.rstrip()))


def test_ascii_fast_path_matches_the_general_path() -> None:
    """Plain ASCII skips the Unicode steps; ASCII with controls, tabs or backquotes must not."""
    n = normalize(" a\tb`c\x00d  e\x7f ")
    assert n.text == "a b'cd e"
    assert [n.original[slice(*n.char_span(i))] for i in range(len(n.text))] == ["a", "\t", "b", "`", "c", "d", "  ", "e"]
    plain = normalize("  so cooool  ")
    assert plain.text == "so col"
    assert plain.original[slice(*plain.to_original(3, 6))] == "cooool"


def test_offsets_are_built_on_first_use() -> None:
    n = normalize("暴.徒 and c0ckr0ach")
    assert "_index" not in n.__dict__  # nothing composed yet
    assert n.original[slice(*n.to_original(0, 2))] == "暴.徒"
    assert "_index" in n.__dict__


# ---- property tests ---------------------------------------------------------------------------------
_alphabet = st.sampled_from(
    list("abcXYZ019 \t\n.-_*@#$!") + list("蟑螂暴徒這些廢青曱甴噉嚿撚閪戇嘥裏乾臺衞线里")
    + ["\u200b", "\u200d", "\ufeff", "\u202e", "Ｒ", "ａ", "１", "，", "。", "😀", "👩", "\ufe0f", "𝐜", "\ud800", "…", "ﬁ"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_alphabet, max_size=60).map("".join), st.data())
def test_every_span_maps_inside_the_original(raw: str, data: st.DataObject) -> None:
    n = normalize(raw)
    assert len(n.spans()) == len(n.text)
    prev_start = 0
    for a, b in n.spans():
        assert 0 <= a < b <= len(raw)
        assert a >= prev_start  # monotone: order of characters is preserved
        prev_start = a
    if n.text:
        s = data.draw(st.integers(0, len(n.text)))
        e = data.draw(st.integers(s, len(n.text)))
        a, b = n.to_original(s, e)
        assert 0 <= a <= b <= len(raw)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("abcdefxyz ,;:?" + "暴徒示威者警察香港人民")), max_size=50).map("".join))
def test_unchanged_characters_round_trip(raw: str) -> None:
    """Characters that no step touches map back to themselves."""
    n = normalize(raw, NormalizeConfig(deobfuscate=False, collapse_whitespace=False))
    for i, ch in enumerate(n.text):
        a, b = n.to_original(i, i + 1)
        if b - a == 1 and raw[a] in "abcdefxyz,;:?暴徒示威者警察香港人民":
            assert raw[a] == ch


def test_bad_span_rejected() -> None:
    n = normalize("abc")
    with pytest.raises(ValueError):
        n.to_original(2, 9)


# ---- script invariance ------------------------------------------------------------------------------
def test_script_invariance(data_dir) -> None:  # type: ignore[no-untyped-def]
    """Same sentence in Simplified and Traditional normalises to the same text (>= 99% of pairs)."""
    import opencc

    rng = random.Random(7)
    hans, hant = [], []
    for line in open(data_dir / "hk_io" / "pool.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if r["lang"] == "zh-Hans" and len(r["text"]) >= 8:
            hans.append(r["text"])
        elif r["lang"] == "zh-Hant" and len(r["text"]) >= 8:
            hant.append(r["text"])
    for line in open(data_dir / "lihkg" / "pool.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if len(r["text"]) >= 8:
            hant.append(r["text"])
    hans_s = rng.sample(hans, 150)
    hant_s = rng.sample(hant, 150)
    s2hk, s2tw, t2s = opencc.OpenCC("s2hk"), opencc.OpenCC("s2tw"), opencc.OpenCC("t2s")
    pairs = [(t, s2hk.convert(t)) for t in hans_s[:75]] + [(t, s2tw.convert(t)) for t in hans_s[75:]]
    pairs += [(t2s.convert(t), t) for t in hant_s]  # genuinely Traditional originals
    same = sum(normalize(a).text == normalize(b).text for a, b in pairs)
    rate = same / len(pairs)
    print(f"\nscript invariance: {same}/{len(pairs)} = {rate:.2%} "
          f"(150 converted from genuine zh-Hans, 150 from genuine zh-Hant)")
    assert len(pairs) >= 300
    assert rate >= 0.99


# ---- the fast character scans -------------------------------------------------------------------------
def test_white_space_class_is_every_space_but_the_plain_one() -> None:
    import re

    from framing.cleanup import _WS_ONE_RE

    everything = "".join(map(chr, range(0xD800))) + "".join(map(chr, range(0xE000, 0x110000)))
    assert [m.start() for m in _WS_ONE_RE.finditer(everything)] == [
        m.start() for m in re.finditer(r"[^\S ]", everything)]


_scan_alphabet = st.sampled_from(list("a 暴\u3000\u200d\ufeff\U000e0041😂🄁𠀁\ud800ｃ") + ["\U00020001"])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_scan_alphabet, max_size=12))
def test_split_scans_find_what_the_whole_class_finds(text: str) -> None:
    from framing.cleanup import unicode_tables
    from framing.normalizer import _HAS_CJK

    tables = unicode_tables()
    for chars in (tables.rare, tables.one_chars, _HAS_CJK):
        assert chars.search(text) == (chars.re.search(text) is not None)
