"""Build the framing corpus as a ``datasets.DatasetDict`` (train / validation / test).

Stand-off annotations (training/data/annotations/*.jsonl) are joined with the
raw texts of a data directory; authored texts are stored in full. Splits are
made by group so that near-duplicates (retweets, template variants: Jaccard >= 0.7
of normalised character 3-grams, candidates from MinHash LSH) and messages of one LIHKG
thread never cross splits, stratified by language and label, with a fixed
seed. Only gold rows (labels judged by reading) enter validation and test;
zh-Hant augmentation (OpenCC s2hk / s2tw of zh-Hans train rows) and weak rows
(rule-labelled template rows, weak.py) go to train only and are marked.
Running it twice gives the same hashes.

    python training/data/build.py --out data/framing-corpus [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sources import default_data_dir, read_all  # noqa: E402

ANN_DIR = HERE / "annotations"
LABELS = ("dehumanising", "delegitimising")
SEED = 2019
SPLIT_SHARE = {"test": 0.32, "validation": 0.16, "train": 0.52}
COLUMNS = ("id", "text", "lang", "variety", "dehumanising", "delegitimising", "subtypes", "source", "split",
           "gold", "weak", "augmented", "authored", "group")
SUBTYPES = {
    "dehumanising": ("animal", "disease", "filth", "monster", "extermination"),
    "delegitimising": ("criminal_label", "foreign_agent", "terror_comparison", "so_called", "media_dismissal"),
}


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def coarse_lang(text: str, variety: str) -> str:
    """en / zh-Hans / zh-Hant for splitting and reporting (script decides for Chinese)."""
    from framing.langid import detect_language

    if variety == "en":
        return "en"
    guess = detect_language(text)
    if guess.script == "Hant":
        return "zh-Hant"
    if guess.script == "Hans":
        return "zh-Hans"
    if variety in ("zh-Hans", "zh-Hant"):
        return variety
    return "en" if guess.lang == "en" else ("zh-Hant" if variety == "yue" else "zh-Hans")


def load_gold(data_dir: Path) -> list[dict[str, Any]]:
    """Gold rows: stand-off annotations joined with source texts, plus authored texts."""
    ann = _read_jsonl(ANN_DIR / "gold.jsonl")
    needed = sorted({a["key"].split(":")[0] for a in ann})
    rows = read_all(data_dir, tuple(needed))
    out = []
    for a in ann:
        src = rows.get(a["key"])
        if src is None:
            raise KeyError(f"annotation {a['key']} has no row in {data_dir}; is the data directory the right version?")
        meta = src.meta
        # a LIHKG thread or an IRA account is one group: it never crosses splits
        group = (f"thread:{meta['post_id']}" if "post_id" in meta
                 else f"account:{meta['author']}" if "author" in meta else a["key"])
        out.append({"id": a["key"], "text": src.text, "variety": a["lang"], "source": a["key"].split(":")[0],
                    "dehumanising": int(a["dehumanising"]), "delegitimising": int(a["delegitimising"]),
                    "subtypes": list(a.get("subtypes", [])), "gold": True, "weak": False, "augmented": False,
                    "authored": False, "group": group})
    for a in _read_jsonl(ANN_DIR / "authored.jsonl"):
        out.append({"id": a["key"], "text": a["text"], "variety": a["lang"], "source": "authored",
                    "dehumanising": int(a["dehumanising"]), "delegitimising": int(a["delegitimising"]),
                    "subtypes": list(a.get("subtypes", [])), "gold": False, "weak": False, "augmented": False,
                    "authored": True, "group": a["key"]})
    for r in out:
        r["lang"] = coarse_lang(r["text"], r["variety"])
    return out


def near_duplicate_groups(rows: list[dict[str, Any]], threshold: float = 0.7) -> None:
    """Merge ``group`` of rows whose normalised texts are near-duplicates.

    MinHash LSH at a lower threshold (0.5, 128 permutations) proposes candidate pairs,
    so that pairs at or above ``threshold`` are almost never missed; the exact Jaccard
    of the character 3-gram sets then decides (>= ``threshold`` merges the groups).
    """
    from datasketch import MinHash, MinHashLSH

    from framing.normalizer import normalize

    parent = {r["group"]: r["group"] for r in rows}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    gram_sets: list[set[str]] = []
    for i, r in enumerate(rows):
        t = normalize(r["text"]).text.lower().replace(" ", "")
        grams = {t[j:j + 3] for j in range(max(1, len(t) - 2))} or {t}
        gram_sets.append(grams)
        mh = MinHash(num_perm=128, seed=1)
        for g in sorted(grams):
            mh.update(g.encode("utf-8"))
        for other in lsh.query(mh):
            o = gram_sets[int(other)]
            if len(grams & o) / len(grams | o) < threshold:
                continue
            a, b = find(rows[int(other)]["group"]), find(r["group"])
            if a != b:
                parent[max(a, b)] = min(a, b)
        lsh.insert(str(i), mh)
    for r in rows:
        r["group"] = find(r["group"])


def assign_splits(rows: list[dict[str, Any]]) -> None:
    """Stratified group split: each (lang, label pattern) stratum is spread by SPLIT_SHARE.

    Authored texts only ever train (validation and test are real text); a group
    holding an authored row (a near-duplicate of it) goes to train whole.
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["group"]].append(r)
    for g in [g for g, members in groups.items() if any(m["authored"] for m in members)]:
        for m in groups.pop(g):
            m["split"] = "train"
    strata: dict[tuple, list[str]] = defaultdict(list)
    for g, members in sorted(groups.items()):
        first = members[0]
        key = (first["lang"], max(m["dehumanising"] for m in members), max(m["delegitimising"] for m in members))
        strata[key].append(g)
    rng = random.Random(SEED)
    for key in sorted(strata):
        gs = strata[key]
        rng.shuffle(gs)
        n = len(gs)
        n_test = round(n * SPLIT_SHARE["test"])
        n_val = round(n * SPLIT_SHARE["validation"])
        for i, g in enumerate(gs):
            split = "test" if i < n_test else "validation" if i < n_test + n_val else "train"
            for m in groups[g]:
                m["split"] = split


