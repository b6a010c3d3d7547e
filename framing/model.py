"""The network: a transformer encoder, mean pooling, one linear multi-label head.

Mean pooling matches how multilingual-e5 was trained. Fine-tuning is LoRA (peft)
by default, so a saved model is the adapter plus the head (a few hundred KB) on
top of a backbone every user can rebuild; ``full`` fine-tuning saves everything.
Weights are read and written with safetensors only.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn

__all__ = ["ModelConfig", "FrameClassifier", "mean_pool"]


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


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


class FrameClassifier(nn.Module):
    """Encoder + mean pooling + dropout + linear head producing one logit per label."""

    def __init__(self, encoder: nn.Module, hidden_size: int, num_labels: int, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        if config.finetune == "lora":
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
        if inputs_embeds is not None:
            out = self.encoder(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
        else:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
        pooled = mean_pool(out.last_hidden_state, attention_mask)
        return self.head(self.dropout(pooled))

    def input_embeddings(self) -> nn.Module:
        return self.encoder.get_input_embeddings()

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """What a checkpoint must store: adapters + head (LoRA/head) or everything (full)."""
        if self.config.finetune == "full":
            return {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        names = {n for n, p in self.named_parameters() if p.requires_grad}
        return {k: v.detach().contiguous() for k, v in self.state_dict().items() if k in names}

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        expected = set(self.trainable_state_dict())
        missing = expected - set(state)
        unexpected = set(state) - set(self.state_dict())
        if missing or unexpected:
            raise ValueError(f"checkpoint does not fit the model: missing {sorted(missing)[:5]}, "
                             f"unexpected {sorted(unexpected)[:5]}")
        self.load_state_dict(state, strict=False)
