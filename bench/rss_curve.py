"""Benchmark: memory of ``framing score`` chunk by chunk, to see whether it grows with the number of rows.

Builds the same input as bench/hostile.py (LIHKG posts, ``--long`` of them
replaced by ``--long-chars``-character rows), scores it in this process with the
bundled model and ``framing score``'s defaults (evidence on, ``--max-chars 10000``)
and prints, after every ``--every`` chunks, rows done, VmRSS, its anonymous
(heap) and file-backed (memory-mapped weights) parts, and VmHWM (peak), in MB,
then the slope of the peak in MB per 1,000 rows over the second half of the run.

    python bench/rss_curve.py --n 3000 --long 30 --chunk-batches 4
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def status() -> dict[str, float]:
    out = {}
    for line in open("/proc/self/status"):
        k, _, v = line.partition(":")
        if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[k] = int(v.split()[0]) / 1024
    return out


def main() -> None:
    from hostile import build

    import framing.score as score
    from framing.default import get_default_detector

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--long", type=int, default=30)
    ap.add_argument("--long-chars", type=int, default=20_000)
    ap.add_argument("--chunk-batches", type=int, default=32, help="framing score's chunk: batch size (32) x this")
    ap.add_argument("--every", type=int, default=1, help="print every this many chunks")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="also print the memory Python objects hold (tracemalloc, started after the first chunk)")
    ap.add_argument("--no-trim", action="store_true", help="do not give freed memory back after each chunk")
    args = ap.parse_args()
    det = get_default_detector()
    print(f"loaded: {status()}", flush=True)
    seen = {"chunks": 0, "rows": 0}
    points: list[tuple[int, float]] = []
    inner = score._score_chunk
    t0 = time.perf_counter()

    def probe(det, chunk, o):  # type: ignore[no-untyped-def]
        recs = inner(det, chunk, o)
        seen["chunks"] += 1
        seen["rows"] += len(chunk)
        s = status()
        if args.tracemalloc:
            import tracemalloc

            if not tracemalloc.is_tracing():
                tracemalloc.start()
            s["python"] = tracemalloc.get_traced_memory()[0] / 2**20
        points.append((seen["rows"], s["VmHWM"]))
        if seen["chunks"] % args.every == 0:
            print(f"{seen['rows']:>7} rows {time.perf_counter() - t0:7.1f}s  RSS {s['VmRSS']:6.0f}  anon "
                  f"{s['RssAnon']:6.0f}  file {s['RssFile']:5.0f}  peak {s['VmHWM']:6.0f}"
                  + (f"  python {s['python']:5.1f}" if "python" in s else ""), flush=True)
        return recs

    score._score_chunk = probe
    if args.no_trim:
        score.release_freed_memory = lambda: False  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        build(src, args.n, args.long, args.long_chars)
        score.score_file(det, str(src), str(Path(tmp) / "out.jsonl"),
                         score.ScoreOptions(id_field="id", chunk_batches=args.chunk_batches))
    half = [p for p in points if p[0] >= args.n // 2]
    if len(half) >= 2:
        (r0, m0), (r1, m1) = half[0], half[-1]
        print(f"peak {points[-1][1]:.0f} MB after {args.n} rows; slope over rows {r0}-{r1}: "
              f"{1000 * (m1 - m0) / max(r1 - r0, 1):.1f} MB per 1,000 rows")


if __name__ == "__main__":
    main()
