"""Benchmark: ``framing score`` with default settings on a file with hostile (huge) rows; peak RSS.

Builds a JSONL file of ``--n`` rows: LIHKG posts from ../shared/data (cycled),
``--long`` of which (spread evenly) are replaced by rows of ``--long-chars``
characters made of concatenated posts; runs ``framing score FILE -o OUT`` (the
bundled model, default options, so ``--max-chars 10000``) in a subprocess, and
prints the wall time, records written, truncated rows and the command's peak RSS
(VmHWM of the scoring process). ``--max-chars 0`` shows the unbounded cost.

    python bench/hostile.py                       # the acceptance run: 1,500 rows, 15 of 100,000 characters
    python bench/hostile.py --n 20000 --long 0    # peak RSS on many ordinary rows
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POOL = REPO.parent / "shared" / "data" / "lihkg" / "pool.jsonl"
PEAK = ("import sys\nfrom framing.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n"
        "    kb = [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"
        "    print('PEAK_RSS_KB', kb, file=sys.stderr)\n")


def build(path: Path, n: int, long: int, long_chars: int) -> None:
    pool = [json.loads(x)["text"] for x in POOL.read_text(encoding="utf-8").splitlines() if x.strip()]
    pool = [t for t in pool if isinstance(t, str) and t.strip()]
    every = n // long if long else 0
    big = "\n".join(pool)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            if every and i % every == every // 2 and i // every < long:
                k = (i * 7919) % max(len(big) - long_chars, 1)
                text = (big[k:] + big)[:long_chars]
            else:
                text = pool[i % len(pool)]
            f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1500)
    ap.add_argument("--long", type=int, default=15)
    ap.add_argument("--long-chars", type=int, default=100_000)
    ap.add_argument("--model", help="model directory (default: the bundled one)")
    ap.add_argument("extra", nargs="*", help="more `framing score` options, after --")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        build(src, args.n, args.long, args.long_chars)
        cmd = [sys.executable, "-c", PEAK, "score", str(src), "-o", str(out), *(["--model", args.model] if args.model
                                                                                else []), *args.extra]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(r.stderr[-3000:])
        recs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
        peak = int(r.stderr.split("PEAK_RSS_KB")[1].split()[0]) / 1024
    print(f"{args.n} rows, {args.long} of {args.long_chars:,} characters (LIHKG posts); options: "
          f"{' '.join(args.extra) or 'defaults'}")
    print(f"wall {wall:.1f} s (interpreter start and model load included); {len(recs)} records for {args.n} rows; "
          f"{sum(1 for x in recs if x.get('truncated'))} truncated; {sum(1 for x in recs if 'error' in x)} errors")
    print(f"peak RSS of framing score: {peak:.0f} MB")
    print(r.stderr.split("PEAK_RSS_KB")[0].strip())


if __name__ == "__main__":
    main()
