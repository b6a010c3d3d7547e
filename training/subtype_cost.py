"""What training sub-type outputs costs the two labels: one epoch on a fixed train subset, with and without them.

Same data, seed, steps and recipe (LoRA r16, lr 8e-4, batch 16) except ``TrainingArguments.subtypes``;
prints each run's validation positive-class F1 (mean over the two labels, best thresholds) on a fixed
validation subset. About 4 minutes per run on a 2-core CPU.

    python training/subtype_cost.py --data DIR [--train-rows 4000] [--val-rows 600]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "data"))


def main() -> None:
    import build
    from datasets import load_from_disk

    from framing.trainer import TrainingArguments, train

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="saved DatasetDict (training/data/build.py --out)")
    ap.add_argument("--train-rows", type=int, default=4000)
    ap.add_argument("--val-rows", type=int, default=600)
    args = ap.parse_args()
    dd = load_from_disk(str(args.data))
    tr = dd["train"].shuffle(seed=0).select(range(args.train_rows))
    va = dd["validation"].shuffle(seed=0).select(range(args.val_rows))
    for name, subs in (("labels only", {}), ("labels + sub-types", dict(build.SUBTYPES))):
        t0 = time.time()
        targs = TrainingArguments(epochs=1, batch_size=16, learning_rate=8e-4, lora_r=16, progress=False,
                                  subtypes=subs, logging_steps=25)
        det = train(tr, va, None, targs)
        f1 = det.config.training["history"][-1]["val_f1"]
        print(f"{name}: validation F1 {f1:.4f} after {det.config.training['history'][-1]['step']} steps "
              f"({time.time() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