def augment(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """zh-Hant copies of zh-Hans train rows through OpenCC s2hk and s2tw (train only)."""
    import opencc

    conv = {"s2hk": opencc.OpenCC("s2hk"), "s2tw": opencc.OpenCC("s2tw")}
    out = []
    for i, r in enumerate(rows):
        if r["split"] != "train" or r["lang"] != "zh-Hans":
            continue
        name = "s2hk" if i % 2 == 0 else "s2tw"
        text = conv[name].convert(r["text"])
        if text != r["text"]:
            out.append({**r, "id": f"{r['id']}#{name}", "text": text, "lang": "zh-Hant", "gold": False,
                        "augmented": True, "subtypes": list(r["subtypes"])})
    return out


def build(data_dir: Path | None = None, weak: bool = True, authored: bool = True) -> Any:
    """The DatasetDict; ``weak`` adds the rule-labelled template rows (weak.py) to train, ``authored`` our own
    texts (train only). Leaving either out does not move any real row to another split."""
    from datasets import Dataset, DatasetDict, Features, Sequence, Value

    data_dir = Path(data_dir) if data_dir else default_data_dir()
    rows = load_gold(data_dir)
    near_duplicate_groups(rows)
    assign_splits(rows)
    if not authored:
        rows = [r for r in rows if not r["authored"]]
    rows += augment(rows)
    if weak:
        from weak import template_rows

        rows += [{**r, "group": r["id"], "authored": False, "subtypes": r.get("subtypes", [])}
                 for r in template_rows()]
    rows.sort(key=lambda r: (r["split"], r["id"]))
    feats = Features({c: Value("bool") if c in ("gold", "weak", "augmented", "authored")
                      else Value("int8") if c in LABELS else Sequence(Value("string")) if c == "subtypes"
                      else Value("string") for c in COLUMNS})
    splits = {}
    for split in ("train", "validation", "test"):
        part = [{c: r[c] for c in COLUMNS} for r in rows if r["split"] == split]
        splits[split] = Dataset.from_list(part, features=feats)
    return DatasetDict(splits)


def split_hash(ds: Any) -> str:
    h = hashlib.sha256()
    for r in ds:
        h.update(json.dumps(r, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


def count_table(dd: Any) -> str:
    """Markdown table: rows and positives per split x language (gold | augmented)."""
    lines = ["| split | lang | rows | gold | augmented | weak | dehumanising | delegitimising | authored |",
             "|---|---|---|---|---|---|---|---|---|"]
    for split in ("train", "validation", "test"):
        c: Counter = Counter()
        for r in dd[split]:
            k = r["lang"]
            c[(k, "rows")] += 1
            c[(k, "gold")] += r["gold"]
            c[(k, "aug")] += r["augmented"]
            c[(k, "weak")] += r["weak"]
            c[(k, "dehum")] += r["dehumanising"]
            c[(k, "deleg")] += r["delegitimising"]
            c[(k, "auth")] += r["authored"]
        for lang in ("en", "zh-Hans", "zh-Hant"):
            lines.append(f"| {split} | {lang} | {c[(lang, 'rows')]} | {c[(lang, 'gold')]} | {c[(lang, 'aug')]} | {c[(lang, 'weak')]} | "
                         f"{c[(lang, 'dehum')]} | {c[(lang, 'deleg')]} | {c[(lang, 'auth')]} |")
    return "\n".join(lines)


def subtype_table(dd: Any) -> str:
    """Markdown table: positives per sub-type, split x language (gold rows | authored rows in train)."""
    subs = [s for lab in LABELS for s in SUBTYPES[lab]]
    cols = [(split, lang) for split in ("train", "validation", "test") for lang in ("en", "zh-Hans", "zh-Hant")]
    c: Counter = Counter()
    for split in ("train", "validation", "test"):
        for r in dd[split]:
            if r["weak"] or r["augmented"]:
                continue
            for s in r["subtypes"]:
                c[(split, r["lang"], s, r["authored"])] += 1
    head = "| label | sub-type | " + " | ".join(f"{sp[:5]} {lg}" for sp, lg in cols) + " | gold en | gold zh |"
    lines = [head, "|" + "---|" * (len(cols) + 4)]
    for lab in LABELS:
        for s in SUBTYPES[lab]:
            cells = []
            for sp, lg in cols:
                g, a = c[(sp, lg, s, False)], c[(sp, lg, s, True)]
                cells.append(f"{g}+{a}a" if a else str(g))
            en = sum(c[(sp, "en", s, False)] for sp in ("train", "validation", "test"))
            zh = sum(c[(sp, lg, s, False)] for sp in ("train", "validation", "test") for lg in ("zh-Hans", "zh-Hant"))
            lines.append(f"| {lab} | {s} | " + " | ".join(cells) + f" | {en} | {zh} |")
    return "\n".join(lines)


def source_table(dd: Any) -> str:
    """Markdown table: gold rows and positives per source (all splits), authored rows apart."""
    c: Counter = Counter()
    for split in ("train", "validation", "test"):
        for r in dd[split]:
            if r["weak"] or r["augmented"]:
                continue
            c[(r["source"], "rows")] += 1
            c[(r["source"], "dehum")] += r["dehumanising"]
            c[(r["source"], "deleg")] += r["delegitimising"]
    lines = ["| source | rows | dehumanising | delegitimising |", "|---|---|---|---|"]
    for src in sorted({k[0] for k in c}):
        lines.append(f"| {src} | {c[(src, 'rows')]} | {c[(src, 'dehum')]} | {c[(src, 'deleg')]} |")
    return "\n".join(lines)


def targets_table(dd: Any) -> str:
    """Corpus v2 size targets (issue 13) against this build; gold = real text read and judged (no authored,
    weak or augmented rows)."""
    gold = [r for s in ("train", "validation", "test") for r in dd[s] if r["gold"]]
    test = [r for r in dd["test"] if r["gold"]]
    n_auth = sum(sum(dd[s]["authored"]) for s in dd)
    lines = ["| target | wanted | this build | met |", "|---|---|---|---|"]

    def row(name: str, want: int, got: int) -> None:
        lines.append(f"| {name} | >= {want} | {got} | {'yes' if got >= want else 'no'} |")

    row("gold texts (real)", 15000, len(gold))
    row("gold + authored texts", 15000, len(gold) + n_auth)
    for lang in ("en", "zh-Hans", "zh-Hant"):
        for lab in LABELS:
            row(f"gold positives, {lab}, {lang}", 1000, sum(r[lab] for r in gold if r["lang"] == lang))
    for lab in LABELS:  # zh-Hant rows are real Traditional / Cantonese text (augmented copies are not gold)
        row(f"gold positives, {lab}, zh-Hant genuinely Traditional", 500,
            sum(r[lab] for r in gold if r["lang"] == "zh-Hant"))
    for lab in LABELS:
        for sub in SUBTYPES[lab]:
            row(f"gold positives, {sub}, en", 100, sum(sub in r["subtypes"] for r in gold if r["lang"] == "en"))
            row(f"gold positives, {sub}, zh", 100, sum(sub in r["subtypes"] for r in gold if r["lang"] != "en"))
    row("test texts", 3000, len(test))
    row("validation texts", 1500, len(dd["validation"]))
    for lang in ("en", "zh-Hans", "zh-Hant"):
        for lab in LABELS:
            row(f"test positives, {lab}, {lang}", 150, sum(r[lab] for r in test if r["lang"] == lang))
    for lab in LABELS:
        for sub in SUBTYPES[lab]:
            for grp in ("en", "zh"):
                row(f"test positives, {sub}, {grp}", 30,
                    sum(sub in r["subtypes"] for r in test if (r["lang"] == "en") == (grp == "en")))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="directory for DatasetDict.save_to_disk")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--no-weak", action="store_true", help="leave out the rule-labelled template rows")
    ap.add_argument("--no-authored", action="store_true", help="leave out our own authored texts (train only)")
    args = ap.parse_args()
    dd = build(args.data_dir, weak=not args.no_weak, authored=not args.no_authored)
    dd.save_to_disk(str(args.out))
    print(count_table(dd))
    print("\nSub-type positives (gold; +Na = authored rows, train only):\n")
    print(subtype_table(dd))
    print("\nPer source (gold and authored rows, all splits):\n")
    print(source_table(dd))
    print("\nSize targets:\n")
    print(targets_table(dd))
    gold = sum(sum(dd[s]["gold"]) for s in dd)
    print(f"\ngold rows: {gold}")
    for s in dd:
        print(f"{s}: {len(dd[s])} rows, sha256 {split_hash(dd[s])}")


if __name__ == "__main__":
    main()
