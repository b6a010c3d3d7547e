"""The experiment table: training runs side by side, a lexicon + model stacker, the authored-rows ablation.

0. ``runs``: every training run whose config is kept in docs/results/runs/*.json (the
   ``framing_config.json`` of the run's model directory, weights left out): the command
   that made it, validation positive-class F1 per epoch (what selects the recipe) and
   its test F1 per label x language (reported once per run). One seed per run: a run
   costs 40-60 minutes on the 2-core CPU this project has.

1. ``stacker``: does what the lexicon knows add to the model? Per label, a logistic
   regression over [model logit, strong cue of the label, weak cue of the label,
   is-English] is fitted on VALIDATION; its threshold per language group comes from
   5-fold out-of-fold probabilities on validation. Test is scored once.
2. ``ablation``: TF-IDF + LR trained with and without the authored rows (train only),
   scored on the same real test split. (The transformer ablation costs a full
   training run each; ``training/train_default.py --no-authored`` runs it.)

    python training/experiments.py --data DIR [--model framing/models/default] [--out docs/results/experiments.json]
        [--runs docs/results/runs] [--write docs/results.md]
    python training/experiments.py --keep-run MODEL_DIR NAME   # copy a run's config into docs/results/runs/NAME.json
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "training"))
LABELS = ("dehumanising", "delegitimising")


def cue_features(texts: Sequence[str]) -> list[dict[str, tuple[int, int]]]:
    """(strong cue, weak cue) of each label per text, from framing's lexicon."""
    from framing.lexicon import load_lexicon

    lex = load_lexicon()
    out = []
    for t in texts:
        ms = lex.match(t)
        out.append({lab: (int(any(m.label == lab and m.strength == "strong" for m in ms)),
                          int(any(m.label == lab and m.strength != "strong" for m in ms))) for lab in LABELS})
    return out


def model_logits(model_dir: Path, texts: Sequence[str]) -> list[dict[str, float]]:
    """Calibrated logits (logit / temperature) of the model, per label."""
    from framing.detector import Detector

    det = Detector.from_pretrained(model_dir)
    logits, _ = det.logits_many(list(texts))
    return [{lab: float(lg[j]) / det.config.temperature.get(lab, 1.0) for j, lab in enumerate(det.labels)}
            for lg in logits]


def _x(z: dict[str, float], cues: dict[str, tuple[int, int]], lang: str, lab: str) -> list[float]:
    return [max(min(z[lab], 20.0), -20.0), *cues[lab], float(lang == "en")]


