"""Merge corpus v2 annotation work into the repository's stand-off files.

Unlike import_annotations.py (which rebuilt the first release from its work
folder), this merges: records already in the stand-off files are kept, and the
work folder adds to them.

Work folder layout (each file is one annotator's output, JSONL, same key order as
its input batch):

- ``batches/batch_NNN.jsonl``          {key, text}: first-pass inputs
- ``labels/batch_NNN.<annotator>.jsonl`` {key, dehumanising, delegitimising, subtypes, lang, note}
- ``subtypes/sub_NN.jsonl`` + ``subtypes/sub_NN.<annotator>.out.jsonl``
                                       sub-types for positives labelled before sub-types existed
- ``double/dbl_NN.jsonl`` + ``double/dbl_NN.<annotator>.jsonl``
                                       the blind second pass
- ``adjudication/*.jsonl``              {key, dehumanising, delegitimising, subtypes, annotator, note}:
                                       final decisions on second-pass disagreements and on label
                                       doubts raised in the sub-type pass
- ``authored/authored_<annotator>_*.jsonl`` {text, lang, dehumanising, delegitimising, subtypes, kind, note}

Every record keeps the rule that chose its text (training/data/candidates_round*.jsonl).

    python training/data/import_v2.py --work /path/to/work
"""
from __future__ import annotations

import argparse
import glob
import json
from pathlib import Path

from import_annotations import _write as write  # the same atomic, sorted-key JSONL writer

HERE = Path(__file__).resolve().parent
OUT = HERE / "annotations"
LANGS = {"en", "zh-Hans", "zh-Hant", "yue", "mixed", "other"}
SUBTYPES = {
    "dehumanising": ("animal", "disease", "filth", "monster", "extermination"),
    "delegitimising": ("criminal_label", "foreign_agent", "terror_comparison", "so_called", "media_dismissal"),
}
LABEL_OF = {s: lab for lab, subs in SUBTYPES.items() for s in subs}


def rows(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(x) for x in fh if x.strip()]


def check(r: dict, where: str, need_lang: bool = True) -> None:
    """Labels are 0/1, sub-types are known and agree with the labels."""
    for lab in SUBTYPES:
        if r.get(lab) not in (0, 1):
            raise ValueError(f"{where}: {r.get('key')} has {lab}={r.get(lab)!r}")
    if need_lang and r.get("lang") not in LANGS:
        raise ValueError(f"{where}: {r.get('key')} has lang={r.get('lang')!r}")
    subs = r.get("subtypes")
    if not isinstance(subs, list) or any(s not in LABEL_OF for s in subs):
        raise ValueError(f"{where}: {r.get('key')} has subtypes={subs!r}")
    for lab in SUBTYPES:
        if bool(r[lab]) != any(LABEL_OF[s] == lab for s in subs):
            raise ValueError(f"{where}: {r.get('key')} has {lab}={r[lab]} but subtypes {subs}")


def clean_subtypes(subs: list[str]) -> list[str]:
    order = [s for lab in SUBTYPES for s in SUBTYPES[lab]]
    return sorted(set(subs), key=order.index)


def rules() -> dict[str, str]:
    out = {}
    for path in sorted(HERE.glob("candidates_round*.jsonl")):
        out.update({r["key"]: r["rule"] for r in rows(path)})
    return out


SKIP_INCOMPLETE = False


def outputs(pattern: str, inputs_dir: Path) -> list[tuple[str, str, list[dict], list[dict]]]:
    """(batch, annotator, output rows, input rows) for each annotator output matching ``pattern`` whose keys
    are its input batch's, in order; an incomplete file raises, or is skipped with ``--skip-incomplete``."""
    out = []
    for path in sorted(glob.glob(pattern)):
        batch, annotator = Path(path).name.split(".")[:2]
        given = rows(inputs_dir / f"{batch}.jsonl")
        got = rows(path)
        if [r["key"] for r in got] != [r["key"] for r in given]:
            if SKIP_INCOMPLETE:
                print(f"skipped (incomplete): {path}")
                continue
            raise ValueError(f"{path}: keys differ from its input's (incomplete or out of order)")
        out.append((batch, annotator, got, given))
    return out


def merge_first_pass(work: Path, gold: dict[str, dict], rule: dict[str, str]) -> int:
    added = 0
    for batch, annotator, got, _ in outputs(str(work / "labels" / "batch_*.jsonl"), work / "batches"):
        path = f"labels/{batch}.{annotator}"
        for r in got:
            check(r, path)
            if r["key"] in gold and gold[r["key"]].get("batch") != batch:
                raise ValueError(f"{r['key']} labelled twice in the first pass")
            gold[r["key"]] = {"key": r["key"], "source": r["key"].split(":")[0], "row_id": r["key"].split(":", 1)[1],
                              "dehumanising": r["dehumanising"], "delegitimising": r["delegitimising"],
                              "subtypes": clean_subtypes(r["subtypes"]), "lang": r["lang"], "annotator": annotator,
                              "batch": batch, "note": r.get("note", ""), "rule": rule.get(r["key"], "")}
            added += 1
    return added


