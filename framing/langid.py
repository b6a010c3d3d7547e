"""Language and script detection for en / zh-Hans / zh-Hant / yue / mixed / other.

A transparent heuristic, not a model: it counts Han characters, Latin letters
and other scripts; decides Simplified vs Traditional by which characters OpenCC
would change in either direction; and recognises Cantonese by markers that
standard written Chinese does not use (嘅 咗 佢 冇 啲 嚟 喺 嗰 哋 ...). Its accuracy
on a hand-labelled sample is reported in docs/language.md
(``python training/eval_langid.py`` reproduces it).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["LanguageGuess", "detect_language", "LANGUAGES"]

Lang = Literal["en", "zh-Hans", "zh-Hant", "yue", "mixed", "other"]
LANGUAGES: tuple[str, ...] = ("en", "zh-Hans", "zh-Hant", "yue", "mixed", "other")


@dataclass(frozen=True)
class LanguageGuess:
    """``lang`` with a confidence in [0, 1]; ``script`` is Hans, Hant, Latn, mixed or none."""

    lang: Lang
    confidence: float
    script: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_HAN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f]")
_KANA_HANGUL_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uac00-\ud7af\u1100-\u11ff]")
_OTHER_LETTER_RE = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0900-\u0dff\u0e00-\u0e7f]")
# Cantonese-only characters/words in running text; 係 and 唔 need context (關係, 唔 interjection)
_YUE_STRONG_RE = re.compile(
    "嘅|咗|佢|冇|啲|嚟|喺|嗰|哋|嘢|噉|咁|乜|睇|諗|谂|攞|揾|搵|冚|曱甴|嘥|咩|嘞|囉|啱|㗎|喎|嚿|俾佢|畀|瞓|攰|靚|邊個|边个|點解|点解|唔係|唔系|唔好|唔使|唔該|唔该|而家|依家|呢度|嗰度|乜嘢|咪|冧|揸|撳|嗌|唞|啩|嘛係"
)
_YUE_WEAK_RE = re.compile(
    "(?<![關关联聯])係|唔|呢(?=[個个啲班度])|佢哋|我哋|你哋|我地|你地|佢地|(?<=[\u4e00-\u9fff])[dD](?=[\u4e00-\u9fff])"
    "|既(?![然往定是而])|(?<=[\u4e00-\u9fff])系(?![統统列數数])|扮野|搞野|做野|咩野|(?<=[\u4e00-\u9fff])左(?=[\u4e00-\u9fff])(?<![向往])"
)
_EN_WORDS_RE = re.compile(
    r"\b(the|a|an|and|or|is|are|was|were|be|to|of|in|on|for|with|that|this|it|they|them|he|she|we|you|i|my|not|no|"
    r"but|so|at|by|from|have|has|had|do|does|did|will|would|can|just|like|all|what|who|if|as|about|hong|kong|"
    r"police|people|protest\w*|lol|lmao|ain't|u|ur|dont|don't|im|i'm|shit|fuck\w*|bitch\w*|hoes?|niggas?)\b",
    re.I,
)


def _script(han: str) -> str:
    """Hans or Hant by the characters each OpenCC direction would change."""
    from .normalizer import _converter

    t2s = _converter("hktw2s").convert(han)
    s2t = _converter("s2t").convert(han)
    trad = sum(1 for a, b in zip(han, t2s) if a != b)
    simp = sum(1 for a, b in zip(han, s2t) if a != b)
    if trad > simp:
        return "Hant"
    if simp > trad:
        return "Hans"
    return "Hans"  # script-neutral text (all shared characters): Hans by convention


def detect_language(text: str) -> LanguageGuess:
    """Guess the language variety and script of ``text``.

    >>> detect_language("佢哋係曱甴").lang
    'yue'
    """
    if not isinstance(text, str):
        raise TypeError(f"detect_language() expects str, got {type(text).__name__}")
    text = unicodedata.normalize("NFKC", text.encode("utf-8", "replace").decode("utf-8"))  # full-width letters count
    han_chars = _HAN_RE.findall(text)
    n_han = len(han_chars)
    n_lat = len(_LATIN_RE.findall(text))
    n_oth = len(_KANA_HANGUL_RE.findall(text)) + len(_OTHER_LETTER_RE.findall(text))
    total = n_han + n_lat + n_oth
    if total == 0:
        return LanguageGuess("other", 0.5, "none")
    if n_oth / total > 0.3:
        return LanguageGuess("other", min(1.0, n_oth / total), "other")
    # Latin is measured in words, Han in characters: ~1 English word carries ~2 Han characters of content
    lat_words = len(re.findall(r"[A-Za-z\u00c0-\u024f]+", text))
    han_weight, lat_weight = n_han / 2.0, float(lat_words)
    share_han = han_weight / max(han_weight + lat_weight, 1e-9)
    if n_han >= 4 and lat_words >= 3 and 0.15 < share_han < 0.85:
        return LanguageGuess("mixed", round(1 - abs(share_han - 0.5), 3), "mixed")
    if share_han >= 0.5:
        han = "".join(han_chars)
        script = _script(han)
        strong = len(_YUE_STRONG_RE.findall(text))
        weak = len(_YUE_WEAK_RE.findall(text))
        score = strong + 0.5 * weak
        if score >= 2 or (score >= 1 and n_han <= 12) or (n_han and score / n_han > 0.04):
            return LanguageGuess("yue", round(min(1.0, 0.6 + 0.1 * score), 3), script)
        conf = 0.95 if n_han >= 6 else 0.7
        return LanguageGuess("zh-Hant" if script == "Hant" else "zh-Hans", conf, script)
    # Latin text: English unless it lacks English function words
    en_hits = len(_EN_WORDS_RE.findall(text))
    if lat_words >= 4 and en_hits / lat_words < 0.08:
        return LanguageGuess("other", 0.6, "Latn")
    conf = 0.95 if lat_words >= 4 else 0.7
    return LanguageGuess("en", conf, "Latn")
