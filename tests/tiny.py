"""A tiny, randomly initialised BERT + character tokenizer for fast unit tests (no network)."""
from __future__ import annotations

from pathlib import Path

CHARS = (list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'\"-:;()[]@#/")
         + list("这些废青就是一群蟑螂应该清除暴徒外国势力黑警狗乱港分子勾结颜色革命共匪派三毛入嚟搞分化啲全部都系打死唔使可怜")
         + list("香港人示威者警察他们那些老鼠害虫我家厨房有今天天气很好的了吗呢在和不是"))


def make_tiny_backbone(path: Path) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + CHARS + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    (path / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)) + "\n", encoding="utf-8")
    try:  # transformers >= 5 takes the vocabulary as ``vocab`` (and ignores ``vocab_file``); 4.x as ``vocab_file``
        tok = BertTokenizerFast(vocab=str(path / "vocab.txt"), do_lower_case=True, tokenize_chinese_chars=True)
    except TypeError:
        tok = BertTokenizerFast(vocab_file=str(path / "vocab.txt"), do_lower_case=True, tokenize_chinese_chars=True)
    if len(tok) <= len(CHARS):
        raise RuntimeError("the tiny tokenizer did not load its vocabulary")
    tok.save_pretrained(str(path))
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    import torch

    torch.manual_seed(0)
    BertModel(cfg, add_pooling_layer=False).save_pretrained(str(path))
    return path
