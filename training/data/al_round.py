"""Active-learning candidate round (corpus v2, round 4): what the quick model and the lexicon disagree on.

The quick model is TF-IDF (character 1-4-grams of the normalised text) with one
logistic regression per label and per sub-type, trained on every gold row read
so far (it trains in seconds on this CPU, so a round can be drawn while
annotation goes on). The unread rows of every source are scored and drawn by
rule (see select_v2.py for the rule names), in this order of priority:

0. ``al:short_label:<lang>:<label>`` (round 6): top-scored rows of a label x language
   cell still short of its 1,000 gold positives;
1. ``al:short:<lang>:<subtype>``: top-scored rows for sub-type x language-group cells
   still short of 100 gold positives;
2. ``al:disagree``: the model says yes and the lexicon finds no cue of that label, or
   the lexicon finds a cue and the model says no;
3. ``al:threshold``: model score within 0.15 of the 0.5 threshold;
4. ``al:cuefree``: random rows with no lexicon cue at all.

Nothing here labels a row: the rules only choose what a person reads.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from sources import read_all

HERE = Path(__file__).resolve().parent
LABELS = ("dehumanising", "delegitimising")
SUBTYPES = ("animal", "disease", "filth", "monster", "extermination",
            "criminal_label", "foreign_agent", "terror_comparison", "so_called", "media_dismissal")
TARGET_PER_SUBTYPE = 100


def _group(src: str, lang: str) -> str:
    return "en" if lang == "en" else "zh"


def al_round(data_dir: Path | None, done: set[str], n: int, seed: int,
             short_labels: dict[tuple[str, str], int] | None = None) -> dict[str, str]:
    """Draw ``n`` unread rows by the rules above; ``short_labels`` maps (lang, label) cells still
    short of their gold target to how many top-scored rows of that cell to take first
    (rule ``al:short_label:<lang>:<label>``)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from framing.lexicon import load_lexicon
    from framing.normalizer import normalize

    rows = read_all(data_dir)
    gold = [json.loads(x) for x in open(HERE / "annotations" / "gold.jsonl", encoding="utf-8") if x.strip()]
    gold = [g for g in gold if g["key"] in rows]
    norm = lambda t: normalize(t[:2000]).text.lower()  # noqa: E731
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), min_df=2, max_features=300_000, sublinear_tf=True)
    xg = vec.fit_transform([norm(rows[g["key"]].text) for g in gold])
    pool = sorted(k for k, r in rows.items() if k not in done and len(r.text.strip()) >= 6)
    rng = random.Random(seed)
    if len(pool) > 60_000:  # scoring every unread row is not needed to find enough candidates
        pool = sorted(rng.sample(pool, 60_000))
    xp = vec.transform([norm(rows[k].text) for k in pool])
    score = {}
    for lab in LABELS:
        clf = LogisticRegression(C=3.0, max_iter=2000, class_weight="balanced")
        clf.fit(xg, [g[lab] for g in gold])
        score[lab] = clf.predict_proba(xp)[:, 1]
    sub_score = {}
    for sub in SUBTYPES:
        y = [int(sub in g.get("subtypes", [])) for g in gold]
        if sum(y) >= 5:
            clf = LogisticRegression(C=3.0, max_iter=2000, class_weight="balanced")
            clf.fit(xg, y)
            sub_score[sub] = clf.predict_proba(xp)[:, 1]
    lex = load_lexicon()
    lex_labels = [{m.label for m in lex.match(rows[k].text)} for k in pool]
    have = Counter((_group(g["source"], g["lang"]), s) for g in gold for s in g.get("subtypes", []))
    taken: dict[str, str] = {}
    from select_v2 import _norm_key

    seen = {_norm_key(rows[k].text) for k in done if k in rows}

    def take(idx, k: int, rule: str) -> None:
        for i in idx:
            if k <= 0 or len(taken) >= n:
                return
            key = pool[int(i)]
            h = _norm_key(rows[key].text)
            if key not in taken and h not in seen:
                seen.add(h)
                taken[key] = rule
                k -= 1

    langs = [_group(k.split(":")[0], rows[k].lang) for k in pool]
    # 0. label x language cells short of their gold target (round 6)
    for (lang, lab), k in sorted((short_labels or {}).items()):
        idx = [i for i in np.argsort(-score[lab]) if rows[pool[int(i)]].lang == lang]
        take(idx, k, f"al:short_label:{lang}:{lab}")
    # 1. short sub-type x language cells
    for sub in SUBTYPES:
        for grp in ("en", "zh"):
            short = TARGET_PER_SUBTYPE - have[(grp, sub)]
            if short <= 0 or sub not in sub_score:
                continue
            idx = [i for i in np.argsort(-sub_score[sub]) if langs[i] == grp][: 3 * short]
            take(idx, min(short * 2, n // 10), f"al:short:{grp}:{sub}")
    # 2. disagreement with the lexicon, 3. near the threshold, 4. cue-free random
    share = max(0, n - len(taken))
    for lab in LABELS:
        s = score[lab]
        dis = [i for i in range(len(pool)) if (s[i] >= 0.5) != (lab in lex_labels[i])]
        rng.shuffle(dis)
        take(dis, share * 35 // 200, "al:disagree")
        near = [i for i in range(len(pool)) if abs(s[i] - 0.5) < 0.15]
        rng.shuffle(near)
        take(near, share * 20 // 200, "al:threshold")
    free = [i for i in range(len(pool)) if not lex_labels[i]]
    rng.shuffle(free)
    take(free, n - len(taken), "al:cuefree")
    return taken
