"""Text normalisation with an exact map back to the original characters.

Design: every step rewrites the text, and every character of the output keeps
the span ``[start, end)`` of the ORIGINAL string it came from. Length-preserving
1:1 character maps (full-width folding, quotes, OpenCC, Hong Kong characters)
go through ``str.translate`` / OpenCC and record nothing; steps that change the
length (deletions, expansions, joins) record their segments, and the span arrays
are composed from those records only when offsets are first asked for.
(framing.offsets keeps the records.) ``Normalized.to_original(start, end)`` maps any span of
``Normalized.text`` to the exact span of the user's input, which is what lets
evidence point at the user's own characters.

Steps, in order, each switchable in :class:`NormalizeConfig`:
1. ``unicode``: NFKC compatibility folding (full-width Latin, digits and
   punctuation to half-width, styled maths letters to plain), removal of
   zero-width, bidi and control characters, lone surrogates to U+FFFD, unified
   quotes and dashes; ``collapse_whitespace`` folds runs of white space.
2. ``script``: OpenCC conversion of Hong Kong, Taiwan and mainland Traditional
   variants to one target script (Simplified by default).
3. ``map_hk_chars``: Hong Kong characters missing from the XLM-R vocabulary
   (曱甴 噉 嚿 撚 閪 戇 嘥) to Mandarin equivalents, so the model is not blind to them.
4. ``deobfuscate``: separators inside CJK words (蟑-螂, 曱 甴, 暴.徒), spaced and
   leetspeak Latin (c o c k r o a c h, c0ckr0ach), repeated letters (sooooo).
5. ``placeholders`` (off by default): URLs to ``[URL]``, @mentions to ``@user``,
   ``#hashtag`` to its text.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Literal

from .offsets import Normalized, _Buf

__all__ = ["NormalizeConfig", "Normalized", "normalize", "HK_CHAR_MAP"]

Script = Literal["zh-Hans", "zh-Hant", "keep"]


@dataclass(frozen=True)
class NormalizeConfig:
    """Which normalisation steps run; saved as JSON beside a model's weights."""

    unicode: bool = True
    collapse_whitespace: bool = True
    script: Script = "zh-Hans"
    map_hk_chars: bool = True
    deobfuscate: bool = True
    placeholders: bool = False

    def __post_init__(self) -> None:
        if self.script not in ("zh-Hans", "zh-Hant", "keep"):
            raise ValueError(f"script must be 'zh-Hans', 'zh-Hant' or 'keep', got {self.script!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NormalizeConfig":
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown NormalizeConfig fields: {sorted(unknown)}")
        return cls(**data)


# ---------------------------------------------------------------------------
# step 1: unicode clean-up

_REMOVE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200c\u200e\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0e\ufeff\uffa0\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
)
_REMOVE_ASTRAL = "\U000e0000-\U000e007f"  # tag characters
# U+FE0F (emoji presentation selector) is kept: it belongs to the emoji. The
# zero-width joiner is removed except inside emoji sequences (👨\u200d👩\u200d👧).
_EMOJI_RE = re.compile("[\u00a9\u00ae\u203c-\u3299\ufe0f\U0001f000-\U0001faff]")
_SURROGATES = "\ud800-\udfff"
_SURROGATE_RE = re.compile(f"[{_SURROGATES}]")
_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\ufe58": "-", "\ufe63": "-", "\uff0d": "-", "\t": " ", "\n": " ", "\r": " ", "\u2028": " ", "\u2029": " ",
}
# pure character classes (no look-behind) so that scanning stays in C; white
# space other than " " is spelled out (a category test costs twice a bitmap)
_WS_ONE_RE = re.compile("[" + "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != " ") + "]")
_SPACE_RUN_RE = re.compile(" {2,}")

_tables_lock = threading.Lock()
_tables: dict[str, Any] = {}


_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


