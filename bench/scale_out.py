"""Benchmark: ``framing score`` on local Ray with 1 and 2 workers against the single-process engine.

Scores the same JSONL file (tweet-length texts from ``bench/detect.py``'s loader)
three ways in one run: the default single-process engine (torch using every
core), and ``--engine ray`` with 1 and 2 actors (one CPU and one torch thread
each). Prints rows/s, the ratio to single-process, Ray's start-up cost (the first
rows wait for Ray and the actors) and the peak RSS of one scoring actor, sampled
with psutil. Each Ray run starts and stops its own local Ray.

    python bench/scale_out.py [--model DIR] [--n 4000] [--evidence] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from detect import load_texts, prepare_model  # noqa: E402


class PeakActorRSS:
    """Samples the resident memory of Ray's scoring actors (processes named MapWorker) every 0.2 s."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            for p in psutil.process_iter(["cmdline", "memory_info"]):
                cmd = " ".join(p.info.get("cmdline") or ())
                if "MapWorker" in cmd and p.info.get("memory_info") is not None:
                    self.peak = max(self.peak, p.info["memory_info"].rss)
            self._stop.wait(0.2)

    def __enter__(self) -> "PeakActorRSS":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="framing model directory (default: the bundled one)")
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--evidence", action="store_true", help="also compute evidence spans (slower)")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    import ray

    from framing.detector import Detector
    from framing.integrations.ray import score_file_ray
    from framing.score import ScoreOptions, score_file

    texts, origin = load_texts(args.n)
    o = ScoreOptions(evidence=args.evidence)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        model, what = prepare_model(args.model, Path(tmp))
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
        t0 = time.perf_counter()
        s = score_file(lambda: Detector.from_pretrained(model), str(src), str(Path(tmp) / "single.jsonl"), o)
        results["single process"] = {"rows_per_s": s.rows_per_second, "wall_s": time.perf_counter() - t0,
                                     "startup_s": s.load_seconds, "actor_peak_rss_mb": None}
        for workers in (1, 2):
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
            try:
                with PeakActorRSS() as mem:
                    t0 = time.perf_counter()
                    s = score_file_ray(str(model), str(src), str(Path(tmp) / f"ray{workers}.jsonl"), o,
                                       num_workers=workers)
                    wall = time.perf_counter() - t0
            finally:
                ray.shutdown()
            results[f"ray, {workers} worker{'s' if workers > 1 else ''}"] = {
                "rows_per_s": s.rows / wall, "wall_s": wall, "startup_s": s.load_seconds,
                "actor_peak_rss_mb": round(mem.peak / 2**20)}
    base = results["single process"]["rows_per_s"]
    print(f"{len(texts)} rows ({origin}); model: {what}; evidence {'on' if args.evidence else 'off'}")
    print("  engine               rows/s   vs single  wall s  peak RSS per actor")
    for name, r in results.items():
        rss = f"{r['actor_peak_rss_mb']} MB" if r["actor_peak_rss_mb"] else "-"
        print(f"  {name:<18} {r['rows_per_s']:8.1f}   {r['rows_per_s'] / base:6.2f}x  {r['wall_s']:6.1f}  {rss}")
    print("(single process: rows/s of scoring after the model load; Ray: rows over the whole wall time, "
          "start-up of Ray and the actors included)")
    if args.json:
        Path(args.json).write_text(json.dumps({"n": len(texts), "origin": origin, "model": what,
                                               "evidence": args.evidence, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
