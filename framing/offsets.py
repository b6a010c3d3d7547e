"""The offset map of normalised text: every character keeps the span of the original it came from.

Design: a rewrite that keeps the length (str.translate, OpenCC) records nothing;
one that changes it records its segments (kept text or replacement, and where
each came from) in a :class:`_Buf`. :class:`Normalized` composes those records
into two integer arrays (start and end in the original) with a few vectorised
numpy operations the first time offsets are asked for, so code that only needs
the text does not pay for them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterable

import numpy as np

__all__ = ["Normalized"]


@dataclass(frozen=True, eq=False)
class Normalized:
    """Normalised text plus the span of the original behind each character.

    The per-character offset arrays are built from the recorded edits on first
    use (``to_original``, ``char_span``, ``spans``), so callers that only need
    the text do not pay for them.
    """

    original: str
    text: str
    _layers: tuple["_Layer", ...] = field(default=(), repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Normalized):
            return NotImplemented
        return self.original == other.original and self.text == other.text and self.spans() == other.spans()

    def __hash__(self) -> int:
        return hash((self.original, self.text))

    @cached_property
    def _index(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(starts, ends)`` arrays over ``text``, or None when the map is the identity."""
        return _compose(self._layers)

    def char_span(self, i: int) -> tuple[int, int]:
        """Span of the original behind normalised character ``i``."""
        index = self._index
        if index is None:
            return i, i + 1
        return int(index[0][i]), int(index[1][i])

    def spans(self) -> list[tuple[int, int]]:
        """Original span of every normalised character (for inspection and JSON)."""
        index = self._index
        if index is None:
            return [(i, i + 1) for i in range(len(self.text))]
        return list(zip(index[0].tolist(), index[1].tolist()))

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

#: One length-changing rewrite: per output segment, the old index of its first
#: character, the old index its span ends at, its length, and whether it is kept text.
_Layer = tuple[list[int], list[int], list[int], list[bool]]


def _compose(layers: tuple[_Layer, ...]) -> tuple[np.ndarray, np.ndarray] | None:
    """Original ``(starts, ends)`` of every output character, composed over the layers in order."""
    starts: np.ndarray | None = None
    ends: np.ndarray | None = None
    for first, last, lengths, keep in layers:
        lens = np.asarray(lengths, dtype=np.int64)
        total = int(lens.sum())
        seg_of = np.repeat(np.arange(len(lens)), lens)
        within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)
        keep_arr = np.asarray(keep, dtype=bool)[seg_of]
        src_s = np.asarray(first, dtype=np.int64)[seg_of] + np.where(keep_arr, within, 0)
        src_e = np.where(keep_arr, src_s, np.asarray(last, dtype=np.int64)[seg_of])
        if starts is None or ends is None:
            starts, ends = src_s, src_e + 1
        else:
            starts, ends = starts[src_s], ends[src_e]
    if starts is None or ends is None:
        return None
    return starts, ends


class _Buf:
    """Text under rewrite plus the length-changing edits applied to it (offsets are built later)."""

    __slots__ = ("text", "layers")

    def __init__(self, text: str) -> None:
        self.text = text
        self.layers: list[_Layer] = []

    def translate(self, table: dict[int, int]) -> None:
        """1:1 character map: spans unchanged."""
        self.text = self.text.translate(table)

    def edit(self, edits: Iterable[tuple[int, int, str]]) -> None:
        """Apply sorted, non-overlapping edits ``(start, end, replacement)``.

        Each character of a replacement maps to the union of the replaced
        characters' original spans (an insertion at ``start`` to the character
        at ``start``). Untouched characters keep their spans. Only the segment
        lists are recorded here; :func:`_compose` turns them into index arrays
        with a few vectorised numpy operations when offsets are first asked for.
        """
        edits = list(edits)
        if not edits:
            return
        text = self.text
        n = len(text)
        pieces: list[str] = []
        first: list[int] = []
        last: list[int] = []
        lengths: list[int] = []
        keep: list[bool] = []
        pos = 0
        for s, e, rep in edits:
            if s > pos:
                pieces.append(text[pos:s])
                first.append(pos)
                last.append(pos)
                lengths.append(s - pos)
                keep.append(True)
            if rep:
                a = min(s, n - 1) if n else 0
                pieces.append(rep)
                first.append(a)
                last.append(max(e - 1, a))
                lengths.append(len(rep))
                keep.append(False)
            pos = e
        if pos < n:
            pieces.append(text[pos:])
            first.append(pos)
            last.append(pos)
            lengths.append(n - pos)
            keep.append(True)
        self.text = "".join(pieces)
        self.layers.append((first, last, lengths, keep))

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str]) -> None:
        """Regex substitution that keeps spans; only matched regions are touched."""
        edits = []
        for m in pattern.finditer(self.text):
            rep = repl(m)
            if rep != m.group(0):
                edits.append((m.start(), m.end(), rep))
        self.edit(edits)