class _Chars:
    """A character class to search for, split in two scans for speed.

    sre tests a class of BMP characters against a bitmap, but a class holding any
    astral character against a list of ranges (3-10x slower); the astral part is
    a second scan, run only when the text holds an astral character. ``re`` is
    the whole class, for ``sub`` and ``finditer``.
    """

    def __init__(self, bmp: str, astral: str = "") -> None:
        self.re = re.compile(f"[{bmp}{astral}]")
        self._bmp = re.compile(f"[{bmp}]")
        self._astral = re.compile(f"[{astral}]") if astral else None

    @classmethod
    def of(cls, chars: Iterable[str], bmp: str = "", astral: str = "") -> "_Chars":
        pool = set(chars)
        return cls(_char_class(c for c in pool if c <= "\uffff") + bmp,
                   _char_class(c for c in pool if c > "\uffff") + astral)

    def search(self, text: str) -> bool:
        if self._bmp.search(text) is not None:
            return True
        if self._astral is None or _ASTRAL_RE.search(text) is None:
            return False
        return self._astral.search(text) is not None


def _char_class(chars: Iterable[str]) -> str:
    """A regex character class body with consecutive code points folded into ranges (much faster in sre)."""
    ranges: list[list[int]] = []
    for cp in sorted({ord(c) for c in chars}):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


class _UnicodeTables:
    """1:1 fold table (NFKC, quotes, dashes) and the rarer edits (removals, expansions)."""

    def __init__(self) -> None:
        one: dict[int, int] = {}
        multi: dict[str, str] = {}
        ranges = [(0xA0, 0x3400), (0xA000, 0xD800), (0xF900, 0x10000), (0x1D400, 0x1D800), (0x1F100, 0x1F200)]
        for lo, hi in ranges:
            for cp in range(lo, hi):
                ch = chr(cp)
                if unicodedata.category(ch) == "Mn" or re.match(f"[{_REMOVE}{_REMOVE_ASTRAL}]", ch):
                    continue
                folded = unicodedata.normalize("NFKC", ch)
                if folded == ch:
                    continue
                folded = "".join(_QUOTES.get(c, c) for c in folded)
                if len(folded) == 1:
                    one[cp] = ord(folded)
                else:
                    multi[ch] = folded
        for k, v in _QUOTES.items():
            one[ord(k)] = ord(v)
        self.one = one
        self.one_chars = _Chars.of(chr(c) for c in one)
        self.multi = multi
        self.rare = _Chars.of(multi, bmp=f"{_REMOVE}\u200d{_SURROGATES}", astral=_REMOVE_ASTRAL)
        # ASCII input: the rare edits there are all removals (control characters)
        self.ascii_rare_re = re.compile(f"[{_char_class(c for c in map(chr, range(128)) if self.rare.re.match(c))}]")
        self.ascii_one_re = re.compile(f"[{_char_class(chr(c) for c in one if c < 128)}]")
        # what the clean-up and white-space steps rewrite in ASCII: with none of it, a text skips them
        special = (c for c in map(chr, range(128))
                   if self.ascii_rare_re.match(c) or self.ascii_one_re.match(c) or _WS_ONE_RE.match(c))
        self.ascii_special_re = re.compile(f"[{_char_class(special)}]")


def _unicode_tables() -> _UnicodeTables:
    tables = _tables.get("nfkc")
    if tables is not None:  # built: no lock needed to read
        return tables  # type: ignore[no-any-return]
    with _tables_lock:
        if "nfkc" not in _tables:
            _tables["nfkc"] = _UnicodeTables()
        return _tables["nfkc"]


def _rare_edit(tables: _UnicodeTables, text: str, m: re.Match[str]) -> str:
    ch = m.group(0)
    if ch in tables.multi:
        return tables.multi[ch]
    if "\ud800" <= ch <= "\udfff":
        return "\ufffd"  # lone surrogate: OpenCC and UTF-8 output cannot take it
    if ch == "\u200d":
        i = m.start()
        if 0 < i < len(text) - 1 and _EMOJI_RE.match(text[i - 1]) and _EMOJI_RE.match(text[i + 1]):
            return ch  # joiner inside an emoji sequence
    return ""


