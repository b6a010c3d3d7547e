"""Add second-stage sub-type outputs to a trained labels-only model (framing.subtype_head), then save it.

The label outputs stay as they are; each sub-type gets a logistic-regression row
on the frozen features, a threshold on validation, and ships only at test F1 >= 0.70
with >= 30 test positives. ``train_default.py`` does the same at the end of training;
this script applies it to a model that exists already.

    python training/fit_subtype_head.py --model framing/models/default --out DIR [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "data"))


def main() -> None:
    import build

    from framing import Detector
    from framing.subtype_head import fit_subtype_head

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    det = Detector.from_pretrained(args.model, merge_adapters=False)
    dd = build.build(args.data_dir)
    want = det.config.training.get("extra", {}).get("corpus_hashes", {})
    got = {s: build.split_hash(dd[s]) for s in dd}
    if want and want != got:
        sys.exit(f"the corpus {got} is not the one this model was trained on {want}: retrain instead")
    rows = {s: list(dd[s]) for s in dd}
    rep = fit_subtype_head(det, rows["train"], rows["validation"], rows["test"],
                           dict(build.SUBTYPES))
    det.config.training["subtype_head"] = {k: list(v) for k, v in build.SUBTYPES.items()}
    extra = det.config.training.setdefault("extra", {})
    extra["command"] = (extra.get("command", "(unknown)") + " && python training/fit_subtype_head.py "
                        + " ".join(sys.argv[1:]))
    for st, m in rep.items():
        print(f"{st:18s} positives {m['positives']:4d}  P {m['precision']:.3f}  R {m['recall']:.3f}  F1 {m['f1']:.3f}"
              f"{'  shipped' if st in det.config.subtypes_shipped else ''}", file=sys.stderr)
    reports = {p.name: p.read_bytes() for p in args.model.glob("test_report.*")}  # save_pretrained replaces the dir
    det.save_pretrained(args.out)
    for name, data in reports.items():
        (args.out / name).write_bytes(data)


if __name__ == "__main__":
    main()
