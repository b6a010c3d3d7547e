"""Text normalisation with an exact map back to the original characters.

Design: every step rewrites the text, and every character of the output keeps
the span ``[start, end)`` of the ORIGINAL string it came from. Length-preserving
1:1 character maps (full-width folding, quotes, OpenCC, Hong Kong characters)
go through ``str.translate`` / OpenCC and leave the span arrays untouched, so
the common path costs little more than OpenCC itself; only steps that change the
length (deletions, expansions, joins) touch the span arrays, and only where
they match. ``Normalized.to_original(start, end)`` then maps any span of
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

import json
import os
import re
import tempfile
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Literal

import numpy as np

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


@dataclass(frozen=True, eq=False)
class Normalized:
    """Normalised text plus the span of the original behind each character."""

    original: str
    text: str
    _starts: np.ndarray | None = field(default=None, repr=False)
    _ends: np.ndarray | None = field(default=None, repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Normalized):
            return NotImplemented
        return self.original == other.original and self.text == other.text and self.spans() == other.spans()

    def __hash__(self) -> int:
        return hash((self.original, self.text))

    def char_span(self, i: int) -> tuple[int, int]:
        """Span of the original behind normalised character ``i``."""
        if self._starts is None:
            return i, i + 1
        return int(self._starts[i]), int(self._ends[i])  # type: ignore[index]

    def spans(self) -> list[tuple[int, int]]:
        """Original span of every normalised character (for inspection and JSON)."""
        return [self.char_span(i) for i in range(len(self.text))]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map ``text[start:end]`` to the span of ``original`` it came from.

        The result always lies inside the original; an empty span maps to an
        empty span at the corresponding position.
        """
        n = len(self.text)
        if not (0 <= start <= end <= n):
            raise ValueError(f"span ({start}, {end}) is outside the normalised text of length {n}")
        if start == end:
            if start < n:
                pos = self.char_span(start)[0]
            else:
                pos = self.char_span(n - 1)[1] if n else len(self.original)
            return pos, pos
        return self.char_span(start)[0], self.char_span(end - 1)[1]

    def to_dict(self) -> dict[str, Any]:
        return {"original": self.original, "text": self.text, "offsets": self.spans()}


# ---------------------------------------------------------------------------
# span bookkeeping


class _Buf:
    """Text under rewrite with the original span of each character."""

    __slots__ = ("text", "starts", "ends")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: np.ndarray | None = None  # None means identity
        self.ends: np.ndarray | None = None

    def translate(self, table: dict[int, int]) -> None:
        """1:1 character map: spans unchanged."""
        self.text = self.text.translate(table)

    def edit(self, edits: Iterable[tuple[int, int, str]]) -> None:
        """Apply sorted, non-overlapping edits ``(start, end, replacement)``.

        Each character of a replacement maps to the union of the replaced
        characters' original spans (an insertion at ``start`` to the character
        at ``start``). Untouched characters keep their spans.
        """
        edits = list(edits)
        if not edits:
            return
        text = self.text
        n = len(text)
        if self.starts is None:
            self.starts = np.arange(n, dtype=np.int64)
            self.ends = self.starts + 1
        old_s, old_e = self.starts, self.ends
        pieces: list[str] = []
        idx_s: list[np.ndarray] = []
        idx_e: list[np.ndarray] = []
        pos = 0
        for s, e, rep in edits:
            if s > pos:
                pieces.append(text[pos:s])
                idx_s.append(old_s[pos:s])
                idx_e.append(old_e[pos:s])
            if rep:
                a = min(s, n - 1) if n else 0
                b = max(e - 1, a)
                pieces.append(rep)
                idx_s.append(np.full(len(rep), old_s[a], dtype=np.int64))
                idx_e.append(np.full(len(rep), old_e[b], dtype=np.int64))
            pos = e
        if pos < n:
            pieces.append(text[pos:])
            idx_s.append(old_s[pos:])
            idx_e.append(old_e[pos:])
        self.text = "".join(pieces)
        self.starts = np.concatenate(idx_s) if idx_s else np.zeros(0, dtype=np.int64)
        self.ends = np.concatenate(idx_e) if idx_e else np.zeros(0, dtype=np.int64)

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> None:
        """Regex substitution that keeps spans; only matched regions are touched."""
        edits = []
        for m in pattern.finditer(self.text):
            rep = repl(m)
            if rep != m.group(0):
                edits.append((m.start(), m.end(), rep))
        self.edit(edits)