def _clean_unicode(buf: _Buf, fold_1to1: bool = True) -> None:
    """Removals and expansions; the 1:1 fold too unless OpenCC will do it in its own pass."""
    tables = _unicode_tables()
    text = buf.text
    if text.isascii():  # O(1) check; ASCII needs only the control-character removals and a few folds
        if tables.ascii_rare_re.search(text):
            buf.sub(tables.ascii_rare_re, lambda m: "")
        if fold_1to1 and tables.ascii_one_re.search(buf.text):
            buf.translate(tables.one)
        return
    if tables.rare.search(text):
        buf.sub(tables.rare.re, lambda m: _rare_edit(tables, text, m))
    if fold_1to1 and tables.one_chars.search(buf.text):
        buf.translate(tables.one)


def _collapse_ws(buf: _Buf, lone: bool = True) -> None:
    """Runs of white space to one space; none at either end.

    Lone tabs, newlines and other spaces become " " first (1:1, spans unchanged;
    skipped with ``lone=False`` when the text can hold no white space but " ");
    then runs of spaces, found by a literal scan, become one space whose span
    covers the whole run.
    """
    text = _WS_ONE_RE.sub(" ", buf.text) if lone else buf.text
    buf.text = text
    edits = [(m.start(), m.end(), " ") for m in _SPACE_RUN_RE.finditer(text)] if "  " in text else []
    if text[:1] == " ":
        end = len(text) - len(text.lstrip(" "))
        edits = [(0, end, "")] + [e for e in edits if e[0] >= end]
    if text[-1:] == " ":
        start = len(text.rstrip(" "))
        edits = [e for e in edits if e[1] <= start] + [(start, len(text), "")]
    if edits:
        buf.edit(edits)


# ---------------------------------------------------------------------------
# step 2: script conversion

_opencc_lock = threading.Lock()
_opencc: dict[str, Any] = {}


def _converter(name: str, fold: str = "") -> Any:
    """Cached OpenCC converter.

    ``hktw2s`` folds both HK and TW variants in one pass, on framing's pinned
    and merged dictionaries (framing.script); with ``fold`` set to ``"fold"`` or
    ``"fold+hk"`` the 1:1 Unicode fold (and the HK characters) join its first
    dictionary group, so that they cost no extra pass.
    """
    key = (name, fold)
    cc = _opencc.get(key)
    if cc is not None:
        return cc
    with _opencc_lock:
        if key not in _opencc:
            if name == "hktw2s":
                from .script import build_hktw2s

                _opencc[key] = build_hktw2s(_fold_pairs(fold == "fold+hk") if fold else ())
            else:
                import opencc

                _opencc[key] = opencc.OpenCC(name)
        return _opencc[key]


def _fold_pairs(map_hk: bool) -> tuple[tuple[str, str], ...]:
    """The 1:1 Unicode fold (and HK characters) as OpenCC dictionary pairs."""
    tables = _unicode_tables()
    pairs = {chr(k): chr(v) for k, v in tables.one.items() if not chr(k).isspace() and not chr(v).isspace()}
    if map_hk:
        pairs.update(HK_CHAR_MAP)
    return tuple(sorted(pairs.items()))


_CHUNK_RE = re.compile(r"[^\s，。！？；：、,.!?;:]+[\s，。！？；：、,.!?;:]*|[\s，。！？；：、,.!?;:]+")
_HAS_CJK = _Chars("\u3400-\u9fff\uf900-\ufaff", "\U00020000-\U0003134f")


def _opencc_convert(buf: _Buf, name: str, fold: str = "") -> None:
    """Convert with OpenCC; length changes (rare phrase mappings) are aligned per chunk."""
    text = buf.text
    cc = _converter(name, fold)
    out = cc.convert(text)
    if len(out) == len(text):
        buf.text = out
        return
    edits = []
    for m in _CHUNK_RE.finditer(text):
        seg = m.group(0)
        conv = cc.convert(seg)
        if conv != seg:
            if len(conv) == len(seg):
                edits.extend((m.start() + i, m.start() + i + 1, c) for i, c in enumerate(conv) if c != seg[i])
            else:
                edits.append((m.start(), m.end(), conv))
    buf.edit(edits)


