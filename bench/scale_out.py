"""Benchmark: ``framing score`` on local Ray with 1 and 2 workers against the single-process engine.

Scores the same JSONL file (tweet-length texts from ``bench/detect.py``'s loader)
five ways in one run: the default single-process engine (torch using every
core, in this process), and ``framing score --engine ray`` in a subprocess with
1 and 2 actors (one CPU and one torch thread each), writing one output FILE
(the driver streams every record) or an output DIRECTORY (the actors write part
files, the driver only counts). Prints rows/s, the ratio to single-process, the
peak RSS of the driver process (VmHWM of the ``framing score`` process) and of
one scoring actor (sampled with psutil). Each Ray run starts and stops its own
local Ray.

    python bench/scale_out.py [--model DIR] [--n 4000] [--evidence] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

from detect import load_texts, prepare_model  # noqa: E402

PEAK = ("import sys\nfrom framing.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n"
        "    kb = [int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"
        "    print('PEAK_RSS_KB', kb, file=sys.stderr)\n")


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

    from framing.detector import Detector
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
                                     "startup_s": s.load_seconds, "actor_peak_rss_mb": None,
                                     "driver_peak_rss_mb": None}
        for mode in ("file", "directory"):
            for workers in (1, 2):
                out = str(Path(tmp) / f"ray{workers}.parquet") if mode == "file" else f"{tmp}/ray{workers}_dir/"
                cmd = [sys.executable, "-c", PEAK, "score", str(src), "-o", out, "--engine", "ray", "--num-workers",
                       str(workers), "--model", str(model), "-q", "--evidence" if args.evidence else "--no-evidence"]
                with PeakActorRSS() as mem:
                    t0 = time.perf_counter()
                    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                                       env={**os.environ, "PYTHONPATH": str(REPO)})
                    wall = time.perf_counter() - t0
                if r.returncode != 0:
                    sys.exit(r.stderr[-3000:])
                driver = int(r.stderr.split("PEAK_RSS_KB")[1].split()[0]) // 1024
                results[f"ray {mode}, {workers} worker{'s' if workers > 1 else ''}"] = {
                    "rows_per_s": len(texts) / wall, "wall_s": wall, "startup_s": None,
                    "actor_peak_rss_mb": round(mem.peak / 2**20), "driver_peak_rss_mb": driver}
    base = results["single process"]["rows_per_s"]
    print(f"{len(texts)} rows ({origin}); model: {what}; evidence {'on' if args.evidence else 'off'}")
    print("  engine                      rows/s   vs single  wall s  driver peak RSS  peak RSS per actor")
    for name, r in results.items():
        rss = f"{r['actor_peak_rss_mb']} MB" if r["actor_peak_rss_mb"] else "-"
        drv = f"{r['driver_peak_rss_mb']} MB" if r["driver_peak_rss_mb"] else "-"
        print(f"  {name:<26} {r['rows_per_s']:8.1f}   {r['rows_per_s'] / base:6.2f}x  {r['wall_s']:6.1f}  "
              f"{drv:>15}  {rss}")
    print("(single process: rows/s of scoring after the model load; Ray: rows over the whole wall time of the "
          "command, interpreter, Ray and actor start-up included; file mode writes Parquet)")
    if args.json:
        Path(args.json).write_text(json.dumps({"n": len(texts), "origin": origin, "model": what,
                                               "evidence": args.evidence, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