# ---------------------------------------------------------------------------
# step 1: unicode clean-up

_REMOVE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200c\u200e\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0e\ufeff\uffa0\U000e0000-\U000e007f\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
)
# U+FE0F (emoji presentation selector) is kept: it belongs to the emoji. The
# zero-width joiner is removed except inside emoji sequences (👨\u200d👩\u200d👧).
_EMOJI = "\u00a9\u00ae\u203c-\u3299\ufe0f\U0001f000-\U0001faff"
_REMOVE_RE = re.compile(f"[{_REMOVE}]+|(?<![{_EMOJI}])\u200d+|\u200d+(?![{_EMOJI}])")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_QUOTES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\ufe58": "-", "\ufe63": "-", "\uff0d": "-", "\t": " ", "\n": " ", "\r": " ", "\u2028": " ", "\u2029": " ",
}
_WS_RE = re.compile(r"\s{2,}|^\s+|\s+$|[^\S ]")

_tables_lock = threading.Lock()
_tables: dict[str, Any] = {}


def _unicode_tables() -> tuple[dict[int, int], re.Pattern[str], dict[str, str]]:
    """1:1 translate table and the multi-character NFKC expansions (built once)."""
    with _tables_lock:
        if "nfkc" not in _tables:
            one: dict[int, int] = {}
            multi: dict[str, str] = {}
            ranges = [(0xA0, 0x3400), (0xA000, 0xD800), (0xF900, 0x10000), (0x1D400, 0x1D800), (0x1F100, 0x1F200)]
            for lo, hi in ranges:
                for cp in range(lo, hi):
                    ch = chr(cp)
                    if unicodedata.category(ch) == "Mn":
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
            multi_re = re.compile("[" + "".join(re.escape(c) for c in sorted(multi)) + "]")
            _tables["nfkc"] = (one, multi_re, multi)
        return _tables["nfkc"]


def _clean_unicode(buf: _Buf) -> None:
    one, multi_re, multi = _unicode_tables()
    if _SURROGATE_RE.search(buf.text):
        buf.text = _SURROGATE_RE.sub("\ufffd", buf.text)  # 1:1, spans unchanged
    buf.sub(_REMOVE_RE, lambda m: "")
    buf.translate(one)
    buf.sub(multi_re, lambda m: multi[m.group(0)])


def _collapse_ws(buf: _Buf) -> None:
    buf.sub(_WS_RE, lambda m: "" if m.start() == 0 or m.end() == len(buf.text) else " ")


# ---------------------------------------------------------------------------
# step 2: script conversion

_opencc_lock = threading.Lock()
_opencc: dict[str, Any] = {}


def _converter(name: str) -> Any:
    """Cached OpenCC converter. ``hktw2s`` folds both HK and TW variants in one pass."""
    with _opencc_lock:
        if name not in _opencc:
            import opencc

            if name != "hktw2s":
                _opencc[name] = opencc.OpenCC(name)
            else:
                share = opencc._opencc_share_dir
                with open(os.path.join(share, "hk2s.json"), encoding="utf-8") as fh:
                    cfg = json.load(fh)
                cfg["name"] = "HK and TW Traditional variants to Simplified (framing)"
                cfg["conversion_chain"][0]["dict"]["dicts"] += [
                    {"type": "ocd2", "file": "TWVariantsRevPhrases.ocd2"},
                    {"type": "ocd2", "file": "TWVariantsRev.ocd2"},
                ]

                def absolutise(obj: Any) -> None:
                    if isinstance(obj, dict):
                        if "file" in obj:
                            obj["file"] = os.path.join(share, obj["file"])
                        for v in obj.values():
                            absolutise(v)
                    elif isinstance(obj, list):
                        for v in obj:
                            absolutise(v)

                absolutise(cfg)
                fd, path = tempfile.mkstemp(suffix=".json", prefix="framing-opencc-")
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as fh:
                        json.dump(cfg, fh)
                    _opencc[name] = opencc.OpenCC(path)
                finally:
                    os.unlink(path)
        return _opencc[name]


