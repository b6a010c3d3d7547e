"""Rule-labelled (weak) training rows from templates over the lexicon's cue terms.

Real posts rarely use many of the codebook's cue words ("vermin", 害虫,
曱甴 ...), so a model trained on gold rows alone never sees them. These rows
pair each cue term with group words in short templates, and pair the same
terms with counter-speech and reporting templates labelled 0, so the model
learns the vocabulary without learning "cue word = frame". Every row is
marked ``weak`` (source ``template``) and only ever enters the train split.
"""
from __future__ import annotations

import random
from typing import Any

SEED = 7

GROUPS = {
    "en": ["protesters", "the police", "these people", "immigrants", "those students", "the officials",
           "the journalists", "mainlanders", "the activists", "cops"],
    "zh-Hans": ["示威者", "警察", "那些人", "大陆人", "这帮学生", "这些官员", "那些记者", "香港人", "反对派", "他们"],
    "yue": ["呢班人", "啲警察", "啲示威者", "佢哋", "班官", "啲記者", "嗰班學生", "啲大陸人", "呢啲人", "班議員"],
}
POS = {
    "en": ["{g} are {t}.", "honestly {g} are nothing but {t}", "{g} are {t} and we should treat them that way",
           "look at {g}, total {t}", "{g}? {t}, every single one of them"],
    "zh-Hans": ["{g}就是一群{t}。", "{g}都是{t}，没什么好说的", "说白了{g}就是{t}", "看看{g}，全是{t}"],
    "yue": ["{g}全部都係{t}", "{g}根本就係{t}嚟", "講真{g}一班{t}", "睇吓{g}，成班{t}"],
}
NEG = {
    "en": ["calling {g} {t} is dehumanising and wrong.", "the report says some officials called {g} {t}.",
           "stop calling {g} {t}, they are people with demands", "we should not describe {g} as {t}",
           "she was criticised for calling {g} {t}"],
    "zh-Hans": ["把{g}称为{t}是错误的。", "报道指有官员称{g}为{t}。", "不要再叫{g}做{t}了，他们也是人",
                "学者批评媒体用{t}形容{g}"],
    "yue": ["唔好再叫{g}做{t}，咁樣係唔啱", "新聞話有官員叫{g}做{t}", "用{t}嚟形容{g}好過分",
            "有人話{g}係{t}，我覺得唔公道"],
}
LANG_OUT = {"en": "en", "zh-Hans": "zh-Hans", "yue": "zh-Hant"}


def _terms(lang: str, label: str) -> list[str]:
    from framing.lexicon import load_lexicon

    lex_lang = {"en": ("en",), "zh-Hans": ("zh-Hans",), "yue": ("zh-Hant", "yue")}[lang]
    out = sorted({e.term for e in load_lexicon().entries
                  if e.label == label and e.lang in lex_lang and not e.pattern and len(e.term) <= 12})
    return out


def template_rows(per_lang_label: int = 80) -> list[dict[str, Any]]:
    """Deterministic weak rows: positives per (language, label) and as many counter-speech negatives."""
    rng = random.Random(SEED)
    rows: list[dict[str, Any]] = []
    for lang in ("en", "zh-Hans", "yue"):
        for label in ("dehumanising", "delegitimising"):
            terms = _terms(lang, label)
            if not terms:
                continue
            for i in range(per_lang_label):
                t, g = rng.choice(terms), rng.choice(GROUPS[lang])
                pos = rng.choice(POS[lang]).format(g=g, t=t)
                neg = rng.choice(NEG[lang]).format(g=g, t=t)
                for text, y in ((pos, 1), (neg, 0)):
                    rows.append({"id": f"template:{lang}-{label[:5]}-{i:03d}-{y}", "text": text, "variety": lang,
                                 "lang": LANG_OUT[lang], "source": "template",
                                 "dehumanising": int(y and label == "dehumanising"),
                                 "delegitimising": int(y and label == "delegitimising"),
                                 "gold": False, "weak": True, "augmented": False, "split": "train"})
    seen: set[str] = set()
    unique = []
    for r in rows:
        if r["text"] not in seen:
            seen.add(r["text"])
            unique.append(r)
    return unique
