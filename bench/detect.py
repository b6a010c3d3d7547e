"""Benchmark: ``Detector.detect_many`` throughput (fp32, int8) against plain transformers, and cold start.

All runners score the same tweet-length texts (from the shared data directory
when present: hk_io, LIHKG, COLD and Davidson in equal shares; otherwise
generated) in the same process, one after another, after a short warm-up. The
detector runs with ``evidence=False`` and includes its own normalisation,
language guess and windowing. The references:

- ``pipeline("text-classification")`` on ``AutoModelForSequenceClassification``
  loaded from the exported weights (``framing export``): the standard way to serve
  a classifier, at its default batch size (1) and at ``--batch-size``. It computes
  a [CLS]-pooler head, not our mean pooling (so its scores are not ours), but the
  encoder work, which dominates, is identical;
- a plain transformers loop on the export that computes exactly our logits
  (``AutoModelForSequenceClassification``, sigmoid), batched in input order.

Targets: fp32 >= 1.5x and int8 >= 3x the default pipeline; cold start (fresh
process: ``import framing`` + load + first ``detect``, backbone cache warm) <= 3 s.
Without ``--model`` the bundled default model is used, else an untrained detector
on the real backbone is built and saved to a temp dir (speed does not depend on
training; int8 agreement does, so it is only indicative then).

    python bench/detect.py [--model DIR] [--n 2000] [--batch-size 32] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

REPO = Path(__file__).resolve().parents[1]
TARGETS = {"fp32": 1.5, "int8": 3.0, "cold_s": 3.0}
LABELS = ("dehumanising", "delegitimising")


def load_texts(n: int, seed: int = 0) -> tuple[list[str], str]:
    """``n`` texts of at most 280 characters, and where they came from."""
    sys.path.insert(0, str(REPO / "training" / "data"))
    try:
        from sources import READERS, default_data_dir

        data = default_data_dir()
        per = {}
        for name, reader in READERS.items():
            per[name] = [r.text.strip() for r in reader(data) if 0 < len(r.text.strip()) <= 280]
        rng = random.Random(seed)
        out: list[str] = []
        share = -(-n // len(per))
        for name in sorted(per):
            out += rng.sample(per[name], min(share, len(per[name])))
        rng.shuffle(out)
        if len(out) >= n:
            return out[:n], f"shared data ({data}): " + ", ".join(sorted(per))
    except (FileNotFoundError, ImportError):
        pass
    finally:
        sys.path.remove(str(REPO / "training" / "data"))
    return generated_texts(n, seed), "generated"


def generated_texts(n: int, seed: int = 0) -> list[str]:
    """Tweet-like English, Simplified and Traditional texts of 20-280 characters."""
    rng = random.Random(seed)
    en = ("the police protesters government people city night street vote they said today never again "
          "rats freedom news video watch live report court law young students why how").split()
    zh = list("他们就是一群示威者警察政府香港人今天晚上街道投票说再也不会自由新闻视频直播法院年轻学生为什么怎样")
    hant = list("們這個說為會國際與時間問題發現傳統學習開關點東車")
    out = []
    for i in range(n):
        k = i % 3
        if k == 0:
            t = " ".join(rng.choice(en) for _ in range(rng.randint(5, 45)))
        else:
            pool = zh if k == 1 else zh + hant
            t = "".join(rng.choice(pool) for _ in range(rng.randint(10, 120)))
        out.append(t[:280])
    return out


def _timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def prepare_model(model: str | None, tmp: Path) -> tuple[Path, str]:
    """A framing model directory to benchmark, and what it is."""
    from framing.default import default_model_dir
    from framing.detector import CONFIG_NAME, Detector

    if model:
        return Path(model), "given"
    if (default_model_dir() / CONFIG_NAME).exists():
        return default_model_dir(), "bundled default"
    det = Detector.build(LABELS)
    return det.save_pretrained(tmp / "untrained"), "untrained (no bundled default; real backbone)"


_COLD = """
import json, sys, time
t0 = time.perf_counter()
import framing
from framing.detector import Detector
t1 = time.perf_counter()
if sys.argv[1] == "-":
    from framing.default import get_default_detector
    det = get_default_detector()
