"""Inference-only BERT encoder and tokenizer on plain torch and ``tokenizers``, for a fast start.

Why: importing transformers' BERT stack costs about 2.5 s and AutoTokenizer about
1 s on a small CPU, which doubles the cold start of ``framing detect``. A loaded
detector only needs the forward pass, so it runs on this module: the same
parameter names as transformers' ``BertModel`` (so safetensors weights, LoRA
merging, int8 quantisation and export work on it unchanged), the same
arithmetic (post-LayerNorm blocks, exact GELU, absolute positions, token type
0), and tests that compare it with ``BertModel`` to float precision. Training,
and loading with adapters kept, use transformers as before.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["BertEncoder", "EncoderConfig", "FastTokenizer", "load_fast_encoder", "supports_fast_path"]


@dataclass(frozen=True)
class EncoderConfig:
    """The fields of a BERT ``config.json`` the forward pass needs."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    source_dir: str = ""

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> "EncoderConfig":
        d = json.loads(Path(path, "config.json").read_text(encoding="utf-8"))
        return cls(vocab_size=d["vocab_size"], hidden_size=d["hidden_size"],
                   num_hidden_layers=d["num_hidden_layers"], num_attention_heads=d["num_attention_heads"],
                   intermediate_size=d["intermediate_size"], max_position_embeddings=d["max_position_embeddings"],
                   type_vocab_size=d.get("type_vocab_size", 2), layer_norm_eps=d.get("layer_norm_eps", 1e-12),
                   source_dir=str(path))