def _convert_script(buf: _Buf, script: Script, fold: str = "") -> None:
    if script == "keep":
        return
    _opencc_convert(buf, "hktw2s", fold)
    if script == "zh-Hant":
        _opencc_convert(buf, "s2hk")


# ---------------------------------------------------------------------------
# step 3: Hong Kong characters outside the XLM-R vocabulary

#: Hong Kong characters -> Mandarin equivalents the backbone knows (Simplified).
HK_CHAR_MAP: dict[str, str] = {
    "曱": "蟑", "甴": "螂",  # 曱甴 cockroach -> 蟑螂
    "噉": "咁",  # so / like that (Cantonese 咁, in the vocabulary)
    "嚿": "块",  # lump, chunk
    "撚": "屌",  # vulgar intensifier
    "閪": "屄",  # vulgar
    "戇": "憨",  # foolish (戆, its Simplified form, is not in the vocabulary either)
    "嘥": "废",  # to waste
}
_HK_TRAD = {"嚿": "塊", "嘥": "廢"}


_HK_RE = re.compile("[" + "".join(HK_CHAR_MAP) + "]")


def _hk_table(script: Script) -> dict[int, int]:
    table = {ord(k): ord(v) for k, v in HK_CHAR_MAP.items()}
    if script != "zh-Hans":
        table.update({ord(k): ord(v) for k, v in _HK_TRAD.items()})
    return table


# ---------------------------------------------------------------------------
# step 4: de-obfuscation

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_CHAR_RE = re.compile(f"[{_CJK}]")
_SEPS = "-_.*|~+=/\\\\•·‧・"
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
# One small regex per pattern, each starting with a character class or literal
# (sre scans those in C; one big alternation is ~10x slower). The context a
# pattern needs on its left is checked in Python on the few matches.
_SEP_RE = re.compile(f"[{_SEPS}][{_SEPS}]{{0,2}}(?=[{_CJK}])")  # 蟑-螂 暴.徒 (a class first: sre scans for it in C)
# 曱 甴: a space between CJK characters when one side is an isolated character
# (a separator such as 曱-甴 keeps a run together)
_SP_RE = re.compile(
    f"(?P<sp> )(?<=[{_CJK}] )(?:"  # a CJK character on the left first: most spaces fail there
    f"(?:(?<=^[{_CJK}] )|(?<=[^{_CJK}{_SEPS}][{_CJK}] ))(?=[{_CJK}])"  # isolated character on the left
    f"|[{_CJK}](?![{_CJK}{_SEPS}])"  # isolated character on the right
    f")"
)
_SPACED_RE = re.compile(
    r"[ ._*-][A-Za-z][ ._*-][A-Za-z](?<=[A-Za-z][ ._*-][A-Za-z][ ._*-][A-Za-z])(?:[ ._*-][A-Za-z])+(?![\w])"
)
_LEET_RE = re.compile(r"[013457@$!](?<=[A-Za-z][013457@$!])[013457@$!]*(?=[A-Za-z])")  # c0ckr0ach
# one scan for runs of three or more of a character; Python then keeps the Latin
# letters (sooooo -> so) and the punctuation runs of four or more (!!!!!! -> !!!)
_REPEAT_RE = re.compile(r"(.)\1\1+")
_WORD_OR_SPACE_RE = re.compile(r"[\w\s]")


def _is_cjk(ch: str) -> bool:
    return bool(ch) and _CJK_CHAR_RE.match(ch) is not None


