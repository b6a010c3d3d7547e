"""Worked example: teach framing a NEW label, save the model, load it back, use it.

The label here is ``mentions_police``: does the text talk about the police? It is
NOT hand-annotated. It is derived by a documented keyword rule (:func:`rule`) so
that the example needs no annotation work; a model trained on it learns to
imitate the rule (and, through the multilingual backbone, some paraphrases it
misses). For a real label, replace :func:`rule` with your annotators' judgements;
everything else stays the same. See docs/training.md.

What it shows, with the public API only:

1. build a small labelled slice (a few hundred rows, English + Chinese, from the
   shared data directory: hk_io, LIHKG, COLD, Davidson) and split it by row;
2. ``framing.train`` with LoRA on the real multilingual-e5-small backbone, for a
   few steps (a couple of minutes on 2 CPUs): the loop, early stopping on
   validation, temperature + threshold calibration, and a test report;
3. ``Detector.save_pretrained`` / ``Detector.from_pretrained``, and the same
   scores after the round trip.

    python examples/train_new_label.py [--out /tmp/mentions_police] [--rows 360] [--epochs 2]
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABEL = "mentions_police"

# The rule, applied to framing-normalised text (NFKC, lower-cased here, Traditional -> Simplified,
# so 警察 / 警察 and 差佬 need one spelling each). Multi-character Chinese terms only: a bare 警
# would also hit 警告 ("warning").
EN_POLICE = re.compile(r"\b(police(?:man|men|woman|women)?|cops?|officers?|constables?|swat)\b")
ZH_POLICE = re.compile("警察|警方|警员|警队|警署|警司|警长|警车|警棍|黑警|防暴|差佬|阿sir|警暴|辅警|武警|公安")


def rule(text: str) -> int:
    """1 when the normalised text names the police (see EN_POLICE / ZH_POLICE), else 0."""
    from framing.normalizer import normalize

    t = normalize(text).text.lower()
    return int(bool(EN_POLICE.search(t) or ZH_POLICE.search(t)))


def load_rows(n: int, seed: int = 0) -> list[dict]:
    """``n`` rows, about 40% positive, from the shared data (training/data/sources.py readers)."""
    sys.path.insert(0, str(REPO / "training" / "data"))
    from sources import READERS, default_data_dir  # the repository's readers of the shared data

    rng = random.Random(seed)
    pos, neg = [], []
    for name, reader in READERS.items():
        rows = [r for r in reader(default_data_dir()) if 10 <= len(r.text) <= 280]
        rng.shuffle(rows)
        for r in rows[:3000]:
            y = rule(r.text)
            (pos if y else neg).append({"text": r.text, LABEL: y, "lang": r.lang, "source": name})
    rng.shuffle(pos)
    rng.shuffle(neg)
    k = min(len(pos), int(n * 0.4))
    out = pos[:k] + neg[:n - k]
    rng.shuffle(out)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/tmp/framing-mentions-police"))
    ap.add_argument("--rows", type=int, default=360, help="rows in the slice (60%% train, 20%% validation, 20%% test)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--backbone", default="multilingual-e5-small", help="backbone spec or local directory")
    args = ap.parse_args()

    from framing.detector import Detector
    from framing.metrics import format_report
    from framing.trainer import TrainingArguments, train

    t0 = time.time()
    rows = load_rows(args.rows)
    a, b = int(len(rows) * 0.6), int(len(rows) * 0.8)
    train_rows, val_rows, test_rows = rows[:a], rows[a:b], rows[b:]
    print(f"{len(rows)} rows ({sum(r[LABEL] for r in rows)} positive): train {len(train_rows)}, "
          f"validation {len(val_rows)}, test {len(test_rows)}", file=sys.stderr)

    targs = TrainingArguments(
        labels=(LABEL,),            # any label names; each must be a 0/1 column of the rows
        text_field="text",
        lang_field="lang",          # per-language thresholds need >= min_lang_positives on validation
        base_model=args.backbone,
        finetune="lora",            # adapters + head: a few hundred KB on disk
        epochs=args.epochs,
        batch_size=16,
        max_train_length=64,        # tweets are short; shorter batches train faster on CPU
        learning_rate=5e-4,
        head_learning_rate=2e-3,
        patience=1,
        min_lang_positives=15,
        progress=sys.stderr.isatty(),
    )
    det = train(train_rows, val_rows, test_rows, targs, out_dir=args.out)
    print(format_report(det.config.metrics["test"], f"{LABEL} (test, {len(test_rows)} rows)"))
    print(f"temperature {det.config.temperature}, thresholds {det.config.thresholds}, "
          f"per language {det.config.lang_thresholds}")

    again = Detector.from_pretrained(args.out)  # what a user of the saved model does
    probes = ["Riot police fired tear gas at protesters in Mong Kok tonight",
              "黑警今晚又喺旺角放催淚彈",
              "the weather in Hong Kong is lovely today",
              "今天天气很好，我们去吃饭"]
    before = det.detect_many(probes, evidence=False)
    after = again.detect_many(probes, evidence=False)
    for p, x, y in zip(probes, before, after):
        assert abs(x.scores[LABEL] - y.scores[LABEL]) < 1e-4, "scores changed across save/load"
        print(f"  {y.scores[LABEL]:.3f} {'*' if LABEL in y.labels else ' '} rule={rule(p)}  {p}")
    size = sum(f.stat().st_size for f in args.out.iterdir())
    print(f"saved to {args.out} ({size / 1e6:.1f} MB) and reloaded; {time.time() - t0:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
