"""Sub-type outputs as a second stage: logistic regressions on the trained encoder's frozen features.

Training the sub-type outputs jointly with the labels costs the labels a lot
(``training/subtype_cost.py``: one-epoch validation F1 0.566 -> 0.341). This stage
leaves the label model exactly as it is. For each (label, sub-type) it fits an
L2-regularised logistic regression (scikit-learn) on the mean-pooled features the
head reads, one row per window of each training text, choosing ``C`` on validation
positive-class F1; the standardisation is folded into the weights and the rows are
appended to the linear head. So a model with sub-types is still "encoder -> mean
pool -> one linear layer": saving, loading, int8, ONNX and the standard export
work unchanged, and the label outputs give the same scores as before. Thresholds
and the ship decision (test F1 >= 0.70 with >= 30 positives) are
:func:`framing.subtypes.fit_subtypes`'.
"""
from __future__ import annotations

from typing import Any, Sequence

__all__ = ["fit_subtype_head", "window_features"]

#: (C, class_weight) candidates, chosen per sub-type on validation
GRID = tuple((c, w) for c in (0.03, 0.3, 3.0) for w in (None, "balanced"))


def window_features(det: Any, texts: Sequence[str], batch_size: int = 32) -> tuple[Any, list[int]]:
    """Pooled features [windows, hidden] of ``texts`` (float32 numpy) and each window's text index."""
    import numpy as np

    from .detector import normalize_bounded

    norms = [normalize_bounded(t, det.norm_config, None)[0] for t in texts]
    feats, idx = [], []
    for i, f in det.window_outputs(norms, batch_size, features=True):
        feats.append(f.numpy())
        idx.append(i)
    return np.stack(feats).astype("float32"), idx


def _text_max(z: Any, idx: Sequence[int], n: int) -> Any:
    """Per-text maximum of window scores (how the detector pools windows)."""
    import numpy as np

    out = np.full((n,) + z.shape[1:], -np.inf, dtype="float64")
    np.maximum.at(out, np.asarray(idx), z)
    return out


def _best_f1(scores: Any, gold: Any) -> float:
    """Positive-class F1 at the best cut of ``scores`` (-inf: never predicted); for choosing C, not the threshold."""
    import numpy as np

    if not gold.any():
        return 0.0
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], gold[order]
    tp = np.cumsum(y)
    k = np.arange(1, len(y) + 1)
    f1 = 2 * tp / (k + gold.sum())
    last = np.r_[s[1:] != s[:-1], True] & np.isfinite(s)  # cut only between distinct, reachable scores
    return float(f1[last].max()) if last.any() else 0.0


def fit_subtype_head(det: Any, train_rows: Sequence[dict[str, Any]], validation_rows: Sequence[dict[str, Any]],
                     test_rows: Sequence[dict[str, Any]] = (), subtypes: dict[str, Sequence[str]] | None = None,
                     text_field: str = "text", lang_field: str | None = "lang", batch_size: int = 32) -> dict[str, Any]:
    """Append one head row per (label, sub-type) to ``det``'s head, in place; returns the test report per sub-type.

    Rows carry a ``subtypes`` list (sub-type names). Rule-labelled train rows
    (``weak`` true) carry no sub-types and are left out. A sub-type without a
    positive train row is left out. ``det`` must be an fp32 detector without
    sub-type outputs.
    """
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression

    from .subtypes import _label_gate, fit_subtypes, subtype_targets

    cfg = det.config
    if cfg.subtypes:
        raise ValueError("this model already has sub-type outputs; fit the head on a labels-only model")
    head = det.model.head
    if type(head) is not torch.nn.Linear:
        raise ValueError("fit the sub-type head on an fp32 model (load it without quantize=)")
    unknown = set(subtypes or {}) - set(cfg.labels)
    if unknown:
        raise ValueError(f"sub-types given for labels {sorted(unknown)} not in the model's labels {list(cfg.labels)}")
    train_rows = [r for r in train_rows if not r.get("weak")]
    asked = [(lab, st) for lab in cfg.labels for st in (subtypes or {}).get(lab, ())]
    y_tr = np.asarray(subtype_targets(train_rows, asked), dtype=int).reshape(len(train_rows), len(asked))
    outs = [o for k, o in enumerate(asked) if y_tr[:, k].any()]
    if not outs:
        raise ValueError("no train row has any of the sub-types asked for")
    y_tr = y_tr[:, [asked.index(o) for o in outs]]
    y_va = np.asarray(subtype_targets(validation_rows, outs), dtype=int)
    x_tr, i_tr = window_features(det, [r[text_field] for r in train_rows], batch_size)
    x_va, i_va = window_features(det, [r[text_field] for r in validation_rows], batch_size)
    mu, sd = x_tr.mean(0), x_tr.std(0) + 1e-6
    z_tr, z_va = (x_tr - mu) / sd, (x_va - mu) / sd
    with torch.no_grad():  # the label outputs on validation: a sub-type is only reported under its label
        z_lab = head(torch.from_numpy(x_va)).numpy()
    lab_logits = list(torch.from_numpy(_text_max(z_lab, i_va, len(validation_rows))).float())
    gate = _label_gate(cfg, lab_logits, validation_rows, lang_field or "")
    weights, biases, chosen = [], [], {}
    for k, (lab, st) in enumerate(outs):
        gold = y_va[:, k].tolist()
        best: tuple[float, Any, Any] | None = None
        for c, cw in GRID:
            lr = LogisticRegression(C=c, class_weight=cw, max_iter=3000).fit(z_tr, y_tr[np.asarray(i_tr), k])
            s = _text_max(lr.decision_function(z_va), i_va, len(validation_rows))
            f1 = _best_f1(np.where([g[lab] for g in gate], s, -np.inf), np.asarray(gold))
            if best is None or f1 > best[0]:
                best = (f1, lr, {"C": c, "class_weight": cw, "validation_f1": round(f1, 4)})
        _, lr, chosen[st] = best  # type: ignore[misc]
        w = lr.coef_[0] / sd
        weights.append(w)
        biases.append(float(lr.intercept_[0] - (w * mu).sum()))
    new = torch.nn.Linear(head.in_features, head.out_features + len(outs))
    with torch.no_grad():
        new.weight[: head.out_features] = head.weight
        new.bias[: head.out_features] = head.bias
        new.weight[head.out_features:] = torch.tensor(np.stack(weights), dtype=new.weight.dtype)
        new.bias[head.out_features:] = torch.tensor(biases, dtype=new.bias.dtype)
    det.model.head = new
    for lab, st in outs:
        cfg.subtypes.setdefault(lab, []).append(st)
    cfg.training["subtype_head_fit"] = {"method": "logistic regression per sub-type on the frozen pooled features",
                                    "chosen": chosen, "train_rows": len(train_rows), "train_windows": len(i_tr)}

    def logits(x: Any, idx: list[int], n: int) -> list[Any]:
        with torch.no_grad():
            z = new(torch.from_numpy(x)).numpy()
        return list(torch.from_numpy(_text_max(z, idx, n)).float())

    te_logits: list[Any] = []
    if test_rows:
        x_te, i_te = window_features(det, [r[text_field] for r in test_rows], batch_size)
        te_logits = logits(x_te, i_te, len(test_rows))
    return fit_subtypes(det, logits(x_va, i_va, len(validation_rows)), validation_rows, te_logits, list(test_rows),
                        lang_field or "")
