"""Benchmark: ``framing report`` on a large synthetic scored file; peak memory must not grow with rows.

Generates a ``framing score``-shaped JSONL file (``--rows`` records from ``--authors``
accounts over two years, English, Simplified Chinese and Cantonese texts, about 8%
flagged, with lexicon evidence spans at real offsets) in a temporary directory, then
runs ``framing report --group-by author --time-field date`` as a separate process on
the first 1% of it (the baseline) and on all of it, measuring each run's wall time and
peak RSS (VmHWM). Bounded memory means the ratio of the peak RSS of the two runs stays
near 1 while the rows grow 100x.

    python bench/report.py [--rows 1000000] [--authors 800] [--keep DIR]
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEAK = ("import sys\nfrom framing.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n"
        "    kb = [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"
        "    print('PEAK_RSS_KB', kb, file=sys.stderr)\n")
WORDS = {"en": "the they people city police news vote today never again street students court law why".split(),
         "zh-Hans": list("他们就是一群示威者警察政府香港人今天晚上街道投票说再也不会自由新闻"),
         "yue": list("佢哋今日喺度食咗飯啲人唔係嘅嘢咁樣點解冇乜")}
CUES = {"dehumanising": {"en": ["rats", "vermin", "cockroaches"], "zh-Hans": ["蟑螂", "害虫"], "yue": ["曱甴", "廢青"]},
        "delegitimising": {"en": ["rioters", "foreign agents"], "zh-Hans": ["暴徒", "外国势力"], "yue": ["黑暴", "港獨"]}}


def record(i: int, rng: random.Random, authors: int) -> dict:
    lang = rng.choices(("en", "zh-Hans", "yue"), (6, 3, 1))[0]
    sep = " " if lang == "en" else ""
    words = [rng.choice(WORDS[lang]) for _ in range(rng.randint(5, 30))]
    labels, evidence = [], []
    for lab, p in (("dehumanising", 0.05), ("delegitimising", 0.04)):
        if rng.random() < p:
            labels.append(lab)
            words.insert(rng.randrange(len(words) + 1), rng.choice(CUES[lab][lang]))
    text = sep.join(words)
    for lab in labels:
        for cue in CUES[lab][lang]:
            s = text.find(cue)
            if s >= 0:
                evidence.append({"label": lab, "start": s, "end": s + len(cue), "surface": cue, "source": "lexicon",
                                 "term": cue, "weight": None})
    scores = {lab: round(rng.uniform(0.85, 0.99) if lab in labels else rng.uniform(0.0, 0.4), 6)
              for lab in ("dehumanising", "delegitimising")}
    day = rng.randrange(730)
    date = f"{2018 + day // 365}-{1 + (day % 365) // 31:02d}-{1 + day % 28:02d} {rng.randrange(24):02d}:00:00"
    return {"id": i, "labels": labels, "scores": scores, "language": lang, "evidence": evidence, "error": None,
            "author": f"acct{int(rng.paretovariate(1.2)) % authors:04d}", "date": date, "text": text}


def generate(path: Path, rows: int, authors: int) -> None:
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as f:
        for start in range(0, rows, 10_000):
            f.write("".join(json.dumps(record(i, rng, authors), ensure_ascii=False) + "\n"
                            for i in range(start + 1, min(start + 10_000, rows) + 1)))


def run_report(scored: Path, out: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", PEAK, "report", str(scored), "-o", str(out), "--group-by", "author",
                        "--time-field", "date", "-q"], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    seconds = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(r.stderr)
    kb = int(r.stderr.split("PEAK_RSS_KB")[1].split()[0])
    return seconds, kb


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--authors", type=int, default=800)
    ap.add_argument("--keep", help="write the files here instead of a temporary directory")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(a.keep or tmp)
        d.mkdir(parents=True, exist_ok=True)
        big, small = d / "scored_big.jsonl", d / "scored_small.jsonl"
        t0 = time.perf_counter()
        generate(big, a.rows, a.authors)
        with open(big, "rb") as fin, open(small, "wb") as fout:
            fout.writelines(itertools.islice(fin, max(a.rows // 100, 1)))
        print(f"generated {a.rows:,} rows ({big.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t0:.0f}s",
              file=sys.stderr)
        s_sec, s_kb = run_report(small, d / "report_small.html")
        b_sec, b_kb = run_report(big, d / "report_big.html")
        size = (d / "report_big.html").stat().st_size
    print(f"framing report, {max(a.rows // 100, 1):,} rows: {s_sec:.1f}s, peak RSS {s_kb / 1024:.0f} MiB")
    print(f"framing report, {a.rows:,} rows: {b_sec:.1f}s ({a.rows / b_sec:,.0f} rows/s), peak RSS "
          f"{b_kb / 1024:.0f} MiB, report {size / 1e3:.0f} kB")
    print(f"peak RSS ratio, 100x the rows: {b_kb / s_kb:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