_ASCII_LETTER_RE = re.compile("[A-Za-z]")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _deobfuscate(buf: _Buf) -> None:
    text = buf.text
    edits: list[tuple[int, int, str]] = []
    if not text.isascii() and _HAS_CJK.search(text):
        for m in _SEP_RE.finditer(text):
            if m.start() and _is_cjk(text[m.start() - 1]):
                edits.append((m.start(), m.end(), ""))
        for m in _SP_RE.finditer(text):
            s = m.start()
            edits.append((s, s + 1, ""))
    if _ASCII_LETTER_RE.search(text) is not None:
        for m in _SPACED_RE.finditer(text):
            s, e = m.start() - 1, m.end()
            if s and (text[s - 1].isalnum() or text[s - 1] in "@#_"):
                s += 2  # the match began inside a word ("the c o c k ..."): start at the next letter
            if (e - s + 1) // 2 >= 4:
                # drop only the separators, so each letter keeps its own original span
                edits.extend((i, i + 1, "") for i in range(s + 1, e, 2))
        for m in _LEET_RE.finditer(text):
            edits.extend((i, i + 1, _LEET[text[i]]) for i in range(m.start(), m.end()))
    for m in _REPEAT_RE.finditer(text):
        s, e = m.span()
        ch = text[s]
        if ch in _ASCII_LETTERS:
            edits.append((s, e, ch))
        elif e - s >= 4 and _WORD_OR_SPACE_RE.match(ch) is None:
            edits.append((s, e, ch * 3))
    if not edits:
        return
    edits.sort()
    merged: list[tuple[int, int, str]] = []
    last_end = -1
    for ed in edits:  # overlapping matches of two patterns: the first one wins
        if ed[0] >= last_end:
            merged.append(ed)
            last_end = ed[1]
    buf.edit(merged)


# ---------------------------------------------------------------------------
# step 5: placeholders

_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"'，。]+", re.I)
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{1,30}")
_HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")


def _placeholders(buf: _Buf) -> None:
    buf.sub(_URL_RE, lambda m: "[URL]")
    buf.sub(_MENTION_RE, lambda m: "@user")
    buf.sub(_HASHTAG_RE, lambda m: m.group(1))


# ---------------------------------------------------------------------------

_DEFAULT = NormalizeConfig()


def normalize(text: str, config: NormalizeConfig | None = None) -> Normalized:
    """Normalise ``text`` and keep the map back to its characters.

    >>> n = normalize("呢班曱 甴")
    >>> n.text
    '呢班蟑螂'
    >>> n.original[slice(*n.to_original(2, 4))]
    '曱 甴'
    """
    if not isinstance(text, str):
        raise TypeError(f"normalize() expects str, got {type(text).__name__}")
    cfg = config or _DEFAULT
    if not isinstance(cfg, NormalizeConfig):
        raise TypeError(f"config must be a NormalizeConfig, got {type(cfg).__name__}")
    buf = _Buf(text)
    has_cjk = cfg.script != "keep" and not text.isascii() and _HAS_CJK.search(text)
    # when OpenCC runs anyway, the 1:1 folds ride along in its first dictionary group
    fuse = has_cjk and cfg.unicode and cfg.collapse_whitespace
    # plain ASCII (no control characters, tabs, newlines or backquotes; the common
    # English post) needs no Unicode clean-up and holds no white space but " "
    plain = text.isascii() and _unicode_tables().ascii_special_re.search(text) is None
    if cfg.unicode and not plain:
        _clean_unicode(buf, fold_1to1=not fuse)
    elif not cfg.unicode and _SURROGATE_RE.search(buf.text):  # OpenCC cannot encode lone surrogates
        buf.text = _SURROGATE_RE.sub("\ufffd", buf.text)
    if cfg.collapse_whitespace:
        _collapse_ws(buf, lone=not plain)
    if has_cjk:
        _convert_script(buf, cfg.script, ("fold+hk" if cfg.map_hk_chars else "fold") if fuse else "")
    if cfg.map_hk_chars and not fuse and not buf.text.isascii() and _HK_RE.search(buf.text):
        buf.translate(_hk_table(cfg.script))
    if cfg.deobfuscate:
        before = len(buf.text)
        _deobfuscate(buf)
        if cfg.collapse_whitespace and len(buf.text) != before:
            _collapse_ws(buf, lone=False)  # de-obfuscation only deletes or writes non-space characters
    if cfg.placeholders:
        _placeholders(buf)
    return Normalized(original=text, text=buf.text, _layers=tuple(buf.layers))
