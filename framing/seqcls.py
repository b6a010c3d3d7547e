"""Framing's network as a standard ``BertForSequenceClassification``, exactly.

Our network is encoder -> masked MEAN of the last hidden states -> linear head.
``*ForSequenceClassification`` classifies the first token through a pooler
(``tanh(dense(h_cls))``), which no setting turns into a mean over tokens. So the
export appends ONE extra encoder layer, built by hand, whose output at the first
token carries the head's logits, and sets the pooler and classifier to read them:

1. attention with zero query and key weights: every score is 0, so softmax gives
   each real token the same weight (padding stays masked) and the context is the
   masked mean of the values ``V h_t + b_v``. ``V`` writes the calibrated head
   logits ``s_k = W_k h_t / T_k`` as pairs ``(+c s_k, -c s_k)`` and its bias adds
   a constant pair ``(+c K, -c K)``; the attention output dense is the identity;
2. the residual adds the first token's own state ``h_cls``, and LayerNorm divides
   by the standard deviation, which the constant pair dominates
   (``sigma ~ c K sqrt(2 / hidden)``); the pair DIFFERENCE ``u_2k - u_2k+1``
   cancels LayerNorm's mean and is ``2 c m_k / sigma`` plus ``(h_2k - h_2k+1) / sigma``;
   with ``c = 1e6``, ``K = 1e5`` the first error is below 1e-6 relative for
   logits up to 100, the second below 1e-5 for states up to 20 (float32 keeps both:
   the huge constant pair never meets the logit pairs in one sum);
3. the feed-forward block has zero weights, so its LayerNorm returns its input;
4. the pooler reads ``eps * alpha * (u_2k - u_2k+1) ~= eps * m_k`` (``eps = 1e-4``
   keeps ``tanh`` in its linear range) and the classifier multiplies by
   ``1 / eps`` and adds ``b_k / T_k``.

The sequence logits are therefore framing's CALIBRATED logits (temperature
folded in): ``sigmoid`` of them are framing's scores. The export checks this
numerically on real texts before writing anything. The prompt prefix
(``"query: "``) moves into the tokenizer's post-processor, so plain users who
pass raw text get the same token ids as framing.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Sequence

__all__ = ["sequence_classifier", "prefix_tokenizer", "C_SCALE", "K_CONST", "EPS"]

C_SCALE = 1e6
K_CONST = 1e5
EPS = 1e-4


def _bert_parts(model: Any) -> tuple[Any, Any]:
    base = getattr(model, model.base_model_prefix)
    return base, base.encoder.layer


def sequence_classifier(encoder: Any, head_weight: Any, head_bias: Any, temperature: Sequence[float],
                        labels: Sequence[str]) -> Any:
    """``AutoModelForSequenceClassification`` = ``encoder`` + the mean-pooling layer + pooler + classifier.

    ``encoder`` is a plain (LoRA-merged) BERT-family ``PreTrainedModel``; ``head_weight``
    [labels, hidden] and ``head_bias`` [labels] are framing's head; logits are divided
    by ``temperature`` (one per label).
    """
    import torch
    from transformers import AutoModelForSequenceClassification

    n, hidden = head_weight.shape
    if n != len(labels) or len(temperature) != n:
        raise ValueError(f"{n} head rows for {len(labels)} labels and {len(temperature)} temperatures")
    if 2 * n + 2 > hidden:
        raise ValueError(f"{n} labels need {2 * n + 2} hidden dimensions; the encoder has {hidden}")
    cfg = copy.deepcopy(encoder.config)
    if getattr(cfg, "model_type", None) != "bert":
        raise ValueError(f"the mean-pooling layer is written for BERT layers, not {cfg.model_type!r}")
    cfg.num_hidden_layers = encoder.config.num_hidden_layers + 1
    cfg.num_labels = n
    cfg.id2label = dict(enumerate(labels))
    cfg.label2id = {lab: i for i, lab in enumerate(labels)}
    cfg.problem_type = "multi_label_classification"
    cfg.architectures = None
    cfg.classifier_dropout = None
    model = AutoModelForSequenceClassification.from_config(cfg)
    base, layers = _bert_parts(model)
    state = {k: v for k, v in encoder.state_dict().items() if not k.startswith("pooler.")}
    missing, unexpected = base.load_state_dict(state, strict=False)
    last = f"encoder.layer.{cfg.num_hidden_layers - 1}."
    missing = [k for k in missing if not k.startswith((last, "pooler."))]
    if missing or unexpected:
        raise ValueError(f"cannot map the encoder onto {type(model).__name__}: missing {missing[:5]}, "
                         f"unexpected {unexpected[:5]}")
    t = torch.tensor([float(x) for x in temperature], dtype=torch.float32)
    w = head_weight.detach().float() / t[:, None]
    b = head_bias.detach().float() / t
    layer = layers[-1]
    att, ffn_mid, ffn_out = layer.attention, layer.intermediate, layer.output
    with torch.no_grad():
        for lin in (att.self.query, att.self.key, ffn_mid.dense, ffn_out.dense, att.self.value):
            lin.weight.zero_()
            lin.bias.zero_()
        for k in range(n):
            att.self.value.weight[2 * k] = C_SCALE * w[k]
            att.self.value.weight[2 * k + 1] = -C_SCALE * w[k]
        att.self.value.bias[2 * n] = C_SCALE * K_CONST
        att.self.value.bias[2 * n + 1] = -C_SCALE * K_CONST
        att.output.dense.weight.copy_(torch.eye(hidden))
        att.output.dense.bias.zero_()
        for ln in (att.output.LayerNorm, ffn_out.LayerNorm):
            ln.weight.fill_(1.0)
            ln.bias.zero_()
        alpha = K_CONST / math.sqrt(2 * hidden)
        pooler = base.pooler.dense
        pooler.weight.zero_()
        pooler.bias.zero_()
        for k in range(n):
            pooler.weight[k, 2 * k] = EPS * alpha
            pooler.weight[k, 2 * k + 1] = -EPS * alpha
        model.classifier.weight.zero_()
        for k in range(n):
            model.classifier.weight[k, k] = 1.0 / EPS
        model.classifier.bias.copy_(b)
    return model.eval()


def prefix_tokenizer(tok: Any, prefix: str) -> Any:
    """A copy of fast tokenizer ``tok`` whose post-processor inserts ``prefix``'s tokens after the first special token.

    ``tok(text)`` then gives the ids ``tok(prefix + text)`` gives, without the caller
    adding the prefix (checked by the export on its texts). Pairs get the prefix once.
    """
    from tokenizers.processors import TemplateProcessing

    tok = copy.deepcopy(tok)
    if not prefix:
        return tok
    backend = tok.backend_tokenizer
    enc = backend.encode(prefix.strip(), add_special_tokens=False)
    cls = tok.cls_token or tok.bos_token
    sep = tok.sep_token or tok.eos_token
    if cls is None or sep is None:
        raise ValueError("the tokenizer has no [CLS]/<s> or [SEP]/</s> token to place the prefix after")
    specials = [(cls, tok.convert_tokens_to_ids(cls)), (sep, tok.convert_tokens_to_ids(sep)),
                {"id": "FRAMING_PREFIX", "ids": list(enc.ids), "tokens": list(enc.tokens)}]
    backend.post_processor = TemplateProcessing(
        single=f"{cls} FRAMING_PREFIX $A {sep}", pair=f"{cls} FRAMING_PREFIX $A {sep} $B:1 {sep}:1",
        special_tokens=specials)
    return tok
