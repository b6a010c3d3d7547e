"""Word segmentation: jieba for Chinese runs, a regex for everything else.

Segmentation runs on the normalised text (so one user dictionary in Simplified
serves both scripts) and every token carries its span in the ORIGINAL text.
The jieba tokenizer is built lazily, once, under a lock; it gets the project
dictionary of political and Hong Kong terms (暴徒, 廢青, 黑警, 曱甴, 攬炒, ...),
keeps its cache file under the framing cache directory rather than /tmp, and its
own logger is quietened without touching the user's logging configuration.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from .normalizer import NormalizeConfig, Normalized, normalize

__all__ = ["Token", "segment", "segment_normalized", "cache_dir"]


@dataclass(frozen=True)
class Token:
    """One token: its normalised form and its span in the original text."""

    text: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def cache_dir() -> str:
    """``$FRAMING_HOME`` or the user's cache directory (created on demand)."""
    home = os.environ.get("FRAMING_HOME")
    if not home:
        import platformdirs

        home = platformdirs.user_cache_dir("framing")
    return home


_lock = threading.Lock()
_tokenizer: Any = None


def _jieba() -> Any:
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            import jieba

            logging.getLogger("jieba").setLevel(logging.WARNING)  # jieba's own logger only
            tok = jieba.Tokenizer()
            tmp = os.path.join(cache_dir(), "jieba")
            try:
                os.makedirs(tmp, exist_ok=True)
                tok.tmp_dir = tmp
            except OSError:  # read-only home: let jieba use its default
                pass
            tok.initialize()
            with resources.files("framing.resources").joinpath("userdict.txt").open("r", encoding="utf-8") as fh:
                for line in fh:
                    parts = line.split()
                    if parts:
                        tok.add_word(parts[0], int(parts[1]) if len(parts) > 1 else None,
                                     parts[2] if len(parts) > 2 else None)
            _tokenizer = tok
        return _tokenizer


_CJK_RUN_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_OTHER_TOKEN_RE = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*|\[URL\]|@\w+|[^\sA-Za-z0-9]")


def segment_normalized(norm: Normalized) -> list[Token]:
    """Tokens of an already normalised text, spans mapped to its original."""
    text = norm.text
    out: list[Token] = []

    def emit(s: int, e: int) -> None:
        os_, oe = norm.to_original(s, e)
        out.append(Token(text[s:e], os_, oe))

    pos = 0
    for m in _CJK_RUN_RE.finditer(text):
        for t in _OTHER_TOKEN_RE.finditer(text, pos, m.start()):
            emit(t.start(), t.end())
        off = m.start()
        for word in _jieba().cut(m.group(0), HMM=True):
            emit(off, off + len(word))
            off += len(word)
        pos = m.end()
    for t in _OTHER_TOKEN_RE.finditer(text, pos):
        emit(t.start(), t.end())
    return out


def segment(text: str, config: NormalizeConfig | None = None) -> list[Token]:
    """Normalise ``text`` and split it into words (jieba for Chinese, regex otherwise)."""
    return segment_normalized(normalize(text, config))