else:
    det = Detector.from_pretrained(sys.argv[1])
t2 = time.perf_counter()
det.detect(sys.argv[2], evidence=False)
t3 = time.perf_counter()
first_wall = time.time()  # the parent subtracts its own clock reading from before the process started
det.detect(sys.argv[2])  # evidence on, as framing.detect() does
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "first_detect": t3 - t2, "to_first_detection": t3 - t0,
                  "detect_with_evidence": t4 - t3, "first_wall": first_wall}))
"""


def cold_start(model_arg: str, repeat: int) -> dict[str, list[float]]:
    """Per run: wall seconds of the child up to its first detection, and the phases inside it."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    out: dict[str, list[float]] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        w0 = time.time()
        proc = subprocess.Popen([sys.executable, "-c", _COLD, model_arg, "他们就是一群蟑螂, these people are rats"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = proc.communicate()
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"cold-start child failed:\n{stderr[-2000:]}")
        phases = json.loads(stdout.strip().splitlines()[-1])
        # process start (interpreter start-up included) to the end of the first detection, on the wall clock;
        # and the whole child, its exit (freeing torch) included
        phases["process_to_first_detection"] = phases.pop("first_wall") - w0
        phases["process_total"] = wall
        for k, v in phases.items():
            out.setdefault(k, []).append(v)
    return out


def agreement(a: Sequence[Any], b: Sequence[Any]) -> dict[str, Any]:
    """Label agreement and score differences between two lists of Detections."""
    per: dict[str, float] = {}
    for lab in a[0].scores:
        per[lab] = sum((lab in x.labels) == (lab in y.labels) for x, y in zip(a, b)) / len(a)
    diffs = [abs(x.scores[lab] - y.scores[lab]) for x, y in zip(a, b) for lab in x.scores]
    return {"label_agreement": per, "all_labels_equal": sum(x.labels == y.labels for x, y in zip(a, b)) / len(a),
            "mean_abs_score_diff": statistics.fmean(diffs), "max_abs_score_diff": max(diffs),
            "positives_fp32": {lab: sum(lab in x.labels for x in a) for lab in a[0].scores}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="framing model directory (default: bundled, else untrained on the backbone)")
    ap.add_argument("--n", type=int, default=2000, help="number of texts")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per method (best is kept)")
    ap.add_argument("--cold-repeat", type=int, default=3)
    ap.add_argument("--skip-pipeline-default", action="store_true", help="skip the slow batch-size-1 pipeline")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers import pipeline

    from framing.detector import Detector
    from framing.export import export_detector, export_logits

    texts, origin = load_texts(args.n)
    bs = args.batch_size
    res: dict[str, Any] = {"texts": len(texts), "origin": origin, "cpus": os.cpu_count(),
                           "torch_threads": torch.get_num_threads(), "batch_size": bs}
    with tempfile.TemporaryDirectory(prefix="framing-bench-") as tmpd:
        tmp = Path(tmpd)
        model_dir, kind = prepare_model(args.model, tmp)
        res["model"], res["model_kind"] = str(model_dir), kind
        print(f"detect benchmark: {len(texts)} texts ({origin}), model {model_dir} [{kind}], "
              f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}", flush=True)
        export_dir = export_detector(model_dir, tmp / "export")
        times: dict[str, float] = {}
        warm = texts[:64]

        det = Detector.from_pretrained(model_dir)
        det.detect_many(warm, batch_size=bs, evidence=False)
        times["framing fp32"], fp32 = _timed(lambda: det.detect_many(texts, batch_size=bs, evidence=False),
                                             args.repeat)
        print(f"  framing fp32 done: {times['framing fp32']:.1f} s", flush=True)
        if hasattr(det.model.encoder, "merge_and_unload"):  # what merging LoRA at load time would give
            det.model.encoder = det.model.encoder.merge_and_unload()
            det.detect_many(warm, batch_size=bs, evidence=False)
            name = "framing fp32, LoRA merged into the encoder (not what from_pretrained does today)"
            times[name], _ = _timed(lambda: det.detect_many(texts, batch_size=bs, evidence=False), args.repeat)
            print(f"  {name}: {times[name]:.1f} s", flush=True)
        del det
        q = Detector.from_pretrained(model_dir, quantize="int8")
        q.detect_many(warm, batch_size=bs, evidence=False)
        times["framing int8"], int8 = _timed(lambda: q.detect_many(texts, batch_size=bs, evidence=False),
                                             args.repeat)
        print(f"  framing int8 done: {times['framing int8']:.1f} s", flush=True)
        del q
        meta = json.loads((export_dir / "framing_export.json").read_text(encoding="utf-8"))
        prefixed = texts  # the export's tokenizer adds the prefix itself
        tok = AutoTokenizer.from_pretrained(str(export_dir))
        seq = AutoModelForSequenceClassification.from_pretrained(str(export_dir), use_safetensors=True).eval()
        export_logits(seq, tok, prefixed[:64], bs)
        times[f"transformers loop on export (exact logits), batch {bs}"], _ = _timed(
            lambda: torch.sigmoid(export_logits(seq, tok, prefixed, bs)), args.repeat)
        pipe = pipeline("text-classification", model=seq, tokenizer=tok, device=-1, top_k=None,
                        function_to_apply="sigmoid")
        kw = {"truncation": True, "max_length": meta["max_length"]}
        pipe(prefixed[:64], batch_size=bs, **kw)
        if not args.skip_pipeline_default:
            times["pipeline('text-classification'), default batch (1)"], _ = _timed(
                lambda: pipe(prefixed, **kw), args.repeat)
            print("  pipeline default done", flush=True)
        times[f"pipeline('text-classification'), batch {bs}"], _ = _timed(
            lambda: pipe(prefixed, batch_size=bs, **kw), args.repeat)
        del pipe, seq
        res["seconds"] = times
        res["texts_per_second"] = {k: len(texts) / v for k, v in times.items()}
        res["int8_vs_fp32"] = agreement(fp32, int8)
        cold_arg = "-" if kind == "bundled default" else str(model_dir)
        res["cold_start_s"] = cold_start(cold_arg, args.cold_repeat)

    width = max(len(k) for k in res["texts_per_second"]) + 1
    print(f"\n{'runner':<{width}} {'texts/s':>9}  {'fp32 x':>7}  {'int8 x':>7}")
    for name, tps in res["texts_per_second"].items():
        fx = res["texts_per_second"]["framing fp32"] / tps
        ix = res["texts_per_second"]["framing int8"] / tps
        print(f"{name:<{width}} {tps:>9.1f}  {fx:>7.2f}  {ix:>7.2f}")
    print("(fp32 x / int8 x: how many times faster framing fp32 / int8 is than that runner; "
          f"targets vs the default pipeline: fp32 >= {TARGETS['fp32']}, int8 >= {TARGETS['int8']})")
    ag = res["int8_vs_fp32"]
    print(f"\nint8 vs fp32 on the {len(texts)} texts: label agreement "
          + ", ".join(f"{k} {v:.4f}" for k, v in ag["label_agreement"].items())
          + f"; all labels equal {ag['all_labels_equal']:.4f}; mean |score diff| {ag['mean_abs_score_diff']:.4f}, "
          f"max {ag['max_abs_score_diff']:.4f}; fp32 positives {ag['positives_fp32']}")
    c = {k: statistics.median(v) for k, v in res["cold_start_s"].items()}
    print(f"cold start (fresh process, backbone cached, median of {args.cold_repeat}): process start -> first "
          f"detection {c['process_to_first_detection']:.2f} s (target <= {TARGETS['cold_s']} s): import framing "
          f"{c['imports']:.2f} s, load (torch import, tokenizer, weights) {c['load']:.2f} s, "
          f"first detect {c['first_detect']:.2f} s; a detect with evidence (the framing.detect default) "
          f"then takes {c['detect_with_evidence']:.2f} s; the whole child process, exit included, "
          f"{c['process_total']:.2f} s")
    if args.json:
        args.json.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
