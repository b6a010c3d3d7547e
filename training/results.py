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


def model_predictions(model_dir: Path, rows: list[dict[str, Any]]
                      ) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]], Any]:
    """Labels and calibrated scores per row id (one ``detect_many`` pass), and the detector's config."""
    from framing.detector import Detector

    det = Detector.from_pretrained(model_dir)
    labels, scores = {}, {}
    for r, d in zip(rows, det.detect_many([r["text"] for r in rows], evidence=False)):
        labels[r["id"]] = {lab: int(lab in d.labels) for lab in LABELS}
        scores[r["id"]] = dict(d.scores)
    return labels, scores, det.config


def pr_plots(rows: list[dict[str, Any]], scores: dict[str, dict[str, float]],
             preds: dict[str, dict[str, dict[str, int]]], config: Any, out_dir: Path) -> list[Path]:
    """docs/img/pr_<label>.png: the model's precision/recall curve per language on test, its operating
    point (the validation-calibrated threshold), and the lexicon's and TF-IDF's points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve

    from framing.metrics import prf

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for lab in LABELS:
        fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
        for ax, lang in zip(axes, ("en", "zh-Hans", "zh-Hant")):
            sub = [r for r in rows if r["lang"] == lang]
            y = [int(r[lab]) for r in sub]
            p, rc, _ = precision_recall_curve(y, [scores[r["id"]][lab] for r in sub])
            ax.plot(rc, p, color="black", lw=1.5, label="model (scores)")
            for name, marker in (("model", "o"), ("lexicon", "s"), ("TF-IDF", "^")):
                m = prf(y, [preds[name][r["id"]][lab] for r in sub])
                ax.plot([m["recall"]], [m["precision"]], marker=marker, ms=8, ls="none",
                        label=f"{name}{' at its threshold' if name == 'model' else ''} (F1 {m['f1']:.2f})")
            ax.set_title(f"{lab}, {lang} ({sum(y)} positives / {len(y)})", fontsize=10)
            ax.set_xlabel("recall")
            ax.set_xlim(0, 1)
            ax.set_ylim(0, 1.02)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower left")
        axes[0].set_ylabel("precision")
        thr = config.lang_thresholds.get(lab, {})
        fig.suptitle(f"{lab}: test split; thresholds from validation {json.dumps(thr)}", fontsize=10)
        fig.tight_layout()
        path = out_dir / f"pr_{lab}.png"
        tmp = path.with_name(f".{path.name}.tmp.png")
        fig.savefig(tmp, dpi=90, metadata={"Software": None})
        plt.close(fig)
        tmp.replace(path)
        paths.append(path)
    return paths


def subtype_prediction_table(config: Any) -> str:
    """The model's own sub-type outputs on test (from its config: thresholds fitted on validation)."""
    from framing.subtypes import SHIP_MIN_F1, SHIP_MIN_POSITIVES

    rep = config.metrics.get("test_subtypes")
    if not rep:
        return "The model has no sub-type outputs."
    lines = ["| sub-type | label | test positives | precision | recall | F1 | shipped in `Detection.subtypes` |",
             "|---|---|---|---|---|---|---|"]
    for st, m in rep.items():
        ship = "yes" if st in config.subtypes_shipped else "no"
        lines.append(f"| {st} | {m['label']} | {m['positives']} | {m['precision']:.2f} | {m['recall']:.2f} | "
                     f"**{m['f1']:.3f}** | {ship} |")
    return "\n".join(lines) + (f"\n\nShipped: positive-class F1 >= {SHIP_MIN_F1} with >= {SHIP_MIN_POSITIVES} "
                                "test positives; the others stay unreported.")


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
    ap.add_argument("--plots", type=Path, default=REPO / "docs" / "img", help="where pr_<label>.png go")
    ap.add_argument("--block", default="results", help="name of the block (<!-- NAME:begin --> ... end)")
    args = ap.parse_args()
    test = load_from_disk(str(args.data))["test"].to_list()
    base = json.loads(args.baselines.read_text(encoding="utf-8"))
    model_labels, model_scores, config = model_predictions(args.model, test)
    preds = {"lexicon": base["lexicon"]["predictions"], "TF-IDF": base["tfidf"]["predictions"], "model": model_labels}
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
        "",
        "### The model's sub-type outputs (is this sub-type in the text?)",
        "",
        subtype_prediction_table(config),
        "",
        "### Precision / recall curves (test split)",
        "",
        *(f"![{p.stem}](img/{p.name})" for p in pr_plots(test, model_scores, preds, config, args.plots)),
    ])
    print(block)
    if args.write:
        write_block(args.write, args.block, block)


if __name__ == "__main__":
    main()