def _group(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def stacker(val: list[dict], test: list[dict], zv: list[dict], zt: list[dict], cv: list[dict],
            ct: list[dict]) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from framing.metrics import best_threshold

    preds: list[dict[str, int]] = [{} for _ in test]
    params: dict[str, Any] = {}
    for lab in LABELS:
        xv = [_x(z, c, r["lang"], lab) for z, c, r in zip(zv, cv, val)]
        yv = [int(r[lab]) for r in val]
        oof = [0.0] * len(val)
        for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(xv, yv):
            m = LogisticRegression(max_iter=1000).fit([xv[i] for i in tr], [yv[i] for i in tr])
            for i, p in zip(te, m.predict_proba([xv[i] for i in te])[:, 1]):
                oof[i] = float(p)
        thr = {}
        for g in ("en", "zh"):
            idx = [i for i, r in enumerate(val) if _group(r["lang"]) == g]
            thr[g] = best_threshold([oof[i] for i in idx], [yv[i] for i in idx]) if idx else 0.5
        m = LogisticRegression(max_iter=1000).fit(xv, yv)
        pt = m.predict_proba([_x(z, c, r["lang"], lab) for z, c, r in zip(zt, ct, test)])[:, 1]
        for p, prob, r in zip(preds, pt, test):
            p[lab] = int(prob >= thr[_group(r["lang"])])
        params[lab] = {"coef": [round(float(v), 4) for v in m.coef_[0]], "intercept": round(float(m.intercept_[0]), 4),
                       "features": ["model logit", "strong cue", "weak cue", "is English"], "thresholds": thr}
    return {"predictions": preds, "params": params}


def runs_table(runs_dir: Path) -> str:
    """One row per kept run: command, validation F1 by epoch, test positive-class F1 per label x language, and
    the splits it was measured on (runs on different splits do not compare cell by cell)."""
    paths = sorted(runs_dir.glob("*.json"))
    if not paths:
        return "(no runs kept)"
    cells = [(lab, lang) for lab in LABELS for lang in ("en", "zh-Hans", "zh-Hant")]
    head = ("| run | command | validation F1 by epoch (mean of labels) | "
            + " | ".join(f"{lab[:5]} {lang}" for lab, lang in cells)
            + " | train min | validation / test split (sha256) |")
    lines = [head, "|" + "---|" * (len(cells) + 5)]
    for p in paths:
        cfg = json.loads(p.read_text(encoding="utf-8"))
        tr, test = cfg.get("training", {}), cfg.get("metrics", {}).get("test", {})
        hist = ", ".join(f"{h['val_f1']:.3f}" for h in tr.get("history", []))
        cmd = tr.get("extra", {}).get("command", "?").replace(" --out /tmp/", " --out ").replace("|", "\\|")
        f1 = " | ".join(f"{test[lab][lang]['f1']:.3f}" if lab in test and lang in test[lab] else "-"
                        for lab, lang in cells)
        hashes = tr.get("extra", {}).get("corpus_hashes", {})
        split = f"{hashes.get('validation', '?')[:8]} / {hashes.get('test', '?')[:8]}"
        lines.append(f"| {p.stem} | `{cmd}` | {hist} | {f1} | {tr.get('train_seconds', 0) / 60:.0f} | {split} |")
    return "\n".join(lines)


def keep_run(model_dir: Path, name: str, runs_dir: Path) -> Path:
    """Copy a run's framing_config.json (no weights) into ``runs_dir/NAME.json``."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    out = runs_dir / f"{name}.json"
    out.write_text((model_dir / "framing_config.json").read_text(encoding="utf-8"), encoding="utf-8")
    return out


def model_preds(test: list[dict], zt: list[dict], model_dir: Path) -> list[dict[str, int]]:
    from framing.detector import Detector

    cfg = Detector.from_pretrained(model_dir).config
    return [{lab: int(1 / (1 + math.exp(-z[lab])) >= cfg.threshold(lab, r["lang"])) for lab in LABELS}
            for z, r in zip(zt, test)]


def ablation(dd: Any) -> dict[str, Any]:
    import baselines

    tr = dd["train"].to_list()
    va, te = dd["validation"].to_list(), dd["test"].to_list()
    out = {}
    for name, rows in (("with authored", baselines.train_rows(tr)),
                       ("without authored", [r for r in baselines.train_rows(tr) if not r.get("authored")])):
        res = baselines.tfidf_baseline(rows, va, te)
        out[name] = {"train_rows": len(rows), "report": res["report"]}
    return out


def main() -> None:
    from datasets import load_from_disk

    from framing.metrics import report

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep-run", nargs=2, metavar=("MODEL_DIR", "NAME"), default=None)
    ap.add_argument("--runs", type=Path, default=REPO / "docs" / "results" / "runs")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--render-only", action="store_true", help="re-render the tables from --out and --runs")
    ap.add_argument("--model", type=Path, default=REPO / "framing" / "models" / "default")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "results" / "experiments.json")
    ap.add_argument("--write", type=Path, default=None, help="replace the <!-- experiments --> block of this file")
    args = ap.parse_args()
    if args.keep_run:
        print(keep_run(Path(args.keep_run[0]), args.keep_run[1], args.runs))
        return
    if args.render_only:  # the tables again from --out (written by an earlier full run) and the kept runs
        res = json.loads(args.out.read_text(encoding="utf-8"))
        _emit(res, args)
        return
    if args.data is None:
        ap.error("--data is required (a saved DatasetDict from training/data/build.py --out)")
    dd = load_from_disk(str(args.data))
    val, test = dd["validation"].to_list(), dd["test"].to_list()
    zv, zt = model_logits(args.model, [r["text"] for r in val]), model_logits(args.model, [r["text"] for r in test])
    cv, ct = cue_features([r["text"] for r in val]), cue_features([r["text"] for r in test])
    gold = [{lab: int(r[lab]) for lab in LABELS} for r in test]
    langs = [r["lang"] for r in test]
    st = stacker(val, test, zv, zt, cv, ct)
    res = {"model": report(LABELS, gold, model_preds(test, zt, args.model), langs),
           "stacker": report(LABELS, gold, st["predictions"], langs), "stacker_params": st["params"],
           "ablation_tfidf": ablation(dd)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    tmp.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    _emit(res, args)


def _emit(res: dict[str, Any], args: Any) -> None:
    text = ("### Training runs\n\n" + runs_table(args.runs)
            + "\n\n### Model + lexicon stacker, TF-IDF authored ablation (test split)\n\n" + markdown(res))
    print(text)
    if args.write:
        from results import write_block

        write_block(args.write, "experiments", text)


def markdown(res: dict[str, Any]) -> str:
    def cell(m: dict[str, float]) -> str:
        return f"{m['precision']:.2f} / {m['recall']:.2f} / **{m['f1']:.3f}**"

    ab = res["ablation_tfidf"]
    names = list(ab)
    lines = ["| label | lang | model P / R / F1 | model + lexicon stacker P / R / F1 | "
             + " | ".join(f"TF-IDF {n} ({ab[n]['train_rows']} rows) F1" for n in names) + " |",
             "|" + "---|" * (4 + len(names))]
    for lab in LABELS:
        for lang in ("en", "zh-Hans", "zh-Hant", "all"):
            lines.append(f"| {lab} | {lang} | {cell(res['model'][lab][lang])} | {cell(res['stacker'][lab][lang])} | "
                         + " | ".join(f"{ab[n]['report'][lab][lang]['f1']:.3f}" for n in names) + " |")
    params = "; ".join(f"{lab}: coefficients {p['coef']} for {p['features']}, thresholds {p['thresholds']}"
                       for lab, p in res["stacker_params"].items())
    return "\n".join(lines) + f"\n\nStacker fitted on validation ({params})."


if __name__ == "__main__":
    main()
