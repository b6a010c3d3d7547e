"""Checks of the default model on the corpus test split beyond macro-F1: counter-speech, int8 and ONNX parity.

- Counter-speech / reporting flag rate: the share of test texts that quote, report or
  argue against a frame WITHOUT using it (gold: both labels 0) that the model
  flags with any label. Which texts those are comes from the annotations, not from
  a model: authored texts of kind ``counter-speech`` or ``reporting``, and source
  texts whose annotator note says counter-speech, reporting or quoting.
- int8 parity: labels of ``Detector(quantize="int8")`` against fp32, per text (and, on a CPU
  with VNNI, of the 7-bit activations other CPUs get).
- ONNX parity: ``framing export --onnx`` graphs (fp32 and int8) through ``OnnxDetector``.
- Standard export: ``transformers.pipeline("text-classification", model=EXPORT, top_k=None,
  function_to_apply="sigmoid")`` on the same texts, normalised by framing first (should be
  exact) and raw (what a user without framing gets), labels with the export's thresholds.

Writes docs/results/extra.json and prints the markdown for docs/results.md.

    python training/eval_extra.py [--data-dir DIR] [--model DIR]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ANN = REPO / "training" / "data" / "annotations"
_NOTE = re.compile(r"counter|report|quot", re.I)


def counter_speech_ids() -> set[str]:
    """Annotation keys of texts that counter, report or quote a frame (by the annotators' kind or note)."""
    ids = set()
    for a in map(json.loads, (ANN / "authored.jsonl").read_text(encoding="utf-8").splitlines()):
        if a.get("kind") in ("counter-speech", "reporting"):
            ids.add(a["key"])
    for a in map(json.loads, (ANN / "gold.jsonl").read_text(encoding="utf-8").splitlines()):
        if _NOTE.search(a.get("note") or ""):
            ids.add(a["key"])
    return ids


def pipeline_parity(export_dir: Path, det: object, texts: list, ref: list) -> dict:
    """Labels of the plain transformers pipeline on the export vs the Detector, per script of the input."""
    from transformers import pipeline

    from framing.normalizer import normalize

    pipe = pipeline("text-classification", model=str(export_dir), top_k=None, function_to_apply="sigmoid")
    cfg = det.config  # type: ignore[attr-defined]
    out = {}
    for name, inputs in (("pipeline on the export, framing-normalised text", [normalize(t, det.norm_config).text
                                                                              for t in texts]),  # type: ignore
                         ("pipeline on the export, raw text", list(texts))):
        got = pipe(inputs, batch_size=32, truncation=True)
        same, diff = 0, 0.0
        for o, d in zip(got, ref):
            sc = {x["label"]: x["score"] for x in o}
            labs = tuple(lab for lab in cfg.labels if sc[lab] >= cfg.threshold(lab, d.language))
            same += labs == d.labels
            diff = max(diff, max(abs(sc[lab] - d.scores[lab]) for lab in cfg.labels))
        out[name] = {"texts": len(texts), "same_labels": same, "rate": round(same / len(texts), 4),
                     "max_score_diff": round(diff, 6)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--model", type=Path, default=None, help="default: the bundled model")
    ap.add_argument("--json", type=Path, default=REPO / "docs" / "results" / "extra.json")
    args = ap.parse_args()

    sys.path.insert(0, str(REPO / "training" / "data"))
    import build

    from framing.default import default_model_dir
    from framing.detector import Detector
    from framing.export import export_detector
    from framing.onnx_model import OnnxDetector
    from framing.quantize import full_range_activations, quantize_int8

    test = build.build(args.data_dir, weak=False)["test"]
    texts, ids = test["text"], test["id"]
    gold = list(zip(test["dehumanising"], test["delegitimising"], test["lang"]))
    model = args.model or default_model_dir()
    fp32 = Detector.from_pretrained(model)
    ref = fp32.detect_many(texts, evidence=False)
    runs = {"int8 (torch dynamic)": Detector.from_pretrained(model, quantize="int8")}
    if full_range_activations():  # also the 7-bit activations that CPUs without VNNI get
        seven = Detector.from_pretrained(model)
        seven.model, seven.quantize = quantize_int8(seven.model, full_range=False), "int8"
        runs["int8 (torch dynamic, 7-bit activations)"] = seven
    with tempfile.TemporaryDirectory() as tmp:
        out = export_detector(fp32, Path(tmp) / "export", onnx=True)
        runs["ONNX fp32"] = OnnxDetector.from_export(out)
        runs["ONNX int8"] = OnnxDetector.from_export(out, int8=True)
        parity = {}
        for name, det in runs.items():
            got = det.detect_many(texts, evidence=False)
            same = sum(a.labels == b.labels for a, b in zip(ref, got))
            diff = max(abs(a.scores[k] - b.scores[k]) for a, b in zip(ref, got) for k in a.scores)
            parity[name] = {"texts": len(texts), "same_labels": same, "rate": round(same / len(texts), 4),
                            "max_score_diff": round(diff, 6)}
        parity.update(pipeline_parity(out, fp32, texts, ref))
    cs = counter_speech_ids()
    by_lang: dict[str, list[int]] = {}
    for i, (d, (h, g, lang)) in enumerate(zip(ref, gold)):
        if ids[i] in cs and h == 0 and g == 0:
            by_lang.setdefault(lang, []).append(int(bool(d.labels)))
    flags = {lang: {"texts": len(v), "flagged": sum(v), "rate": round(sum(v) / len(v), 4)}
             for lang, v in sorted(by_lang.items())}
    allv = [x for v in by_lang.values() for x in v]
    flags["all"] = {"texts": len(allv), "flagged": sum(allv), "rate": round(sum(allv) / len(allv), 4)}
    result = {"test_split_sha": build.split_hash(test), "model": str(model), "counter_speech": flags,
              "parity": parity}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("Counter-speech / reporting texts in test (gold: no frame), flagged with any label "
          "(target <= 15%):\n\n| lang | texts | flagged | rate |\n|---|---|---|---|")
    for lang, f in flags.items():
        print(f"| {lang} | {f['texts']} | {f['flagged']} | {100 * f['rate']:.1f}% |")
    print(f"\nParity with the fp32 Detector on the {len(texts)} test texts:\n\n"
          "| runtime | same labels | rate | max score difference |\n|---|---|---|---|")
    for name, p in parity.items():
        print(f"| {name} | {p['same_labels']}/{p['texts']} | {100 * p['rate']:.2f}% | {p['max_score_diff']:.2e} |")


if __name__ == "__main__":
    main()
