"""Functional test suite runner: pass rate per functionality x language for a detector and the lexicon.

The cases (training/functional/cases.jsonl) were written in a separate authoring
pass, after and apart from every training text, and are never trained on
(tests/test_functional.py checks that no case is a near-duplicate of a corpus row).
A positive case passes when its label is predicted (recall); a contrast case passes
when neither label is predicted.

    python training/functional/run.py [--model framing/models/default] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CASES = HERE / "cases.jsonl"
LANGS = ("en", "zh-Hans", "zh-Hant", "yue")
LABEL_OF = {"deh": "dehumanising", "del": "delegitimising"}


def load_cases(path: Path = CASES) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(x) for x in fh if x.strip()]


def passed(case: dict[str, Any], labels: set[str]) -> bool:
    """Positive functionality: its label is predicted. Contrast: no label is predicted."""
    kind = case["functionality"].split("_", 1)[0]
    if kind == "c":
        return not labels
    return LABEL_OF[kind] in labels


def run(cases: list[dict[str, Any]], predict) -> dict[str, dict[str, list[int]]]:  # type: ignore[no-untyped-def]
    """{functionality: {lang: [passed, total]}} for ``predict(texts) -> list[set of labels]``."""
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for case, labels in zip(cases, predict([c["text"] for c in cases])):
        cell = out[case["functionality"]][case["lang"]]
        cell[0] += passed(case, labels)
        cell[1] += 1
    return {f: dict(v) for f, v in out.items()}


def detector_predict(model_dir: Path):  # type: ignore[no-untyped-def]
    from framing.detector import Detector

    det = Detector.from_pretrained(model_dir)
    return lambda texts: [set(d.labels) for d in det.detect_many(texts, evidence=False)]


def lexicon_predict(texts: list[str]) -> list[set[str]]:
    from framing.lexicon import load_lexicon

    lex = load_lexicon()
    return [{m.label for m in lex.match(t)} for t in texts]


def table(results: dict[str, dict[str, dict[str, list[int]]]]) -> str:
    names = list(results)
    funcs = sorted(next(iter(results.values())), key=lambda f: (f.startswith("c_"), f))
    head = "| functionality | " + " | ".join(f"{lg} {n}" for lg in LANGS for n in names) + " |"
    lines = [head, "|" + "---|" * (1 + len(LANGS) * len(names))]
    for f in funcs:
        cells = []
        for lg in LANGS:
            for n in names:
                p, t = results[n].get(f, {}).get(lg, [0, 0])
                cells.append(f"{p / t:.2f}" if t else "-")
        lines.append(f"| {f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary(results: dict[str, dict[str, dict[str, list[int]]]]) -> str:
    """Pass rate over all positive and over all contrast cases, per language and overall."""
    lines = ["| runner | kind | " + " | ".join(LANGS) + " | all |", "|" + "---|" * (len(LANGS) + 3)]
    for name, res in results.items():
        for kind in ("positive", "contrast"):
            cells = []
            for lg in (*LANGS, None):
                p = t = 0
                for f, by in res.items():
                    if (f.startswith("c_")) != (kind == "contrast"):
                        continue
                    for lang, (a, b) in by.items():
                        if lg is None or lang == lg:
                            p, t = p + a, t + b
                cells.append(f"{p / t:.2f}" if t else "-")
            lines.append(f"| {name} | {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=REPO / "framing" / "models" / "default")
    ap.add_argument("--json", type=Path, default=None, help="also write the pass counts here")
    ap.add_argument("--write", type=Path, default=None, help="replace the <!-- functional --> block of this file")
    args = ap.parse_args()
    cases = load_cases()
    results = {"lexicon": run(cases, lexicon_predict), "model": run(cases, detector_predict(args.model))}
    text = (f"{len(cases)} cases; pass rate per functionality x language, lexicon then model (positive "
            f"functionality: recall of its label; contrast: share with no label predicted).\n\n{table(results)}\n\n"
            f"{summary(results)}")
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.write:
        sys.path.insert(0, str(REPO / "training"))
        from results import write_block

        write_block(args.write, "functional", text)


if __name__ == "__main__":
    sys.exit(main())