def merge_subtypes(work: Path, gold: dict[str, dict], authored: dict[str, dict]) -> int:
    n = 0
    for name, annotator, got, given in outputs(str(work / "subtypes" / "sub_*.*.out.jsonl"), work / "subtypes"):
        path = f"subtypes/{name}.{annotator}"
        for r, shown in zip(got, given):  # ``given`` holds the labels the sub-type annotator was shown
            rec = gold.get(r["key"]) or authored.get(r["key"])
            if rec is None:
                raise KeyError(f"{path}: {r['key']} is not a stand-off record")
            check({**r, "dehumanising": shown["dehumanising"], "delegitimising": shown["delegitimising"]}, path,
                  False)
            rec["subtypes"] = clean_subtypes(r["subtypes"])
            rec["subtypes_by"] = annotator
            if r.get("note"):
                rec["subtype_note"] = r["note"]
            n += 1
    return n


def merge_double(work: Path, double: dict[str, dict]) -> int:
    n = 0
    for batch, annotator, got, _ in outputs(str(work / "double" / "dbl_*.*.jsonl"), work / "double"):
        path = f"double/{batch}.{annotator}"
        for r in got:
            check(r, path)
            double[r["key"]] = {"key": r["key"], "dehumanising": r["dehumanising"],
                                "delegitimising": r["delegitimising"], "subtypes": clean_subtypes(r["subtypes"]),
                                "lang": r["lang"], "annotator": annotator, "note": r.get("note", ""), "batch": batch}
            n += 1
    return n


def merge_adjudication(work: Path, gold: dict[str, dict], authored: dict[str, dict]) -> int:
    """Final decisions: second-pass disagreements, and label doubts raised in the sub-type pass."""
    n = 0
    for path in sorted(glob.glob(str(work / "adjudication" / "*.jsonl"))):
        for r in rows(path):
            check(r, path, need_lang=False)
            rec = gold.get(r["key"]) or authored[r["key"]]
            new = (r["dehumanising"], r["delegitimising"], clean_subtypes(r["subtypes"]))
            if new != (rec["dehumanising"], rec["delegitimising"], rec.get("subtypes", [])):
                rec.setdefault("first_pass", {"dehumanising": rec["dehumanising"],
                                              "delegitimising": rec["delegitimising"],
                                              "subtypes": rec.get("subtypes", [])})
                rec.update(dehumanising=new[0], delegitimising=new[1], subtypes=new[2])
            rec["adjudicated_by"] = r["annotator"]
            rec["adjudication_note"] = r.get("note", "")
            n += 1
    return n


def merge_authored(work: Path, authored: dict[str, dict]) -> int:
    n = 0
    for path in sorted(glob.glob(str(work / "authored" / "authored_*.jsonl"))):
        stem = Path(path).stem  # authored_<annotator>_<part>
        _, annotator, part = stem.split("_", 2)
        for i, r in enumerate(rows(path)):
            check(r, path)
            key = f"authored:{annotator}-{part}-{i:03d}"
            authored[key] = {"key": key, "text": r["text"], "lang": r["lang"], "dehumanising": r["dehumanising"],
                             "delegitimising": r["delegitimising"], "subtypes": clean_subtypes(r["subtypes"]),
                             "kind": r.get("kind", ""), "annotator": annotator, "note": r.get("note", "")}
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--skip-incomplete", action="store_true", help="leave out files still being written")
    args = ap.parse_args()
    global SKIP_INCOMPLETE
    SKIP_INCOMPLETE = args.skip_incomplete
    gold = {r["key"]: r for r in rows(OUT / "gold.jsonl")}
    double = {r["key"]: r for r in rows(OUT / "double.jsonl")}
    authored = {r["key"]: r for r in rows(OUT / "authored.jsonl")}
    n_first = merge_first_pass(args.work, gold, rules())
    n_auth = merge_authored(args.work, authored)
    n_sub = merge_subtypes(args.work, gold, authored)
    n_dbl = merge_double(args.work, double)
    n_adj = merge_adjudication(args.work, gold, authored)
    for rec in list(gold.values()) + list(authored.values()):
        rec.setdefault("subtypes", [])
    write(OUT / "gold.jsonl", sorted(gold.values(), key=lambda r: r["key"]))
    write(OUT / "double.jsonl", sorted(double.values(), key=lambda r: r["key"]))
    write(OUT / "authored.jsonl", sorted(authored.values(), key=lambda r: r["key"]))
    print(f"first pass +{n_first}, authored +{n_auth}, sub-typed {n_sub}, second pass {n_dbl}, "
          f"adjudicated {n_adj}; gold {len(gold)}, authored {len(authored)}, double {len(double)}")


if __name__ == "__main__":
    main()
