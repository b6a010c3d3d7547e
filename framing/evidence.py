"""Evidence spans for predicted labels: lexicon cues first, model attribution otherwise.

Lexicon cues are exact matches mapped to the original text. When a label is
predicted but no cue for it is present, the span comes from the model itself:
gradient x input saliency over the tokens of the first window, top tokens
merged into spans of the normalised text and mapped back to the original.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .normalizer import Normalized

if TYPE_CHECKING:  # pragma: no cover
    from .detection import Evidence
    from .detector import Detector

__all__ = ["find_evidence", "model_attribution"]


def _lexicon_evidence(norm: Normalized, labels: tuple[str, ...]) -> list["Evidence"]:
    from .detection import Evidence

    try:
        from .lexicon import load_lexicon
    except ImportError:  # pragma: no cover - lexicon is part of the package
        return []
    out = []
    for m in load_lexicon().match(norm):
        if m.label in labels:
            out.append(Evidence(label=m.label, start=m.start, end=m.end, surface=m.surface, source="lexicon",
                                term=m.term))
    return out


def model_attribution(det: "Detector", norm: Normalized, label: str, top_k: int = 3) -> list["Evidence"]:
    """Gradient x input saliency of ``label``'s logit over the tokens of the first window."""
    import torch

    from .detection import Evidence

    if det.quantize:
        return []  # quantised Linear layers have no gradients
    mc = det.model_config
    enc = det.tokenizer(mc.prefix + norm.text, return_offsets_mapping=True, truncation=True,
                        max_length=mc.max_length, return_tensors="pt")
    offsets = enc.pop("offset_mapping")[0].tolist()
    j = det.labels.index(label)
    emb_layer = det.model.input_embeddings()
    with det._lock, torch.enable_grad():
        embeds = emb_layer(enc["input_ids"]).detach().requires_grad_(True)
        logit = det.model(input_ids=None, attention_mask=enc["attention_mask"], inputs_embeds=embeds)[0, j]
        # the gradient of the input only: backward() would also compute a gradient for every weight and keep
        # it in .grad (a second copy of the encoder's layers, and a training detector's .grad polluted)
        (grad,) = torch.autograd.grad(logit, embeds)
    sal = (grad[0] * embeds[0]).sum(-1).detach()
    plen = len(mc.prefix)
    cands = []
    for t, (a, b) in enumerate(offsets):
        a, b = a - plen, b - plen
        if b <= 0 or a >= len(norm.text) or b <= a:
            continue
        a = max(a, 0)
        if not norm.text[a:b].strip():
            continue
        cands.append((float(sal[t]), a, min(b, len(norm.text))))
    cands.sort(reverse=True)
    picked = sorted((a, b, s) for s, a, b in cands[:top_k] if s > 0)
    spans: list[list[Any]] = []
    for a, b, s in picked:  # merge touching tokens
        if spans and a <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], b)
            spans[-1][2] = max(spans[-1][2], s)
        else:
            spans.append([a, b, s])
    out = []
    for a, b, s in spans:
        oa, ob = norm.to_original(a, b)
        out.append(Evidence(label=label, start=oa, end=ob, surface=norm.original[oa:ob], source="model",
                            weight=round(s, 4)))
    return out


def find_evidence(det: "Detector", norm: Normalized, labels: tuple[str, ...]) -> tuple["Evidence", ...]:
    ev = _lexicon_evidence(norm, labels)
    covered = {e.label for e in ev}
    for lab in labels:
        if lab not in covered:
            ev.extend(model_attribution(det, norm, lab))
    return tuple(sorted(ev, key=lambda e: (e.start, e.end, e.label)))
