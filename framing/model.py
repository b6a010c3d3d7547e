"""The network: a transformer encoder, mean pooling, one linear multi-label head.

Mean pooling matches how multilingual-e5 was trained. Fine-tuning is LoRA (peft)
by default, so a saved model is the adapter plus the head (a few hundred KB) on
top of a backbone every user can rebuild; ``full`` fine-tuning saves everything.
Weights are read and written with safetensors only.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import torch
from torch import nn

__all__ = ["ModelConfig", "FrameClassifier", "mean_pool", "pad_batch"]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and adapter settings, saved in the detector's JSON config."""

    base_model: str = "multilingual-e5-small"
    finetune: str = "lora"  # "lora" | "full" | "head"
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.1
    lora_targets: tuple[str, ...] = ("query", "key", "value", "dense")
    dropout: float = 0.1
    max_length: int = 256
    prefix: str = "query: "
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.finetune not in ("lora", "full", "head"):
            raise ValueError(f"finetune must be 'lora', 'full' or 'head', got {self.finetune!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["lora_targets"] = list(self.lora_targets)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        d = dict(d)
        if "lora_targets" in d:
            d["lora_targets"] = tuple(d["lora_targets"])
        return cls(**d)


def pad_batch(seqs: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ``input_ids`` and ``attention_mask`` [batch, longest] for token id lists."""
    width = max((len(s) for s in seqs), default=0)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for r, s in enumerate(seqs):
        ids[r, :len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[r, :len(s)] = 1
    return ids, mask


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class FrameClassifier(nn.Module):
    """Encoder + mean pooling + dropout + linear head producing one logit per label."""

    def __init__(self, encoder: nn.Module, hidden_size: int, num_labels: int, config: ModelConfig,
                 merged: bool = False) -> None:
        super().__init__()
        self.config = config
        self.merged = merged  # LoRA folded into the encoder's weights at load (inference only; no peft)
        if config.finetune == "lora" and not merged:
            from peft import LoraConfig, get_peft_model

            lcfg = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                              target_modules=list(config.lora_targets), bias="none")
            encoder = get_peft_model(encoder, lcfg)
        elif config.finetune == "head":
            for p in encoder.parameters():
                p.requires_grad_(False)
        self.encoder = encoder
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                inputs_embeds: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.dropout(self.features(input_ids, attention_mask, inputs_embeds)))

    def features(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                 inputs_embeds: torch.Tensor | None = None) -> torch.Tensor:
        """The mean-pooled encoder output the head reads (what a second-stage head is fitted on)."""
        if inputs_embeds is not None:
            out = self.encoder(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
        else:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        return mean_pool(out.last_hidden_state, attention_mask)

    def input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """What a checkpoint must store: adapters + head (LoRA/head) or everything (full)."""
        if self.config.finetune == "full":
            return {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        names = {n for n, p in self.named_parameters() if p.requires_grad}
        return {k: v.detach().contiguous() for k, v in self.state_dict().items() if k in names}

    def load_merged_lora(self, state: dict[str, torch.Tensor]) -> None:
        """Fold a LoRA checkpoint into the plain encoder: ``W += B @ A * alpha / r`` (what peft's merge does).

        Inference only: it spares importing peft (about 2 s) and the adapter
        matmuls at every forward pass. The head is loaded as is.
        """
        if not self.merged:
            raise ValueError("load_merged_lora needs a FrameClassifier built with merged=True")
        prefix, a_end, b_end = "encoder.base_model.model.", ".lora_A.default.weight", ".lora_B.default.weight"
        modules = dict(self.encoder.named_modules())
        scale = self.config.lora_alpha / self.config.lora_r
        rest = {k: v for k, v in state.items() if not k.startswith(prefix)}
        a_keys = [k for k in state if k.startswith(prefix) and k.endswith(a_end)]
        used = set(rest)
        with torch.no_grad():
            for ka in a_keys:
                kb = ka[: -len(a_end)] + b_end
                name = ka[len(prefix): -len(a_end)]
                mod = modules.get(name)
                if mod is None and name.startswith("pooler.") and kb in state:
                    used |= {ka, kb}  # an encoder without the (unused) pooler: nothing to fold into
                    continue
                if kb not in state or not isinstance(mod, nn.Linear):
                    raise ValueError(f"checkpoint does not fit the model: no linear layer {name!r} for {ka}")
                mod.weight += (state[kb].to(mod.weight.dtype) @ state[ka].to(mod.weight.dtype)) * scale
                used |= {ka, kb}
        unknown = sorted(set(state) - used)
        missing = sorted({"head.weight", "head.bias"} - set(rest))
        if unknown or missing or not a_keys:
            raise ValueError(f"checkpoint does not fit the model: missing {missing[:5] or 'LoRA weights'}, "
                             f"unexpected {unknown[:5]}")
        self.head.load_state_dict({k[len("head."):]: v for k, v in rest.items()})

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        expected = set(self.trainable_state_dict())
        missing = expected - set(state)
        unexpected = set(state) - set(self.state_dict())
        if missing or unexpected:
            raise ValueError(f"checkpoint does not fit the model: missing {sorted(missing)[:5]}, "
                             f"unexpected {sorted(unexpected)[:5]}")
        self.load_state_dict(state, strict=False)
