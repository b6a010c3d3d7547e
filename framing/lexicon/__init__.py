"""Frame-cue lexicon: find words and phrases that signal a dehumanising or
delegitimising frame (see the codebook), in English, Simplified and Traditional
Chinese and Hong Kong Cantonese.

Design:
- The lexicon is data: ``en.tsv``, ``zh_hans.tsv`` and ``zh_hant.tsv`` beside this
  module, one entry a row (term, label, lang, strength, pattern, note, source).
- Everything is matched on text normalised by :func:`framing.normalizer.normalize`
  (NFKC, zero-width removal, OpenCC to one script, HK characters, de-obfuscation).
  Each term, and each CJK run inside a pattern, is normalised with the SAME
  config when the lexicon is built, so a Traditional term matches Simplified
  text and vice versa, and 曱甴 meets 蟑螂. Spans are mapped back with
  ``Normalized.to_original`` so ``CueMatch.surface == original[start:end]``.
- Fixed terms are matched in one pass per (label, strength) with a compiled
  alternation sorted longest-first inside a lookahead, so overlapping cues of
  different labels are all found; pattern entries are regexes (case-insensitive).
  Terms that begin/end with an ASCII letter or digit, and all English patterns,
  only match at ASCII word boundaries; CJK terms match anywhere. A pattern's
  named group ``cue``, when present, is the reported span.
- ``strong`` entries always count. ``weak`` entries (false-friend prone: virus,
  垃圾, 狗, cockroach) count only when their context window (±30 characters, or
  ±8 words for English entries) holds a person/group target word or another,
  disjoint strong cue, and no literal-context exclusion (kitchen, vaccine, 厨房,
  垃圾分类...). Overlapping matches of one label keep the longest (strong first).
- It is a cue finder, not a classifier: it does not recognise counter-speech,
  quotation or news reporting; the model decides whether a cue is endorsed.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Iterable, Union

from framing.normalizer import Normalized, NormalizeConfig, normalize

__all__ = ["LexiconEntry", "CueMatch", "Lexicon", "load_lexicon", "match_cues", "parse_tsv",
           "LABELS", "LANGS", "STRENGTHS", "COLUMNS", "DEFAULT_FILES"]

LABELS = ("dehumanising", "delegitimising")
LANGS = ("en", "zh-Hans", "zh-Hant", "yue")
STRENGTHS = ("strong", "weak")
COLUMNS = ("term", "label", "lang", "strength", "pattern", "note", "source")
DEFAULT_FILES = ("en.tsv", "zh_hans.tsv", "zh_hant.tsv")
CJK_WINDOW = 30  # characters either side of a weak CJK cue
EN_WINDOW = 8  # words either side of a weak English cue

#: Person/group targets that license a weak cue (English: whole words).
EN_TARGETS = (
    "they", "them", "their", "theirs", "these", "those", "he", "him", "she", "her", "you", "y'all",
    "people", "folks", "guys", "protesters", "protestors", "demonstrators", "activists", "rioters",
    "students", "youths", "kids", "police", "cops", "cop", "officers", "officials", "politicians",
    "communists", "commies", "ccp", "chinese", "mainlanders", "hongkongers", "hong kongers",
    "immigrants", "migrants", "refugees", "muslims", "jews", "blacks", "whites", "asians", "mexicans",
    "africans", "arabs", "indians", "gays", "liberals", "leftists", "democrats", "republicans",
    "conservatives", "supporters", "men", "women", "crowd", "crowds", "gang", "gangs", "group",
    "everyone", "human", "humans", "person", "persons", "every one of them", "all of them",
)
#: CJK targets, as regex pieces (CJK runs are normalised like terms).
ZH_TARGETS = (
    "他们", "她们", "(?<!其)他", "她", "你们", "你哋", "你地", "佢哋", "佢地", "佢", "这些", "那些",
    "这班", "那班", "呢班", "嗰班", "果班", "呢啲", "嗰啲", "啲", "班", "帮", "伙", "群", "人", "者",
    "分子", "派", "党", "佬", "友", "警", "差佬", "官", "示威", "学生", "青年", "港人", "大陆",
    "市民", "议员", "特首", "蓝丝", "黄丝", "建制", "泛民", "共产", "中共", "手足", "全部", "所有",
    "都是", "全是", "都系",
)
#: Literal-context words that veto a weak cue (pests at home, medicine, rubbish, pets, fiction).
EN_EXCLUDE = (
    "kitchen", "bathroom", "basement", "attic", "garage", "garden", "backyard", "apartment", "bedroom",
    "my house", "our house", "the house", "my room", "restaurant", "hotel room", "pest control",
    "exterminator", "exterminators", "pesticide", "insecticide", "bait", "traps", "bug spray",
    "fumigate", "fumigation", "doctor", "doctors", "nurse", "vaccine", "vaccines", "vaccinated",
    "flu", "influenza", "covid", "coronavirus", "sars", "hiv", "patient", "patients", "hospital",
    "symptoms", "diagnosed", "chemo", "chemotherapy", "cancer cells", "oncology", "computer",
    "antivirus", "malware", "software", "laptop", "email", "pet", "pets", "puppy", "puppies", "leash",
    "vet", "veterinarian", "zoo", "wildlife", "species", "farm", "farmer", "farmers", "trash can",
    "garbage can", "recycling", "recycle", "landfill", "dumpster", "junk food", "planet of the apes",
    "monkey business", "pork", "hot dog", "hot dogs", "movie", "film", "video game",
)
ZH_EXCLUDE = (
    "厨房", "家里", "家中", "屋企", "房间", "卧室", "厕所", "浴室", "冰箱", "灭蟑", "杀虫", "蟑螂药",
    "除虫", "灭虫", "捕鼠", "灭鼠", "老鼠药", "农药", "庄稼", "农田", "农作物", "蝗灾", "养猪", "猪肉",
    "狗粮", "宠物", "遛狗", "流浪狗", "狗狗", "兽医", "动物园", "疫苗", "感染", "病毒学", "电脑病毒",
    "杀毒", "防毒", "流感", "新冠", "冠状", "疫情", "肺炎", "确诊", "患者", "病人", "医生", "医院",
    "治疗", "化疗", "垃圾分类", "垃圾桶", "扔垃圾", "倒垃圾", "丢垃圾", "热狗", "电影", "动画",
    "漫画", "游戏",
)

_CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")
_ASCII_WORD = re.compile("[A-Za-z0-9]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
_TOKEN = re.compile(r"\S+")
_INVISIBLE = re.compile("[\\s\u200b-\u200f\u2060\ufeff]+")
PathArg = Union[str, "PathLike[str]", Any]  # str, os.PathLike or importlib Traversable


@dataclass(frozen=True)
class LexiconEntry:
    """One row of a lexicon TSV."""

    term: str
    label: str
    lang: str
    strength: str
    pattern: str = ""
    note: str = ""
    source: str = ""


@dataclass(frozen=True)
class CueMatch:
    """A cue found in a text; ``start``/``end`` index the ORIGINAL text."""

    label: str
    start: int
    end: int
    surface: str
    term: str
    lang: str
    strength: str


@dataclass(frozen=True)
class _Cand:
    """A candidate in normalised-text coordinates (before context and overlap rules)."""

    start: int
    end: int
    entry: LexiconEntry
    order: int


def _bounded(rx: str, text: str) -> str:
    """Wrap ``rx`` with ASCII word boundaries where ``text`` begins/ends with a letter or digit."""
    pre = "(?<![A-Za-z0-9])" if text and _ASCII_WORD.match(text[0]) else ""
    post = "(?![A-Za-z0-9])" if text and _ASCII_WORD.match(text[-1]) else ""
    return f"{pre}{rx}{post}"


class Lexicon:
    """A compiled set of :class:`LexiconEntry` that finds cues in text."""

    def __init__(self, entries: Iterable[LexiconEntry], config: NormalizeConfig | None = None) -> None:
        self.config = config
        self._entries = tuple(entries)
        seen: set[tuple[str, str, str]] = set()
        for e in self._entries:
            _validate(e)
            key = (e.term, e.label, e.lang)
            if key in seen:
                raise ValueError(f"duplicate lexicon entry (term, label, lang) = {key}")
            seen.add(key)
        self._norm_cache: dict[str, str] = {}
        self._fixed: list[tuple[re.Pattern[str], dict[str, list[LexiconEntry]], str]] = []
        groups: dict[tuple[str, str], dict[str, list[LexiconEntry]]] = {}
        # patterns with CJK characters are skipped on text without CJK, the others
        # on text without Latin letters (a cheap filter: patterns dominate the cost)
        self._patterns: list[tuple[re.Pattern[str], LexiconEntry, bool]] = []
        for e in self._entries:
            if e.pattern:
                rx = self._norm_regex(e.pattern)
                cjk = bool(_CJK_RUN.search(rx))
                if e.lang == "en":
                    rx = f"(?<![A-Za-z0-9])(?:{rx})(?![A-Za-z0-9])"
                self._patterns.append((re.compile(rx, re.IGNORECASE), e, cjk))
            else:
                key = self._norm(e.term)
                if not key:
                    raise ValueError(f"lexicon term {e.term!r} normalises to an empty string")
                groups.setdefault((e.label, e.strength), {}).setdefault(key.lower(), []).append(e)
        for (label, strength), table in sorted(groups.items()):
            alts = sorted(table, key=lambda t: (-len(t), t))
            rx = "(?=(" + "|".join(_bounded(re.escape(t), t) for t in alts) + "))"
            self._fixed.append((re.compile(rx, re.IGNORECASE), table, strength))
        self._order = {e: i for i, e in enumerate(self._entries)}
        self._target = re.compile(
            "|".join([_bounded(re.escape(self._norm(w)), w) for w in EN_TARGETS]
                     + [self._norm_regex(p) for p in ZH_TARGETS]), re.IGNORECASE)
        self._exclude = re.compile(
            "|".join([_bounded(re.escape(self._norm(w)), w) for w in EN_EXCLUDE]
                     + [re.escape(self._norm(w)) for w in ZH_EXCLUDE]), re.IGNORECASE)

    # -- construction -----------------------------------------------------------------
    @classmethod
    def load(cls, paths: Iterable[PathArg] | None = None, config: NormalizeConfig | None = None) -> "Lexicon":
        """Read TSV files (default: the shipped ``en``/``zh_hans``/``zh_hant`` tables)."""
        if paths is None:
            root = resources.files(__name__)
            sources: list[Any] = [root / name for name in DEFAULT_FILES]
        else:
            if isinstance(paths, (str, PathLike)):
                paths = [paths]
            sources = [Path(p) if isinstance(p, (str, PathLike)) else p for p in paths]
        entries: list[LexiconEntry] = []
        for src in sources:
            entries.extend(parse_tsv(src.read_text(encoding="utf-8"), name=str(src)))
        return cls(entries, config=config)

    def _norm(self, s: str) -> str:
        """Normalise a term with this lexicon's config (cached)."""
        if s not in self._norm_cache:
            self._norm_cache[s] = normalize(s, self.config).text
        return self._norm_cache[s]

    def _norm_regex(self, rx: str) -> str:
        """Normalise the CJK runs of a regex; regex syntax is ASCII and left alone."""
        return _CJK_RUN.sub(lambda m: re.escape(self._norm(m.group(0))), rx)

    # -- inspection -------------------------------------------------------------------
    @property
    def entries(self) -> tuple[LexiconEntry, ...]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Lexicon({len(self)} entries)"

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of entries per label and language: ``{label: {lang: n}}``."""
        out = {label: {lang: 0 for lang in LANGS} for label in LABELS}
        for e in self._entries:
            out[e.label][e.lang] += 1
        return out

    # -- matching ---------------------------------------------------------------------
    def match(self, text: str | Normalized) -> list[CueMatch]:
        """Cues in ``text`` (a string, or an already normalised text), sorted by start."""
        if isinstance(text, Normalized):
            norm = text
        elif isinstance(text, str):
            norm = normalize(text, self.config)
        else:
            raise TypeError(f"Lexicon.match() expects str or Normalized, got {type(text).__name__}")
        t = norm.text
        if not t:
            return []
        cands = self._candidates(norm)
        strong = [c for c in cands if c.entry.strength == "strong"]
        kept = [c for c in cands if c.entry.strength == "strong" or self._weak_ok(t, c, strong)]
        chosen: list[_Cand] = []
        for label in LABELS:
            taken: list[_Cand] = []
            mine = [c for c in kept if c.entry.label == label]
            mine.sort(key=lambda c: (c.start - c.end, c.entry.strength != "strong", c.start, c.order))
            for c in mine:
                if all(c.end <= o.start or c.start >= o.end for o in taken):
                    taken.append(c)
            chosen.extend(taken)
        chosen.sort(key=lambda c: (c.start, c.end, c.entry.label))
        out = []
        for c in chosen:
            s, e = norm.to_original(c.start, c.end)
            out.append(CueMatch(c.entry.label, s, e, norm.original[s:e], c.entry.term, c.entry.lang,
                                c.entry.strength))
        return out

    def _candidates(self, norm: Normalized) -> list[_Cand]:
        t = norm.text
        out: list[_Cand] = []
        for rx, table, _strength in self._fixed:
            for m in rx.finditer(t):
                s, e = m.span(1)
                if s == e:
                    continue
                options = table[m.group(1).lower()]
                entry = options[0]
                if len(options) > 1:  # script/character variants: prefer the one the user wrote
                    s0, e0 = norm.to_original(s, e)
                    seen = _INVISIBLE.sub("", unicodedata.normalize("NFKC", norm.original[s0:e0])).casefold()
                    entry = next((o for o in options if o.term.casefold() == seen), entry)
                out.append(_Cand(s, e, entry, self._order[entry]))
        has = {True: bool(_CJK_RUN.search(t)), False: bool(_LATIN.search(t))}
        for rx, entry, cjk in self._patterns:
            if not has[cjk]:
                continue
            for m in rx.finditer(t):
                s, e = m.span("cue") if "cue" in rx.groupindex and m.group("cue") else m.span()
                if s < e:
                    out.append(_Cand(s, e, entry, self._order[entry]))
        return out

    def _weak_ok(self, t: str, c: _Cand, strong: list[_Cand]) -> bool:
        """The context rule for weak cues (see module docstring)."""
        ws, we = self._window(t, c)
        if self._exclude.search(t, ws, we):
            return False
        if self._target.search(t, ws, c.start) or self._target.search(t, c.end, we):
            return True
        return any(o.start < we and o.end > ws and (o.end <= c.start or o.start >= c.end) for o in strong)

    @staticmethod
    def _window(t: str, c: _Cand) -> tuple[int, int]:
        if c.entry.lang != "en":
            return max(0, c.start - CJK_WINDOW), min(len(t), c.end + CJK_WINDOW)
        lo, hi = max(0, c.start - 40 * EN_WINDOW), min(len(t), c.end + 40 * EN_WINDOW)
        left = [m.start() for m in _TOKEN.finditer(t, lo, c.start)]
        right = [m.end() for m in _TOKEN.finditer(t, c.end, hi)]
        ws = left[-EN_WINDOW] if len(left) >= EN_WINDOW else lo
        we = right[EN_WINDOW - 1] if len(right) >= EN_WINDOW else hi
        return ws, we


def _validate(e: LexiconEntry) -> None:
    """Raise ValueError for an entry with an unknown label/lang/strength or a bad regex."""
    if not e.term:
        raise ValueError(f"empty term in {e!r}")
    if e.label not in LABELS:
        raise ValueError(f"{e.term!r}: label must be one of {LABELS}, got {e.label!r}")
    if e.lang not in LANGS:
        raise ValueError(f"{e.term!r}: lang must be one of {LANGS}, got {e.lang!r}")
    if e.strength not in STRENGTHS:
        raise ValueError(f"{e.term!r}: strength must be one of {STRENGTHS}, got {e.strength!r}")
    if e.pattern:
        try:
            re.compile(e.pattern)
        except re.error as exc:
            raise ValueError(f"{e.term!r}: pattern {e.pattern!r} does not compile: {exc}") from exc


def parse_tsv(text: str, name: str = "<tsv>") -> list[LexiconEntry]:
    """Parse one lexicon TSV (header row, ``#`` comments and blank lines allowed)."""
    entries: list[LexiconEntry] = []
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if not header_seen:
            if tuple(fields) != COLUMNS:
                raise ValueError(f"{name}:{lineno}: expected header {COLUMNS}, got {tuple(fields)}")
            header_seen = True
            continue
        if len(fields) != len(COLUMNS):
            raise ValueError(f"{name}:{lineno}: expected {len(COLUMNS)} tab-separated fields, got {len(fields)}")
        entry = LexiconEntry(*fields)
        try:
            _validate(entry)
        except ValueError as exc:
            raise ValueError(f"{name}:{lineno}: {exc}") from exc
        entries.append(entry)
    if not header_seen:
        raise ValueError(f"{name}: no header row")
    return entries


_default: Lexicon | None = None
_default_lock = threading.Lock()


def load_lexicon() -> Lexicon:
    """The shipped lexicon with the default normaliser config (built once, thread-safe)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Lexicon.load()
    return _default


def match_cues(text: str | Normalized) -> list[CueMatch]:
    """Cues in ``text`` using :func:`load_lexicon`."""
    return load_lexicon().match(text)
