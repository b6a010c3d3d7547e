"""Benchmark: characters/second of framing.normalize vs bare OpenCC.convert on the same ~5 MB.

The text is built from ../shared/data (hk_io, LIHKG, COLD, Davidson, interleaved).
Two modes are measured in the same run: the 5 MB as 1,000-character documents,
and as the original short posts (per-call overhead dominates there). Each
figure is the best of ``--repeat`` passes. The target is normalisation at most
3x the cost of bare OpenCC ("ratio" <= 3).

    python bench/normalize.py [--data-dir DIR] [--mb 5]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training" / "data"))


def build_texts(data_dir: Path | None, mb: float) -> list[str]:
    from sources import read_all

    rows = read_all(data_dir)
    by_src: dict[str, list[str]] = {}
    for key, row in rows.items():
        by_src.setdefault(key.split(":")[0], []).append(row.text)
    out, size, i = [], 0, 0
    srcs = sorted(by_src)
    while size < mb * 1_000_000:
        for s in srcs:
            t = by_src[s][i % len(by_src[s])]
            out.append(t)
            size += len(t)
        i += 1
    return out


def timed(fn, items, repeat: int) -> float:  # type: ignore[no-untyped-def]
    """Best of ``repeat`` passes (as timeit does): the least disturbed by other load on the machine."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for x in items:
            fn(x)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--repeat", type=int, default=5, help="passes per measurement; the best is kept")
    args = ap.parse_args()

    import opencc

    from framing.normalizer import _converter, normalize

    posts = build_texts(args.data_dir, args.mb)
    blob = "\n".join(posts)
    docs = [blob[i:i + 1000] for i in range(0, len(blob), 1000)]
    n_chars = len(blob)
    normalize("warm-up 暴徒")  # build tables and converters outside the timing
    bare_hk = opencc.OpenCC("hk2s")
    ours_cc = _converter("hktw2s")
    print(f"{n_chars:,} characters, {len(posts):,} posts, {len(docs):,} documents of 1,000 characters")
    for label, items in (("documents", docs), ("posts", posts)):
        t_bare = timed(bare_hk.convert, items, args.repeat)
        t_ours_cc = timed(ours_cc.convert, items, args.repeat)
        t_norm = timed(normalize, items, args.repeat)
        print(f"[{label}] bare OpenCC hk2s: {n_chars / t_bare / 1e6:6.2f} M chars/s | "
              f"hk2s+tw variants (framing's converter): {n_chars / t_ours_cc / 1e6:6.2f} M chars/s | "
              f"framing.normalize: {n_chars / t_norm / 1e6:6.2f} M chars/s | "
              f"ratio normalize/bare = {t_norm / t_bare:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
