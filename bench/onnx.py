"""Benchmark: onnxruntime (fp32 and dynamic int8) against ``Detector.detect_many``, same texts, same run.

The ONNX graph (``framing export DIR --onnx``) is the whole network (encoder with
LoRA merged, mean pooling, head). Both ONNX runners go through
:class:`framing.onnx_model.OnnxDetector`, so normalisation, language guess,
windows and calibration are included exactly as in the torch detector; all run
with ``evidence=False`` after a warm-up. Texts come from ``bench/detect.py``'s
loader (shared data when present, else generated). Also prints how often the
labels agree with the torch fp32 detector.

    python bench/onnx.py [--model DIR] [--n 2000] [--batch-size 32] [--json out.json]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
# this script is named like the package it measures (onnx): keep its folder off sys.path so that
# ``import onnx`` finds the package, and load the shared helpers of bench/detect.py by path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
_spec = importlib.util.spec_from_file_location("bench_detect", HERE / "detect.py")
_detect = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(_detect)  # type: ignore[union-attr]
load_texts, prepare_model = _detect.load_texts, _detect.prepare_model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="framing model directory (default: the bundled one)")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()

    import torch

    from framing.detector import Detector
    from framing.export import export_detector
    from framing.onnx_model import OnnxDetector

    texts, origin = load_texts(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        model, what = prepare_model(args.model, Path(tmp))
        out = export_detector(model, Path(tmp) / "export", onnx=True)
        threads = torch.get_num_threads()
        runners = {"Detector fp32 (torch)": Detector.from_pretrained(model),
                   "onnxruntime fp32": OnnxDetector.from_export(out, threads=threads),
                   "onnxruntime int8": OnnxDetector.from_export(out, int8=True, threads=threads)}
        results, labels = {}, {}
        for name, det in runners.items():
            det.detect_many(texts[:64], batch_size=args.batch_size, evidence=False)  # warm-up
            t0 = time.perf_counter()
            got = det.detect_many(texts, batch_size=args.batch_size, evidence=False)
            results[name] = len(texts) / (time.perf_counter() - t0)
            labels[name] = [d.labels for d in got]
    base = results["Detector fp32 (torch)"]
    ref = labels["Detector fp32 (torch)"]
    print(f"{len(texts)} texts ({origin}); model: {what}; batch size {args.batch_size}; torch threads {threads}")
    rows = {}
    for name, tps in results.items():
        agree = sum(a == b for a, b in zip(labels[name], ref)) / len(ref)
        rows[name] = {"texts_per_s": round(tps, 1), "ratio": round(tps / base, 2), "label_agreement": round(agree, 4)}
        print(f"  {name:<24} {tps:8.1f} texts/s  {tps / base:5.2f}x Detector  labels agree {100 * agree:.1f}%")
    if args.json:
        Path(args.json).write_text(json.dumps({"n": len(texts), "origin": origin, "model": what,
                                               "batch_size": args.batch_size, "results": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