def supports_fast_path(path: str | os.PathLike[str]) -> bool:
    """True for a plain BERT directory (absolute positions, GELU) with safetensors weights and a tokenizer.json."""
    p = Path(path)
    try:
        d = json.loads((p / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (d.get("model_type") == "bert" and d.get("hidden_act", "gelu") == "gelu"
            and d.get("position_embedding_type", "absolute") == "absolute"
            and (p / "model.safetensors").is_file() and (p / "tokenizer.json").is_file())


class _Output:
    """What callers read from transformers' output: ``last_hidden_state``."""

    __slots__ = ("last_hidden_state",)

    def __init__(self, hidden: torch.Tensor) -> None:
        self.last_hidden_state = hidden


class _Embeddings(nn.Module):
    def __init__(self, c: EncoderConfig, state: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()

        def emb(name: str, n: int) -> nn.Embedding:
            # given weights skip the random init (250k x 384 for the word embeddings)
            w = (state or {}).get(f"embeddings.{name}.weight")
            return nn.Embedding(n, c.hidden_size, _weight=w)

        self.word_embeddings = emb("word_embeddings", c.vocab_size)
        self.position_embeddings = emb("position_embeddings", c.max_position_embeddings)
        self.token_type_embeddings = emb("token_type_embeddings", c.type_vocab_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        n = inputs_embeds.shape[1]
        x = inputs_embeds + self.token_type_embeddings.weight[0] + self.position_embeddings.weight[:n]
        return self.LayerNorm(x)


class _SelfAttention(nn.Module):
    def __init__(self, c: EncoderConfig) -> None:
        super().__init__()
        self.heads = c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape
        shape = (b, n, self.heads, h // self.heads)
        q, k, v = (lin(x).view(shape).transpose(1, 2) for lin in (self.query, self.key, self.value))
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0 / math.sqrt(h // self.heads))
        return ctx.transpose(1, 2).reshape(b, n, h)


class _DenseNorm(nn.Module):
    """``LayerNorm(dense(x) + residual)``: BERT's post-norm block output."""

    def __init__(self, d_in: int, d_out: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        self.LayerNorm = nn.LayerNorm(d_out, eps=eps)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class _Attention(nn.Module):
    def __init__(self, c: EncoderConfig) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _DenseNorm(c.hidden_size, c.hidden_size, c.layer_norm_eps)


class _Intermediate(nn.Module):
    def __init__(self, c: EncoderConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)


class _Layer(nn.Module):
    def __init__(self, c: EncoderConfig) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _DenseNorm(c.intermediate_size, c.hidden_size, c.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        a = self.attention.output(self.attention.self(x, mask), x)
        return self.output(F.gelu(self.intermediate.dense(a)), a)


class _Stack(nn.Module):
    def __init__(self, c: EncoderConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))


class BertEncoder(nn.Module):
    """BERT encoder (no pooler), weight-compatible with transformers' ``BertModel``; inference only."""

    def __init__(self, config: EncoderConfig, state: dict[str, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config, state)
        self.encoder = _Stack(config)

    def get_input_embeddings(self) -> nn.Module:
        return self.embeddings.word_embeddings

    def forward(self, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None,
                inputs_embeds: torch.Tensor | None = None) -> _Output:
        if inputs_embeds is None:
            if input_ids is None:
                raise ValueError("pass input_ids or inputs_embeds")
            inputs_embeds = self.embeddings.word_embeddings(input_ids)
        b, n = inputs_embeds.shape[:2]
        if attention_mask is None:
            attention_mask = torch.ones((b, n), dtype=torch.long)
        mask = attention_mask.bool()[:, None, None, :]  # True = attend
        x = self.embeddings(inputs_embeds)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return _Output(x)

    def to_transformers(self) -> Any:
        """The same weights in a transformers ``BertModel`` (for export; imports transformers)."""
        from transformers import AutoConfig, BertModel

        model = BertModel(AutoConfig.from_pretrained(self.config.source_dir), add_pooling_layer=False)
        missing, unexpected = model.load_state_dict(self.state_dict(), strict=False)
        if missing or unexpected:
            raise ValueError(f"cannot map the encoder onto BertModel: missing {missing[:5]}, unexpected {unexpected[:5]}")
        return model.eval()


def load_fast_encoder(path: str | os.PathLike[str]) -> BertEncoder:
    """A :class:`BertEncoder` with the directory's safetensors weights."""
    from safetensors.torch import load_file

    config = EncoderConfig.from_file(path)
    state = {k: v for k, v in load_file(str(Path(path, "model.safetensors"))).items() if not k.startswith("pooler.")}
    model = BertEncoder(config, state)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    if missing or unexpected:
        raise ValueError(f"{path}: weights do not fit a BERT encoder: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}")
    return model.eval()


class FastTokenizer:
    """The subset of a transformers fast tokenizer framing's inference uses, on ``tokenizers`` directly."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        from tokenizers import Tokenizer

        self.path = str(path)
        self._tok = Tokenizer.from_file(str(Path(path, "tokenizer.json")))
        self._tok.no_truncation()
        self._tok.no_padding()
        special = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):
            f = Path(path, name)
            if f.is_file():
                for k, v in json.loads(f.read_text(encoding="utf-8")).items():
                    if k.endswith("_token") and k not in special:
                        special[k] = v["content"] if isinstance(v, dict) else v
        ids = {k: self._tok.token_to_id(v) if isinstance(v, str) else None for k, v in special.items()}
        self.cls_token_id = ids.get("cls_token")
        self.sep_token_id = ids.get("sep_token")
        self.pad_token_id = ids.get("pad_token")
        self.bos_token_id = ids.get("bos_token")
        self.eos_token_id = ids.get("eos_token")

    def __call__(self, text: str, add_special_tokens: bool = True, return_offsets_mapping: bool = False,
                 truncation: bool = False, max_length: int | None = None, return_tensors: str | None = None,
                 verbose: bool = True) -> dict[str, Any]:
        enc = self._tok.encode(text, add_special_tokens=add_special_tokens)
        ids, offsets = list(enc.ids), list(enc.offsets)
        if truncation and max_length is not None and len(ids) > max_length:
            if add_special_tokens:  # keep the closing special token, as transformers does
                ids, offsets = ids[:max_length - 1] + ids[-1:], offsets[:max_length - 1] + offsets[-1:]
            else:
                ids, offsets = ids[:max_length], offsets[:max_length]
        out: dict[str, Any] = {"input_ids": ids, "attention_mask": [1] * len(ids)}
        if return_offsets_mapping:
            out["offset_mapping"] = offsets
        if return_tensors == "pt":
            for k in list(out):
                out[k] = torch.tensor([out[k]], dtype=torch.long)
        elif return_tensors is not None:
            raise ValueError(f"return_tensors must be None or 'pt', got {return_tensors!r}")
        return out

    def to_transformers(self) -> Any:
        """The transformers tokenizer of the same directory (for export; imports transformers)."""
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.path)
