"""Benchmark: rows/s of ``framing score`` vs the same texts through ``Detector.detect_many`` in-process.

20,000 tweet-length texts (hk_io pool texts from ../shared/data, cycled, or
random words when absent) are scored three ways in the same run, alternating,
best of ``--repeat``:

* ``detect_many``: texts already in memory, model already loaded (the floor);
* ``score_file``: the library streaming path (read JSONL, score, write JSONL);
* ``framing score``: the command in a subprocess; its own summary gives rows/s
  without interpreter start-up and model load, which are reported separately.

The target is CLI I/O overhead under 10%: ``framing score`` rows/s >= 0.9 x
``detect_many`` rows/s. Without ``--model`` the bundled default model is used;
if there is none, a tiny random model is built (and the output says so).

    python bench/score.py [--model DIR] [--rows 20000] [--batch-size 32] [--repeat 3] [--threads N] [--evidence]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POOL = REPO.parent / "shared" / "data" / "hk_io" / "pool.jsonl"


def build_texts(n: int) -> tuple[list[str], str]:
    if POOL.exists():
        pool = [json.loads(line)["text"] for line in POOL.read_text(encoding="utf-8").splitlines() if line.strip()]
        pool = [t for t in pool if isinstance(t, str) and t.strip()]
        return [pool[i % len(pool)] for i in range(n)], f"{len(pool)} hk_io pool texts, cycled"
    rng = random.Random(0)
    words = ("these people are rats and must be removed from our city today the weather is nice hong kong "
             "police protest rioters foreign forces 暴徒 勾结 外国 势力 蟑螂 今天 天气 香港人").split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(5, 30))) for _ in range(n)], "random words"


def pick_model(arg: str | None, tmp: Path) -> tuple[str, str]:
    if arg:
        return arg, arg
    from framing.default import default_model_dir
    from framing.detector import CONFIG_NAME

    if (default_model_dir() / CONFIG_NAME).exists():
        return str(default_model_dir()), "bundled default model"
    sys.path.insert(0, str(REPO))
    from framing.detector import Detector
    from framing.model import ModelConfig
    from tests.tiny import make_tiny_backbone

    bb = make_tiny_backbone(tmp / "backbone")
    out = Detector.build(("dehumanising", "delegitimising"), ModelConfig(base_model=str(bb), max_length=64),
                         backbone_dir=str(bb)).save_pretrained(tmp / "tiny_model")
    return str(out), "NO MODEL GIVEN AND NO BUNDLED DEFAULT: a tiny random model was built (numbers are I/O-heavy)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model directory (default: bundled, else a tiny random one)")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch threads, in-process and in the subprocess")
    ap.add_argument("--evidence", action="store_true", help="include evidence (default: --no-evidence)")
    ap.add_argument("--int8", action="store_true")
    args = ap.parse_args()

    import torch

    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    if args.threads:
        torch.set_num_threads(args.threads)
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(args.threads)

    from framing.detector import Detector
    from framing.score import ScoreOptions, score_file

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        model, model_note = pick_model(args.model, tmp)
        texts, text_note = build_texts(args.rows)
        src = tmp / "in.jsonl"
        src.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n"
                               for i, t in enumerate(texts)), encoding="utf-8")
        quant = "int8" if args.int8 else None
        t0 = time.perf_counter()
        det = Detector.from_pretrained(model, quantize=quant)
        load_s = time.perf_counter() - t0
        det.detect_many(texts[:256], batch_size=args.batch_size, evidence=args.evidence)  # warm-up
        opts = ScoreOptions(batch_size=args.batch_size, evidence=args.evidence, id_field="id")
        cmd = [sys.executable, "-m", "framing", "score", str(src), "-o", str(tmp / "cli.jsonl"), "--model", model,
               "--id-field", "id", "--batch-size", str(args.batch_size),
               "--evidence" if args.evidence else "--no-evidence"] + (["--int8"] if args.int8 else [])
        best = {"detect_many": 0.0, "score_file": 0.0, "framing score": 0.0}
        walls, overheads = [], []
        for r in range(args.repeat):
            t0 = time.perf_counter()
            det.detect_many(texts, batch_size=args.batch_size, evidence=args.evidence)
            best["detect_many"] = max(best["detect_many"], len(texts) / (time.perf_counter() - t0))
            s = score_file(det, str(src), str(tmp / "lib.jsonl"), opts)
            best["score_file"] = max(best["score_file"], s.rows_per_second)
            t0 = time.perf_counter()
            p = subprocess.run(cmd, env=env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                sys.exit(f"framing score failed:\n{p.stderr[-3000:]}")
            m = re.search(r"in ([\d.]+)s \((\d+) rows/s\) after ([\d.]+)s loading", p.stderr)
            if not m:
                sys.exit(f"could not read the summary of framing score:\n{p.stderr[-2000:]}")
            best["framing score"] = max(best["framing score"], float(m.group(2)))
            walls.append(wall)
            overheads.append(wall - float(m.group(1)))
            print(f"  round {r + 1}: detect_many {best['detect_many']:.0f}, score_file {s.rows_per_second:.0f}, "
                  f"framing score {m.group(2)} rows/s (best so far / this round)", file=sys.stderr)

    base = best["detect_many"]
    print(f"model: {model_note}  (load {load_s:.1f}s in-process)")
    print(f"texts: {len(texts)} ({text_note}), mean {sum(map(len, texts)) / len(texts):.0f} chars, "
          f"batch {args.batch_size}, evidence {'on' if args.evidence else 'off'}, int8 {args.int8}, "
          f"torch threads {torch.get_num_threads()}, best of {args.repeat}")
    for k, v in best.items():
        print(f"  {k:<14} {v:>9.0f} rows/s   ratio {v / base:.3f}")
    ratio = best["framing score"] / base
    print(f"framing score / detect_many = {ratio:.3f}  (I/O overhead {100 * (1 - ratio):.1f}%, target < 10%: "
          f"{'met' if ratio >= 0.9 else 'NOT met'})")
    print(f"framing score end to end: best wall {min(walls):.1f}s for {len(texts)} rows, of which "
          f"{min(overheads):.1f}s interpreter start-up + imports + model load")


if __name__ == "__main__":
    main()
