"""Corpus v2 candidate rounds: which source rows people read next, and why (deterministic).

Round 3 is the first round on the new English sources (IRA, Trump's tweets,
HateXplain) plus more Chinese rows; round 4 is drawn by active learning from a
quick model trained on the gold labels so far (``al_round``); round 5 adds cue
draws aimed at the cells still short, then another active-learning draw. Every candidate
carries the rule that chose it; the rule is kept in its stand-off record:

- ``cue:<label>``        a broad frame-cue regex or a framing lexicon cue matched (possible positive);
- ``cue:<subtype>``      a regex for a sub-type that is still short (e.g. ISIS comparisons);
- ``cue:en_subtypes`` / ``cue:zh_dehumanising``  round 5's regexes for the short cells;
- ``cue:zh_short_subtypes``  round 8: disease / extermination / terror-comparison words in Chinese;
- ``remaining``          every unread row of a small pool (hk_io Chinese);
- ``random``             uniform over the source's unread rows (frames without cue words, negatives);
- ``al:disagree``        the quick model and the lexicon disagree on a label;
- ``al:threshold``       the quick model's score is near its decision threshold;
- ``al:cuefree``         random among rows with no lexicon cue (what the lexicon cannot see);
- ``al:short:<cell>``    the quick model predicts a language x sub-type cell still short of its target;
- ``al:short_label:<cell>`` the quick model's top rows for a label x language cell short of 1,000 gold positives;
- ``cue:en_distancing`` / ``cue:zh_distancing``  round 6: a frame cue AND a distancing pattern (quotation
  marks, "called/calling/labelled", negation, 叫/稱/「」/唔係): candidates for REAL counter-speech, quoting
  and reporting, the hard negatives the model flags most (and the positives that only look distanced).

The regexes and models only choose what a person reads; every label is judged by
reading under docs/codebook.md.

    python training/data/select_v2.py --round 3 --batches WORK/batches --first-batch 100
    python training/data/select_v2.py --round 4 --n 2400 --batches WORK/batches --first-batch 120
    python training/data/select_v2.py --round 5 --batches WORK/batches --first-batch 140
    python training/data/select_v2.py --round 6 --batches WORK/batches --first-batch 160
    python training/data/select_v2.py --round 7 --batches WORK/batches --first-batch 170
    python training/data/select_v2.py --round 8 --batches WORK/batches --first-batch 180

Each round must be drawn after the previous rounds' candidates files exist (and, for
the active-learning draws, with the gold labels as they were then: the draws were made
while annotation went on, so rerunning rounds 4-5 today gives other candidates; the
committed candidates_round*.jsonl files are the record).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from pathlib import Path

from sources import REPO, read_all

HERE = Path(__file__).resolve().parent
SEED = 2026
EN_DELEG = re.compile(
    r"\b(thugs?|terrorists?|terrorism|traitors?|treason\w*|illegals?|illegal (aliens?|immigrants?)|rioters?|mobs?|"
    r"puppets?|fake|so.called|paid|soros\w*|funded|agents?|commies?|communists?|isis|jihad\w*|radicals?|extremists?|"
    r"criminals?|gangsters?|looters?|anarchists?|libtards?|invaders?|rigged|sham|witch ?hunt|crooked|corrupt|"
    r"enemy of the people|propaganda|dishonest|biased|lying (media|press)|msm|cnn|nyt\w*|regime|tyrants?|"
    r"fascis\w*|nazis?|kkk|antifa|blm|insurrection|coup|treasonous|sedition\w*|lock (her|him|them) up)\b", re.I)
EN_DEHUM = re.compile(
    r"\b(animals?|rats?|roach(es)?|cockroach\w*|vermin|savages?|apes?|monkeys?|scum|parasit\w*|beasts?|pigs?|dogs?|"
    r"filth\w*|subhuman|leech\w*|maggots?|swine|garbage|trash|plague|cancer\w*|disease\w*|virus|exterminat\w*|"
    r"wipe (them|em) out|infest\w*|invasion|breed\w*|snakes?|demons?|monsters?|creatures?|cattle|primates?|"
    r"gorillas?|insects?|locusts?|cleans\w*|gas (them|the)|kill (them|em|all))\b", re.I)
EN_TERROR = re.compile(r"\b(isis|isil|al.?qaeda|taliban|jihadis?\w*|hamas|terror\w*|suicide bomb\w*)\b", re.I)
ZH_TERROR = re.compile("ISIS|伊斯兰国|伊斯蘭國|恐怖|基地组织|基地組織|塔利班|圣战|聖戰|自杀式|自殺式")
ZH_CUE = re.compile(
    "暴徒|暴民|乱港|亂港|港独|港獨|汉奸|漢奸|势力|勢力|黑手|颜色革命|顏色革命|恐怖|蟑螂|曱甴|废青|廢青|垃圾|分裂|收钱|收錢|"
    "走狗|违法|違法|黑警|共匪|狗|支那|蝗|五毛|三毛|藍屍|蓝尸|黃屍|港豬|港猪|廢老|畜生|禽兽|禽獸|暴動|暴动|人渣|黑鬼|猴|猪|豬|"
    "病毒|毒瘤|寄生|蛆|杂种|雜種|野蛮|野蠻|動物|动物|老鼠|苍蝇|蒼蠅|渣|癌|害虫|害蟲|共產|共产|假新聞|假新闻|黃媒|黄媒|"
    "所謂|所谓|傀儡|特務|特务|間諜|间谍|賣國|卖国|叛國|叛国|黑社會|黑社会|政權|政权|屠|清除|滅|灭|殺|杀|魔鬼|禽")


def _norm_key(text: str) -> str:
    t = re.sub(r"https?://\S+|@\w+|^rt\b", "", text.lower())
    t = re.sub(r"\W+", "", t)
    return hashlib.md5(t.encode("utf-8")).hexdigest()


def read_done() -> set[str]:
    """Keys already read (first pass of any earlier round)."""
    done = set()
    for name in ("gold.jsonl",):
        path = HERE / "annotations" / name
        if path.exists():
            done |= {json.loads(x)["key"] for x in open(path, encoding="utf-8") if x.strip()}
    for name in ("candidates.txt", "candidates_round2.txt"):
        done |= set((HERE / name).read_text(encoding="utf-8").split())
    for path in sorted(HERE.glob("candidates_round*.jsonl")):
        done |= {json.loads(x)["key"] for x in open(path, encoding="utf-8") if x.strip()}
    return done


class Picker:
    """Draws keys by rule without repeats or (near-)exact duplicate texts."""

    def __init__(self, rows, exclude: set[str], seed: int):
        self.rows, self.rng = rows, random.Random(seed)
        self.taken: dict[str, str] = {}
        self.seen_text = {_norm_key(rows[k].text) for k in exclude if k in rows}
        self.exclude = exclude

    def pool(self, source: str, pred=lambda r: True, min_len: int = 6) -> list[str]:
        return sorted(k for k, r in self.rows.items() if k.startswith(source + ":") and k not in self.exclude
                      and k not in self.taken and len(r.text.strip()) >= min_len and pred(r))

    def take(self, keys: list[str], n: int, rule: str) -> int:
        keys = keys[:]
        self.rng.shuffle(keys)
        got = 0
        for k in keys:
            if got >= n:
                break
            h = _norm_key(self.rows[k].text)
            if k in self.taken or h in self.seen_text:
                continue
            self.seen_text.add(h)
            self.taken[k] = rule
            got += 1
        return got


def round3(data_dir: Path | None = None) -> dict[str, str]:
    from framing.lexicon import load_lexicon

    lex = load_lexicon()
    rows = read_all(data_dir)
    p = Picker(rows, read_done(), SEED)
    cue = lambda r: bool(lex.match(r.text))  # noqa: E731
    not_rt_only = lambda r: len(re.sub(r"https?://\S+|@\w+|\bRT\b", "", r.text).strip()) >= 20  # noqa: E731
    # English: the new sources
    p.take(p.pool("ira", lambda r: not_rt_only(r) and EN_TERROR.search(r.text)), 60, "cue:terror_comparison")
    p.take(p.pool("ira", lambda r: not_rt_only(r) and (cue(r) or EN_DELEG.search(r.text))), 700, "cue:delegitimising")
    p.take(p.pool("ira", lambda r: not_rt_only(r) and EN_DEHUM.search(r.text)), 250, "cue:dehumanising")
    p.take(p.pool("ira", not_rt_only), 250, "random")
    p.take(p.pool("trump_tweets", lambda r: cue(r) or EN_DELEG.search(r.text)), 450, "cue:delegitimising")
    p.take(p.pool("trump_tweets", lambda r: EN_TERROR.search(r.text)), 40, "cue:terror_comparison")
    p.take(p.pool("trump_tweets"), 110, "random")
    p.take(p.pool("hatexplain", lambda r: EN_DEHUM.search(r.text) or cue(r)), 420, "cue:dehumanising")
    p.take(p.pool("hatexplain", lambda r: EN_DELEG.search(r.text)), 100, "cue:delegitimising")
    p.take(p.pool("hatexplain"), 80, "random")
    # Chinese: more of the sources already in use
    p.take(p.pool("lihkg", lambda r: ZH_TERROR.search(r.text)), 40, "cue:terror_comparison")
    p.take(p.pool("lihkg", lambda r: cue(r) or ZH_CUE.search(r.text)), 520, "cue:lexicon_or_regex")
    p.take(p.pool("lihkg"), 100, "random")
    p.take(p.pool("hk_io", lambda r: r.lang != "en"), 150, "remaining")
    p.take(p.pool("cold", lambda r: ZH_TERROR.search(r.text)), 30, "cue:terror_comparison")
    p.take(p.pool("cold", lambda r: cue(r) or ZH_CUE.search(r.text)), 300, "cue:lexicon_or_regex")
    p.take(p.pool("cold"), 50, "random")
    return p.taken


EN_SUBTYPE_CUES = re.compile(
    r"\b(puppets?|paid|soros|funded|agents?|shills?|bots?|trolls?|plants?|actors?|isis|jihad\w*|al.?qaeda|taliban|"
    r"so.called|fake|sham|rigged|rubber.stamp|illegitimate|hoax|witch ?hunt|enemy of the people|failing|biased|"
    r"propaganda|plague|disease\w*|virus|cancer\w*|infect\w*|poison\w*|demons?|monsters?|savages?|subhuman|"
    r"beasts?|creatures?|exterminat\w*|wipe out|cleans\w*|purge|gas (them|the)|deport them all|kill (them|all))\b", re.I)
ZH_DEHUM = re.compile("蝗|猪|豬|狗|畜生|禽兽|禽獸|垃圾|人渣|渣滓|病毒|毒瘤|癌|蛆|寄生|黑鬼|猴|杀光|殺光|灭|滅|清除|"
                      "魔鬼|恶魔|惡魔|野蛮|野蠻|老鼠|蟑螂|曱甴|害虫|害蟲|瘟|屎|废物|廢物|不是人|唔係人")


def round5(data_dir: Path | None = None) -> dict[str, str]:
    """Round 5: cue draws aimed at the cells still short (English delegitimising sub-types, Chinese
    dehumanising), then an active-learning draw over what is left (al_round.py)."""
    from al_round import al_round

    rows = read_all(data_dir)
    done = read_done()
    p = Picker(rows, done, SEED + 5)
    not_rt_only = lambda r: len(re.sub(r"https?://\S+|@\w+|\bRT\b", "", r.text).strip()) >= 20  # noqa: E731
    p.take(p.pool("ira", lambda r: not_rt_only(r) and EN_SUBTYPE_CUES.search(r.text)), 500, "cue:en_subtypes")
    p.take(p.pool("ira", lambda r: not_rt_only(r) and EN_DELEG.search(r.text)), 300, "cue:delegitimising")
    p.take(p.pool("trump_tweets", lambda r: EN_SUBTYPE_CUES.search(r.text)), 300, "cue:en_subtypes")
    p.take(p.pool("hatexplain", lambda r: EN_SUBTYPE_CUES.search(r.text)), 300, "cue:en_subtypes")
    p.take(p.pool("cold", lambda r: ZH_DEHUM.search(r.text)), 400, "cue:zh_dehumanising")
    p.take(p.pool("lihkg", lambda r: ZH_CUE.search(r.text)), 300, "cue:lexicon_or_regex")
    p.take(p.pool("hk_io", lambda r: r.lang != "en"), 100, "remaining")
    chosen = dict(p.taken)
    chosen.update(al_round(data_dir, done | set(chosen), 4000 - len(chosen), SEED + 6))
    return chosen


EN_DISTANCING = re.compile(
    r"[\"\u201c\u201d'][^\"\u201c\u201d']{1,40}[\"\u201c\u201d']|\b(call(s|ed|ing)?|label+(s|ed|ing)?|brand(s|ed|ing)?|"
    r"describ(e|es|ed|ing)|refer(s|red|ring)? to|dehumaniz\w*|dehumanis\w*|racis\w*|stop|not|isn'?t|aren'?t|"
    r"don'?t|never|said|says|claims?|according|accus\w*)\b", re.I)
ZH_DISTANCING = re.compile("[「」“”\"『』]|叫|稱|称|話佢|话他|說他|说他|唔係|不是|別再|别再|咪再|唔好再|污名|標籤|标签|所謂的指控|指控|報道|报道|聲稱|声称")


def round6(data_dir: Path | None = None) -> dict[str, str]:
    """Round 6: real counter-speech / quoting / reporting candidates (the hard negatives behind the
    model's 20.7% counter-speech flag rate), then the label x language cells short of 1,000 gold
    positives and the short sub-types by active learning (al_round.py)."""
    from al_round import al_round

    rows = read_all(data_dir)
    done = read_done()
    p = Picker(rows, done, SEED + 7)
    en_cue = lambda r: (EN_DEHUM.search(r.text) or EN_DELEG.search(r.text)) and EN_DISTANCING.search(r.text)  # noqa: E731
    zh_cue = lambda r: ZH_CUE.search(r.text) and ZH_DISTANCING.search(r.text)  # noqa: E731
    for src, n in (("ira", 130), ("hatexplain", 130), ("trump_tweets", 70), ("davidson", 70)):
        p.take(p.pool(src, en_cue, min_len=20), n, "cue:en_distancing")
    for src, n in (("lihkg", 120), ("cold", 60), ("hk_io", 20)):
        p.take(p.pool(src, lambda r: r.lang != "en" and zh_cue(r), min_len=8), n, "cue:zh_distancing")
    chosen = dict(p.taken)
    short = {("zh-Hans", "dehumanising"): 120, ("zh-Hans", "delegitimising"): 120,
             ("zh-Hant", "dehumanising"): 120, ("zh-Hant", "delegitimising"): 120, ("en", "dehumanising"): 120}
    chosen.update(al_round(data_dir, done | set(chosen), 1600 - len(chosen), SEED + 8, short_labels=short))
    return chosen


def round7(data_dir: Path | None = None) -> dict[str, str]:
    """Round 7 (drawn while round 6 was being read): more of the label x language cells furthest from 1,000
    gold positives (Simplified Chinese above all), by active learning (al_round.py)."""
    from al_round import al_round

    short = {("zh-Hans", "dehumanising"): 200, ("zh-Hans", "delegitimising"): 200,
             ("zh-Hant", "dehumanising"): 100, ("zh-Hant", "delegitimising"): 100, ("en", "dehumanising"): 100}
    return al_round(data_dir, read_done(), 800, SEED + 9, short_labels=short)


EN_DISEASE = re.compile(r"\b(plague|diseased?|cancer\w*|virus|infect\w*|poison\w*|vir(al|ulent)|pestilen\w*|"
                        r"tumou?rs?|leprosy|aids|germs?|contagio\w*|epidemic)\b", re.I)
ZH_SHORT = re.compile("病毒|毒瘤|癌|瘟|病菌|细菌|細菌|传染|傳染|污染|杀光|殺光|清除|清洗|滅|灭|屠|死光|趕盡殺絕|赶尽杀绝|"
                      "ISIS|伊斯兰国|伊斯蘭國|恐怖分子|恐怖份子|塔利班")


def round8(data_dir: Path | None = None) -> dict[str, str]:
    """Round 8: the two label x language cells within reach of 1,000 gold positives (English dehumanising,
    Traditional delegitimising; HateXplain and LIHKG hold more), Simplified dehumanising for its test
    positives, and regexes + active learning for the rare sub-types (disease, Chinese extermination,
    terror comparison)."""
    from al_round import al_round

    rows = read_all(data_dir)
    done = read_done()
    p = Picker(rows, done, SEED + 10)
    p.take(p.pool("hatexplain", lambda r: EN_DISEASE.search(r.text), min_len=20), 80, "cue:disease")
    p.take(p.pool("ira", lambda r: EN_DISEASE.search(r.text) and EN_DEHUM.search(r.text), min_len=20), 40,
           "cue:disease")
    for src in ("lihkg", "cold"):
        p.take(p.pool(src, lambda r: r.lang != "en" and ZH_SHORT.search(r.text), min_len=6), 60, "cue:zh_short_subtypes")
    chosen = dict(p.taken)
    short = {("en", "dehumanising"): 380, ("zh-Hant", "delegitimising"): 260, ("zh-Hans", "dehumanising"): 120}
    chosen.update(al_round(data_dir, done | set(chosen), 1200 - len(chosen), SEED + 11, short_labels=short))
    return chosen


def write_batches(rows, chosen: dict[str, str], out: Path, first: int, size: int, seed: int) -> list[Path]:
    order = sorted(chosen)
    random.Random(seed).shuffle(order)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for b in range(0, len(order), size):
        path = out / f"batch_{first + b // size:03d}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for k in order[b:b + size]:
                fh.write(json.dumps({"key": k, "text": rows[k].text}, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--round", type=int, required=True, choices=(3, 4, 5, 6, 7, 8))
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--batches", type=Path, default=None, help="write annotation batches here")
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--first-batch", type=int, default=100)
    ap.add_argument("--n", type=int, default=2000, help="round 4: how many candidates")
    args = ap.parse_args()
    if args.round == 3:
        chosen = round3(args.data_dir)
    elif args.round == 5:
        chosen = round5(args.data_dir)
    elif args.round == 6:
        chosen = round6(args.data_dir)
    elif args.round == 7:
        chosen = round7(args.data_dir)
    elif args.round == 8:
        chosen = round8(args.data_dir)
    else:
        from al_round import al_round

        chosen = al_round(args.data_dir, read_done(), args.n, SEED + 1)
    out = HERE / f"candidates_round{args.round}.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        for k in sorted(chosen):
            fh.write(json.dumps({"key": k, "rule": chosen[k]}) + "\n")
    print(f"{len(chosen)} candidates -> {out}")
    if args.batches:
        rows = read_all(args.data_dir)
        paths = write_batches(rows, chosen, args.batches, args.first_batch, args.batch_size, SEED + args.round)
        print(f"{len(paths)} batches -> {args.batches}")


if __name__ == "__main__":
    main()
