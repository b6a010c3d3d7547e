"""Import annotation-pass outputs into the repository's stand-off files.

Annotators work on batches of {key, text}; their outputs are JSONL of
{key, dehumanising, delegitimising, lang, note}. This script keeps only the
stand-off part (no third-party text) in training/data/annotations/:
gold.jsonl (first pass, after the review pass), double.jsonl (the blind second
pass) and authored.jsonl (our own contrast texts, stored in full).

    python training/data/import_annotations.py --work /path/to/annotation/workdir
"""
from __future__ import annotations

import argparse
import glob
import json
import os
from pathlib import Path

OUT = Path(__file__).resolve().parent / "annotations"
LANGS = {"en", "zh-Hans", "zh-Hant", "yue", "mixed", "other"}


def _rows(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(x) for x in fh if x.strip()]


def _check(r: dict, where: str) -> None:
    for lab in ("dehumanising", "delegitimising"):
        if r.get(lab) not in (0, 1):
            raise ValueError(f"{where}: {r.get('key')} has {lab}={r.get(lab)!r}")
    if r.get("lang") not in LANGS:
        raise ValueError(f"{where}: {r.get('key')} has lang={r.get('lang')!r}")


def _write(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    review = {}
    for path in sorted(glob.glob(str(args.work / "review" / "*.jsonl"))):
        for r in _rows(path):
            review[r["key"]] = r
    gold, seen = [], set()
    for path in sorted(glob.glob(str(args.work / "labels" / "batch_*.jsonl"))):
        batch, annotator = Path(path).name.split(".")[:2]
        inputs = [json.loads(x)["key"] for x in open(args.work / "batches" / f"{batch}.jsonl", encoding="utf-8")]
        rows = _rows(path)
        if [r["key"] for r in rows] != inputs:
            raise ValueError(f"{path}: keys differ from the batch's")
        for r in rows:
            _check(r, path)
            if r["key"] in seen:
                raise ValueError(f"{r['key']} labelled twice in the first pass")
            seen.add(r["key"])
            rec = {"key": r["key"], "source": r["key"].split(":")[0], "row_id": r["key"].split(":", 1)[1],
                   "dehumanising": r["dehumanising"], "delegitimising": r["delegitimising"], "lang": r["lang"],
                   "annotator": annotator, "batch": batch, "note": r.get("note", "")}
            if r["key"] in review:
                rv = review[r["key"]]
                _check({**rv, "lang": r["lang"]}, "review")
                if (rv["dehumanising"], rv["delegitimising"]) != (r["dehumanising"], r["delegitimising"]):
                    rec["first_pass"] = {"dehumanising": r["dehumanising"], "delegitimising": r["delegitimising"]}
                    rec.update(dehumanising=rv["dehumanising"], delegitimising=rv["delegitimising"],
                               reviewed_by=rv["annotator"], note=f"{rec['note']} | review: {rv.get('note', '')}")
            gold.append(rec)
    _write(OUT / "gold.jsonl", sorted(gold, key=lambda r: r["key"]))
    double = []
    for path in sorted(glob.glob(str(args.work / "double" / "*.ann*.jsonl"))):
        annotator = Path(path).name.split(".")[1]
        for r in _rows(path):
            _check(r, path)
            double.append({"key": r["key"], "dehumanising": r["dehumanising"], "delegitimising": r["delegitimising"],
                           "lang": r["lang"], "annotator": annotator, "note": r.get("note", "")})
    _write(OUT / "double.jsonl", sorted(double, key=lambda r: r["key"]))
    authored = []
    for path in sorted(glob.glob(str(args.work / "authored" / "authored_*.jsonl"))):
        annotator = Path(path).stem.split("_")[1]
        for i, r in enumerate(_rows(path)):
            _check(r, path)
            authored.append({"key": f"authored:{annotator}-{i:03d}", "text": r["text"], "lang": r["lang"],
                             "dehumanising": r["dehumanising"], "delegitimising": r["delegitimising"],
                             "kind": r.get("kind", ""), "annotator": annotator, "note": r.get("note", "")})
    _write(OUT / "authored.jsonl", authored)
    print(f"gold {len(gold)}, double {len(double)}, authored {len(authored)} -> {OUT}")


if __name__ == "__main__":
    main()
