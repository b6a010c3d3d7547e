"""Normalisation step 1: Unicode clean-up and white space, and the fast character scans they need.

NFKC compatibility folding (full-width Latin, digits and punctuation, styled
letters), unified quotes and dashes, removal of zero-width, bidi and control
characters, lone surrogates to U+FFFD, and runs of white space to one space.
The 1:1 folds go through ``str.translate`` (or ride inside OpenCC's pass, see
framing.normalizer); removals and expansions are recorded on the offsets
buffer so that every output character keeps its original span.

Speed: every test is an sre scan over a pure character class, which sre runs
in C (a class with astral characters is split in two, see :class:`Chars`); the
tables are built once, lazily, and read without a lock.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from typing import Any, Iterable

from .offsets import _Buf

__all__ = ["Chars", "SURROGATE_RE", "UnicodeTables", "char_class", "clean_unicode", "collapse_whitespace",
           "unicode_tables"]

_REMOVE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200c\u200e\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0e\ufeff\uffa0\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
)
_REMOVE_ASTRAL = "\U000e0000-\U000e007f"  # tag characters
# U+FE0F (emoji presentation selector) is kept: it belongs to the emoji. The
# zero-width joiner is removed except inside emoji sequences (👨\u200d👩\u200d👧).
_EMOJI_RE = re.compile("[\u00a9\u00ae\u203c-\u3299\ufe0f\U0001f000-\U0001faff]")
_SURROGATES = "\ud800-\udfff"
SURROGATE_RE = re.compile(f"[{_SURROGATES}]")
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

_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")

_tables_lock = threading.Lock()
_tables: dict[str, Any] = {}


class Chars:
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
    def of(cls, chars: Iterable[str], bmp: str = "", astral: str = "") -> "Chars":
        pool = set(chars)
        return cls(char_class(c for c in pool if c <= "\uffff") + bmp,
                   char_class(c for c in pool if c > "\uffff") + astral)

    def search(self, text: str) -> bool:
        if self._bmp.search(text) is not None:
            return True
        if self._astral is None or _ASTRAL_RE.search(text) is None:
            return False
        return self._astral.search(text) is not None


def char_class(chars: Iterable[str]) -> str:
    """A regex character class body with consecutive code points folded into ranges (much faster in sre)."""
    ranges: list[list[int]] = []
    for cp in sorted({ord(c) for c in chars}):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)


class UnicodeTables:
    """1:1 fold table (NFKC, quotes, dashes) and the rarer edits (removals, expansions)."""

    def __init__(self) -> None:
        one: dict[int, int] = {}
        multi: dict[str, str] = {}
        ranges = [(0xA0, 0x3400), (0xA000, 0xD800), (0xF900, 0x10000), (0x1D400, 0x1D800), (0x1F100, 0x1F200)]
        removed = re.compile(f"[{_REMOVE}{_REMOVE_ASTRAL}]")
        for lo, hi in ranges:
            for cp in range(lo, hi):
                ch = chr(cp)
                if unicodedata.category(ch) == "Mn" or removed.match(ch):
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
        self.one_chars = Chars.of(chr(c) for c in one)
        self.multi = multi
        self.rare = Chars.of(multi, bmp=f"{_REMOVE}\u200d{_SURROGATES}", astral=_REMOVE_ASTRAL)
        # ASCII input: the rare edits there are all removals (control characters)
        self.ascii_rare_re = re.compile(f"[{char_class(c for c in map(chr, range(128)) if self.rare.re.match(c))}]")
        self.ascii_one_re = re.compile(f"[{char_class(chr(c) for c in one if c < 128)}]")
        # what the clean-up and white-space steps rewrite in ASCII: with none of it, a text skips them
        special = (c for c in map(chr, range(128))
                   if self.ascii_rare_re.match(c) or self.ascii_one_re.match(c) or _WS_ONE_RE.match(c))
        self.ascii_special_re = re.compile(f"[{char_class(special)}]")


def unicode_tables() -> UnicodeTables:
    tables = _tables.get("nfkc")
    if tables is not None:  # built: no lock needed to read
        return tables  # type: ignore[no-any-return]
    with _tables_lock:
        if "nfkc" not in _tables:
            _tables["nfkc"] = UnicodeTables()
        return _tables["nfkc"]


def _rare_edit(tables: UnicodeTables, text: str, m: re.Match[str]) -> str:
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


def clean_unicode(buf: _Buf, fold_1to1: bool = True) -> None:
    """Removals and expansions; the 1:1 fold too unless OpenCC will do it in its own pass."""
    tables = unicode_tables()
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


def collapse_whitespace(buf: _Buf, lone: bool = True) -> None:
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
