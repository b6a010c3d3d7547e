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

Steps, in order, each switchable in :class:`NormalizeConfig` (step 1 lives in
framing.cleanup, the OpenCC dictionaries in framing.script):
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
from dataclasses import asdict, dataclass
from typing import Any, Literal

from .cleanup import SURROGATE_RE, Chars, clean_unicode, collapse_whitespace, unicode_tables
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
    tables = unicode_tables()
    pairs = {chr(k): chr(v) for k, v in tables.one.items() if not chr(k).isspace() and not chr(v).isspace()}
    if map_hk:
        pairs.update(HK_CHAR_MAP)
    return tuple(sorted(pairs.items()))


_CHUNK_RE = re.compile(r"[^\s，。！？；：、,.!?;:]+[\s，。！？；：、,.!?;:]*|[\s，。！？；：、,.!?;:]+")
_HAS_CJK = Chars("\u3400-\u9fff\uf900-\ufaff", "\U00020000-\U0003134f")


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
    plain = text.isascii() and unicode_tables().ascii_special_re.search(text) is None
    if cfg.unicode and not plain:
        clean_unicode(buf, fold_1to1=not fuse)
    elif not cfg.unicode and SURROGATE_RE.search(buf.text):  # OpenCC cannot encode lone surrogates
        buf.text = SURROGATE_RE.sub("\ufffd", buf.text)
    if cfg.collapse_whitespace:
        collapse_whitespace(buf, lone=not plain)
    if has_cjk:
        _convert_script(buf, cfg.script, ("fold+hk" if cfg.map_hk_chars else "fold") if fuse else "")
    if cfg.map_hk_chars and not fuse and not buf.text.isascii() and _HK_RE.search(buf.text):
        buf.translate(_hk_table(cfg.script))
    if cfg.deobfuscate:
        before = len(buf.text)
        _deobfuscate(buf)
        if cfg.collapse_whitespace and len(buf.text) != before:
            collapse_whitespace(buf, lone=False)  # de-obfuscation only deletes or writes non-space characters
    if cfg.placeholders:
        _placeholders(buf)
    return Normalized(original=text, text=buf.text, _layers=tuple(buf.layers))