_CHUNK_RE = re.compile(r"[^\s，。！？；：、,.!?;:]+[\s，。！？；：、,.!?;:]*|[\s，。！？；：、,.!?;:]+")
_HAS_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def _opencc_convert(buf: _Buf, name: str) -> None:
    """Convert with OpenCC; length changes (rare phrase mappings) are aligned per chunk."""
    text = buf.text
    if not _HAS_CJK_RE.search(text):
        return
    cc = _converter(name)
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


def _convert_script(buf: _Buf, script: Script) -> None:
    if script == "keep":
        return
    _opencc_convert(buf, "hktw2s")
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
    "戇": "戆",  # foolish (Simplified form)
    "嘥": "废",  # to waste
}
_HK_TRAD = {"嚿": "塊", "嘥": "廢", "戇": "戇"}


def _hk_table(script: Script) -> dict[int, int]:
    table = {ord(k): ord(v) for k, v in HK_CHAR_MAP.items()}
    if script != "zh-Hans":
        table.update({ord(k): ord(v) for k, v in _HK_TRAD.items()})
        table.pop(ord("戇"), None)
    return table


# ---------------------------------------------------------------------------
# step 4: de-obfuscation

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
# non-space separators between CJK characters are always obfuscation
_CJK_SEP_RE = re.compile(f"(?<=[{_CJK}])[-_.*|~+=/\\\\•·‧・]{{1,3}}(?=[{_CJK}])")
# a single space between CJK characters is removed when either side is one isolated character
_CJK_SPACE_RE = re.compile(
    f"(?:(?<=[{_CJK}])(?<![{_CJK}][{_CJK}]) (?=[{_CJK}]))|(?:(?<=[{_CJK}]) (?=[{_CJK}](?![{_CJK}])))"
)
# letters separated by single spaces/dots: c o c k r o a c h, r.a.t.s (4+ letters)
_SPACED_RE = re.compile(r"(?<![\w@#])(?:[A-Za-z][ ._*-]){3,}[A-Za-z](?![\w])")
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
# a leet symbol strictly inside a word (letters on both sides): c0ckr0ach, r4ts, v3rm1n
_LEET_RE = re.compile(r"(?<=[A-Za-z])[013457@$!]+(?=[A-Za-z])")
_REPEAT_RE = re.compile(r"([A-Za-z])\1{2,}|([^\w\s])\2{3,}")


def _deobfuscate(buf: _Buf) -> None:
    buf.sub(_CJK_SEP_RE, lambda m: "")
    buf.sub(_CJK_SPACE_RE, lambda m: "")
    # drop only the separators, so each letter keeps its own original span
    buf.edit((m.start() + i, m.start() + i + 1, "")
             for m in _SPACED_RE.finditer(buf.text) for i in range(1, len(m.group(0)), 2))
    if _LEET_RE.search(buf.text):  # 1:1 swaps: spans unchanged
        buf.text = _LEET_RE.sub(lambda m: "".join(_LEET[c] for c in m.group(0)), buf.text)
    buf.sub(_REPEAT_RE, lambda m: m.group(1) or m.group(2) * 3)


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
    if cfg.unicode:
        _clean_unicode(buf)
    elif _SURROGATE_RE.search(buf.text):  # OpenCC cannot encode lone surrogates
        buf.text = _SURROGATE_RE.sub("\ufffd", buf.text)
    if cfg.collapse_whitespace:
        _collapse_ws(buf)
    _convert_script(buf, cfg.script)
    if cfg.map_hk_chars:
        buf.translate(_hk_table(cfg.script))
    if cfg.deobfuscate:
        _deobfuscate(buf)
        if cfg.collapse_whitespace:
            _collapse_ws(buf)
    if cfg.placeholders:
        _placeholders(buf)
    return Normalized(original=text, text=buf.text, _starts=buf.starts, _ends=buf.ends)
