"""Readers for the third-party text sources; yields (key, lang_hint, text, meta).

Raw texts are never copied into this repository: annotations refer to rows by
a stable key ``<source>:<row id>`` and these readers join them back from a data
directory (default ``../shared/data`` beside the repo, or ``--data-dir``).
"""
from __future__ import annotations

import csv
import html
import json
import os
from pathlib import Path
from typing import Iterator, NamedTuple

REPO = Path(__file__).resolve().parents[2]

HOW_TO_OBTAIN = {
    "hk_io": "hk_io/pool.jsonl: tweets of Twitter's 2019 disclosure of a state-backed operation about Hong Kong "
    "(fields id, lang, text). Ask the maintainers for the preprocessed pool, or rebuild it from Twitter's "
    "information-operations archive (transparency.twitter.com, 'China, August 2019').",
    "lihkg": "lihkg/pool.jsonl: LIHKG forum messages 2019-2020 (fields id, post_id, time, topic, text), "
    "from a public student research scrape of protest, government and democracy threads.",
    "cold": "cold/{train,dev,test}.csv: COLD, github.com/thu-coai/COLDataset (Apache-2.0).",
    "davidson": "davidson/labeled_data.csv: github.com/t-davidson/hate-speech-and-offensive-language (MIT).",
    "ira": "ira/pool.jsonl: English tweets of the Internet Research Agency (Twitter's 2018 disclosure, released by "
    "Clemson researchers via FiveThirtyEight; per-account copy bet4a/russian-troll-tweets-by-author); fields id, "
    "author, category, date, retweet, text.",
    "trump_tweets": "trump_tweets/tweets.jsonl: Donald Trump's tweets 2009-2018 without retweets (dslabs R package, "
    "data/trump_tweets.rda, Artistic-2.0); fields id, created_at, source, is_retweet, text.",
    "hatexplain": "hatexplain/posts.jsonl: HateXplain posts (hate-alert/HateXplain, MIT, via the Media-Bias-Group/MBIB "
    "copy); fields id, label, text.",
}


class Row(NamedTuple):
    key: str
    lang: str  # en | zh-Hans | zh-Hant (source's own script tag)
    text: str
    meta: dict


def default_data_dir() -> Path:
    """``$FRAMING_DATA_DIR``, else ``../shared/data`` beside the repository."""
    env = os.environ.get("FRAMING_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


def _need(path: Path, source: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"source {source!r} not found at {path}. How to obtain it: {HOW_TO_OBTAIN[source]}")
    return path


def read_hk_io(data_dir: Path) -> Iterator[Row]:
    with open(_need(data_dir / "hk_io" / "pool.jsonl", "hk_io"), encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            yield Row(f"hk_io:{r['id']}", r["lang"], r["text"], {})


def read_lihkg(data_dir: Path) -> Iterator[Row]:
    with open(_need(data_dir / "lihkg" / "pool.jsonl", "lihkg"), encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            yield Row(f"lihkg:{r['id']}", "zh-Hant", r["text"], {"post_id": r["post_id"], "topic": r["topic"]})


def read_cold(data_dir: Path) -> Iterator[Row]:
    for split in ("train", "dev", "test"):
        path = _need(data_dir / "cold" / f"{split}.csv", "cold")
        with open(path, encoding="utf-8-sig", newline="") as fh:
            # the file's first column is not unique, so the row number is the id
            for i, r in enumerate(csv.DictReader(fh)):
                yield Row(f"cold:{split}-{i}", "zh-Hans", r["TEXT"], {"topic": r["topic"], "label": int(r["label"])})


def read_davidson(data_dir: Path) -> Iterator[Row]:
    path = _need(data_dir / "davidson" / "labeled_data.csv", "davidson")
    with open(path, encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            rid = r[""] if "" in r else next(iter(r.values()))
            yield Row(f"davidson:{rid}", "en", html.unescape(r["tweet"]), {"class": int(r["class"])})


def _jsonl(path: Path, source: str) -> Iterator[dict]:
    with open(_need(path, source), encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_ira(data_dir: Path) -> Iterator[Row]:
    # the account groups splits: one account's tweets never cross train / validation / test
    for r in _jsonl(data_dir / "ira" / "pool.jsonl", "ira"):
        yield Row(f"ira:{r['id']}", "en", html.unescape(r["text"]),
                  {"author": r["author"], "category": r["category"], "date": r["date"], "retweet": r["retweet"]})


def read_trump(data_dir: Path) -> Iterator[Row]:
    for r in _jsonl(data_dir / "trump_tweets" / "tweets.jsonl", "trump_tweets"):
        yield Row(f"trump_tweets:{r['id']}", "en", html.unescape(r["text"]), {"date": r["created_at"]})


def read_hatexplain(data_dir: Path) -> Iterator[Row]:
    for r in _jsonl(data_dir / "hatexplain" / "posts.jsonl", "hatexplain"):
        yield Row(f"hatexplain:{r['id']}", "en", r["text"], {"label": int(r["label"])})


READERS = {"hk_io": read_hk_io, "lihkg": read_lihkg, "cold": read_cold, "davidson": read_davidson,
           "ira": read_ira, "trump_tweets": read_trump, "hatexplain": read_hatexplain}


def read_all(data_dir: Path | None = None, sources: tuple[str, ...] = tuple(READERS)) -> dict[str, Row]:
    """All rows of the named sources keyed by ``<source>:<row id>``."""
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    out: dict[str, Row] = {}
    for name in sources:
        for row in READERS[name](data_dir):
            out[row.key] = row
    return out
