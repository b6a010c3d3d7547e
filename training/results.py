"""docs/results.md's tables: the model against the lexicon and TF-IDF baselines on the test split.

Positive-class precision, recall and F1 per label x language (the positive class is
the rare one that matters; the mean of positive- and negative-class F1 hides misses),
then recall per frame sub-type x language group, computed from per-row predictions:
the model's (scored here), and the lexicon's and TF-IDF's (from
docs/results/baselines.json, written by training/baselines.py on the same build).

    python training/data/build.py --out DIR && python training/baselines.py --data DIR
    python training/results.py --data DIR [--model framing/models/default] [--write docs/results.md]

With ``--write`` the generated block between ``<!-- results:begin -->`` and
``<!-- results:end -->`` in the file is replaced (``--block NAME`` for another block); the rest is kept.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training" / "data"))
LABELS = ("dehumanising", "delegitimising")


def write_block(path: Path, name: str, body: str) -> None:
    """Replace the block between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in a markdown file
    (appended when missing); written atomically."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        text = text[:text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def model_predictions(model_dir: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    from framing.detector import Detector

    det = Detector.from_pretrained(model_dir)
    out = {}
    for r, d in zip(rows, det.detect_many([r["text"] for r in rows], evidence=False)):
        out[r["id"]] = {lab: int(lab in d.labels) for lab in LABELS}
    return out


def _group(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def label_table(rows: list[dict[str, Any]], preds: dict[str, dict[str, dict[str, int]]]) -> str:
    from framing.metrics import prf

    names = list(preds)
    head = "| label | lang | n | positives | " + " | ".join(f"{n} P / R / F1" for n in names)
    lines = [head + f" | {names[-1]} F1 - best baseline |", "|" + "---|" * (len(names) + 5)]
    for lab in LABELS:
        for lang in ("en", "zh-Hans", "zh-Hant", "all"):
            sub = [r for r in rows if lang == "all" or r["lang"] == lang]
            y = [int(r[lab]) for r in sub]
            cells, f1s = [], []
            for n in names:
                m = prf(y, [preds[n][r["id"]][lab] for r in sub])
                cells.append(f"{m['precision']:.2f} / {m['recall']:.2f} / **{m['f1']:.3f}**")
                f1s.append(m["f1"])
            gap = f1s[-1] - max(f1s[:-1]) if len(f1s) > 1 else 0.0
            lines.append(f"| {lab} | {lang} | {len(sub)} | {sum(y)} | " + " | ".join(cells) + f" | {100 * gap:+.1f} |")
    return "\n".join(lines)


def subtype_table(rows: list[dict[str, Any]], preds: dict[str, dict[str, dict[str, int]]]) -> str:
    import build

    label_of = {s: lab for lab, subs in build.SUBTYPES.items() for s in subs}
    names = list(preds)
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        for s in r["subtypes"]:
            by[(s, _group(r["lang"]))].append(r)
    lines = ["| sub-type | lang | test positives | " + " | ".join(f"{n} recall" for n in names) + " |",
             "|" + "---|" * (len(names) + 3)]
    for lab in LABELS:
        for s in build.SUBTYPES[lab]:
            for g in ("en", "zh"):
                pos = by.get((s, g), [])
                if not pos:
                    lines.append(f"| {s} | {g} | 0 | " + " | ".join("-" for _ in names) + " |")
                    continue
                rec = [sum(preds[n][r["id"]][label_of[s]] for r in pos) / len(pos) for n in names]
                lines.append(f"| {s} | {g} | {len(pos)} | " + " | ".join(f"{x:.2f}" for x in rec) + " |")
    return "\n".join(lines)


def main() -> None:
    from datasets import load_from_disk

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="saved DatasetDict (training/data/build.py --out)")
    ap.add_argument("--model", type=Path, default=REPO / "framing" / "models" / "default")
    ap.add_argument("--baselines", type=Path, default=REPO / "docs" / "results" / "baselines.json")
    ap.add_argument("--write", type=Path, default=None, help="replace the generated block of this markdown file")
    ap.add_argument("--block", default="results", help="name of the block (<!-- NAME:begin --> ... end)")
    args = ap.parse_args()
    test = load_from_disk(str(args.data))["test"].to_list()
    base = json.loads(args.baselines.read_text(encoding="utf-8"))
    preds = {"lexicon": base["lexicon"]["predictions"], "TF-IDF": base["tfidf"]["predictions"],
             "model": model_predictions(args.model, test)}
    missing = [r["id"] for r in test if any(r["id"] not in p for p in preds.values())]
    if missing:
        raise SystemExit(f"{len(missing)} test rows lack a baseline prediction (e.g. {missing[0]}): rerun "
                         "training/baselines.py on this build")
    block = "\n".join([
        f"Test split: {len(test)} real texts (no authored, weak or augmented rows). Model: "
        f"`{os.path.relpath(args.model, REPO)}`.",
        "",
        "### Per label and language (positive class: precision / recall / F1)",
        "",
        label_table(test, preds),
        "",
        "### Recall per frame sub-type (a hit = the sub-type's label predicted)",
        "",
        subtype_table(test, preds),
    ])
    print(block)
    if args.write:
        write_block(args.write, args.block, block)


if __name__ == "__main__":
    main()
