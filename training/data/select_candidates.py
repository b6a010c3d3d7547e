"""Choose which source rows are sent to human annotation (deterministic, seed 13).

Positives of both frames are rare in random samples, so most candidates are
drawn from rows that contain a *possible* cue (broad regexes below) and the rest
at random. The regexes only choose what a person reads; every label is then
judged by reading the text under docs/codebook.md. Output: the candidate keys
(committed as training/data/candidates.txt) and, with --batches DIR, shuffled
annotation batches of JSONL {key, text}.
"""
from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

from sources import REPO, read_all

SEED = 13
EN_DEHUM = re.compile(r"\b(animals?|rats?|roach(es)?|cockroach\w*|vermin|savages?|apes?|monkeys?|scum|parasites?|beasts?|pigs?|dogs?|filth\w*|subhuman|leech\w*|maggots?|swine|garbage|plague|cancer|disease\w*|exterminat\w*|wipe (them|em) out|infest\w*)\b", re.I)
EN_TRASH = re.compile(r"\btrash\b", re.I)
EN_DELEG = re.compile(r"\b(thugs?|terrorists?|traitors?|illegals?|rioters?|riots?|mobs?|puppets?|fake|so.called|paid|commies?|communists?|isis|jihad\w*|radical|extremists?|criminals?|gangsters?|looters?|anarchists?|libtards?|treason\w*|invaders?|separatis\w*|foreign|violen\w*|protest\w*|police|hong kong)\b", re.I)
ZH_CUE = re.compile("暴徒|暴民|乱港|亂港|港独|港獨|汉奸|漢奸|势力|勢力|黑手|颜色革命|顏色革命|恐怖|蟑螂|曱甴|废青|廢青|垃圾|暴力|分裂|收钱|收錢|走狗|违法|違法|激进|激進|黑警|共匪|狗|支那|蝗|五毛|三毛|藍屍|蓝尸|黃屍|港豬|港猪|廢老|畜生|禽兽|禽獸|黃絲|藍絲|暴動|暴动|大陆人|大陸人|强国|強國|人渣|黑鬼|黑皮|猴|猪|豬|病毒|毒瘤|寄生|蛆|杂种|雜種|野蛮|動物|动物|老鼠|苍蝇|蒼蠅|渣|癌|害虫|害蟲|共產|共产|警察|示威|政府")


def _pick(rows, pattern, n, rng, exclude=()):
    hits = sorted(k for k, r in rows.items() if pattern.search(r.text) and k not in exclude)
    return rng.sample(hits, min(n, len(hits)))


def select(data_dir: Path | None = None) -> list[str]:
    rng = random.Random(SEED)
    allrows = read_all(data_dir)
    by = lambda src, lang=None: {k: r for k, r in allrows.items()  # noqa: E731
                                 if k.startswith(src + ":") and (lang is None or r.lang == lang)}
    chosen: list[str] = []

    dav = by("davidson")
    chosen += _pick(dav, EN_DEHUM, 380, rng)
    chosen += _pick(dav, EN_TRASH, 120, rng, set(chosen))
    chosen += _pick(dav, EN_DELEG, 220, rng, set(chosen))
    chosen += rng.sample(sorted(set(dav) - set(chosen)), 80)

    en = by("hk_io", "en")
    chosen += _pick(en, EN_DELEG, 300, rng)
    chosen += rng.sample(sorted(set(en) - set(chosen)), 60)

    hans = by("hk_io", "zh-Hans")
    chosen += _pick(hans, ZH_CUE, 520, rng)
    chosen += rng.sample(sorted(set(hans) - set(chosen)), 130)
    chosen += sorted(by("hk_io", "zh-Hant"))

    cold = by("cold")
    chosen += _pick(cold, ZH_CUE, 520, rng)
    chosen += rng.sample(sorted(set(cold) - set(chosen)), 180)

    lihkg = {k: r for k, r in by("lihkg").items() if len(r.text) >= 6}
    chosen += _pick(lihkg, ZH_CUE, 880, rng)
    chosen += rng.sample(sorted(set(lihkg) - set(chosen)), 320)
    assert len(chosen) == len(set(chosen))
    return chosen


def select_round2(data_dir: Path | None = None, exclude: set[str] = frozenset()) -> list[str]:
    """Second round: rows with a framing lexicon cue (positives are still too rare), plus some random rows.

    The lexicon only chooses what is read; labels are still judged by reading.
    """
    from framing.lexicon import load_lexicon

    rng = random.Random(SEED + 2)
    lex = load_lexicon()
    allrows = read_all(data_dir)
    quota = {("davidson", None): 300, ("hk_io", "en"): 100, ("hk_io", "zh-Hans"): 350, ("cold", None): 300,
             ("lihkg", None): 390}
    chosen: list[str] = []
    for (src, lang), n in quota.items():
        pool = sorted(k for k, r in allrows.items() if k.startswith(src + ":") and k not in exclude
                      and (lang is None or r.lang == lang) and len(r.text) >= 6)
        cued = [k for k in pool if lex.match(allrows[k].text)]
        take = rng.sample(cued, min(len(cued), int(n * 0.85)))
        rest = sorted(set(pool) - set(take))
        take += rng.sample(rest, min(len(rest), n - len(take)))
        chosen += take
    assert len(chosen) == len(set(chosen))
    return chosen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=REPO / "training" / "data" / "candidates.txt")
    ap.add_argument("--batches", type=Path, default=None, help="write annotation batches here")
    ap.add_argument("--batch-size", type=int, default=160)
    ap.add_argument("--round", type=int, default=1, choices=(1, 2))
    ap.add_argument("--first-batch", type=int, default=0, help="number of the first batch file written")
    args = ap.parse_args()
    if args.round == 1:
        keys = select(args.data_dir)
    else:
        first = set((REPO / "training" / "data" / "candidates.txt").read_text(encoding="utf-8").split())
        keys = select_round2(args.data_dir, first)
        if args.out == ap.get_default("out"):
            args.out = REPO / "training" / "data" / "candidates_round2.txt"
    args.out.write_text("\n".join(keys) + "\n", encoding="utf-8")
    print(f"{len(keys)} candidates -> {args.out}")
    if args.batches:
        rows = read_all(args.data_dir)
        order = keys[:]
        random.Random(SEED + 1).shuffle(order)
        args.batches.mkdir(parents=True, exist_ok=True)
        for b in range(0, len(order), args.batch_size):
            name = f"batch_{args.first_batch + b // args.batch_size:03d}.jsonl"
            with open(args.batches / name, "w", encoding="utf-8") as fh:
                for k in order[b:b + args.batch_size]:
                    fh.write(json.dumps({"key": k, "text": rows[k].text}, ensure_ascii=False) + "\n")
        print(f"batches -> {args.batches}")


if __name__ == "__main__":
    main()
