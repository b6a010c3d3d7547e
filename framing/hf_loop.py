"""The training loop of :func:`framing.trainer.train`, on Hugging Face ``Trainer``.

What framing adds to a stock ``Trainer``: the loss (multi-label BCE with a
positive weight per label, or focal loss), a separate learning rate for the head,
a padding collator for our token-id rows, the validation metric used for model
selection (mean over labels of the best-threshold positive-class F1), a CSV log
and a heartbeat on stderr. Everything else is the ``Trainer``'s own behaviour:
length-grouped batches, linear warm-up/decay, gradient clipping and accumulation,
one checkpoint per epoch that ``resume_from_checkpoint`` continues, early stopping
(``EarlyStoppingCallback``), the best epoch reloaded at the end, ``report_to``
integrations (``"tensorboard"``, ...) and any callbacks the caller passes.
"""
from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any, Sequence

__all__ = ["run_trainer", "val_f1", "csv_log_callback"]


def val_f1(probs: Sequence[Sequence[float]], gold: Sequence[Sequence[int]]) -> float:
    """Mean over labels of the best-threshold positive-class F1 (model selection)."""
    from .metrics import best_threshold, prf

    n = len(gold[0]) if gold else 0
    fs = []
    for j in range(n):
        p = [float(r[j]) for r in probs]
        y = [int(r[j]) for r in gold]
        t = best_threshold(p, y)
        fs.append(prf(y, [int(v >= t) for v in p])["f1"])
    return sum(fs) / len(fs) if fs else 0.0


def _collator(pad: int) -> Any:
    import torch

    from .model import pad_batch

    def collate(features: list[dict[str, Any]]) -> dict[str, Any]:
        ids, mask = pad_batch([f["input_ids"] for f in features], pad)
        labels = torch.tensor([f["labels"] for f in features], dtype=torch.float)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}

    return collate


class _Rows:
    """A map-style dataset of ``{"input_ids", "labels"}`` rows (what ``Trainer`` and its samplers index)."""

    def __init__(self, enc: Sequence[list[int]], y: Sequence[Sequence[int]]) -> None:
        self.enc, self.y = enc, y

    def __len__(self) -> int:
        return len(self.enc)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"input_ids": self.enc[i], "labels": [float(v) for v in self.y[i]]}


def csv_log_callback(path: str | Path, heartbeat: bool = False) -> Any:
    """A ``TrainerCallback`` appending every log record (loss, learning rate, eval metrics) to a long-format CSV
    (step, epoch, key, value); with ``heartbeat`` it also prints each record on stderr (no progress bar)."""
    from transformers import TrainerCallback

    class CsvLog(TrainerCallback):
        def __init__(self) -> None:
            self.path, self.t0 = Path(path), time.time()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                self.path.write_text("step,epoch,key,value\n", encoding="utf-8")

        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kw: Any) -> None:
            if not logs:
                return
            with open(self.path, "a", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                for k, v in logs.items():
                    w.writerow([state.global_step, round(state.epoch or 0.0, 4), k, v])
            if heartbeat:
                items = " ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in logs.items())
                print(f"step {state.global_step}/{state.max_steps} {items} ({time.time() - self.t0:.0f} s)",
                      file=sys.stderr, flush=True)

    return CsvLog()


def _wrap(net: Any) -> Any:
    """``net`` inside a module without a ``config`` attribute (``Trainer`` writes to a model's config)."""
    import torch

    class TrainModule(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.net(input_ids=input_ids, attention_mask=attention_mask)

    return TrainModule()


def run_trainer(net: Any, enc: Sequence[list[int]], y: Sequence[Sequence[int]], va_enc: Sequence[list[int]],
                va_y: Sequence[Sequence[int]], args: Any, pad: int, output_dir: Path) -> list[dict[str, Any]]:
    """Fine-tune ``net`` in place with ``Trainer`` (best epoch kept); return the per-epoch history."""
    import torch
    from transformers import EarlyStoppingCallback, Trainer
    from transformers import TrainingArguments as HFArgs
    from transformers.trainer_callback import PrinterCallback

    yt = torch.tensor([list(r) for r in y], dtype=torch.float)
    pos = yt.sum(0)
    pos_weight = ((len(yt) - pos) / pos.clamp(min=1)).clamp(max=10.0)

    class FrameTrainer(Trainer):
        def compute_loss(self, model: Any, inputs: dict[str, Any], return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            labels = inputs.pop("labels")
            out = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
            k = labels.shape[1]  # validation rows carry the labels only, not the sub-type targets
            logits = out[:, :k]
            ce = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, labels, pos_weight=pos_weight[:k].to(logits.device), reduction="none")
            if args.loss == "focal":
                p = torch.sigmoid(logits)
                pt = p * labels + (1 - p) * (1 - labels)
                ce = (1 - pt) ** args.focal_gamma * ce
            loss = ce.mean()
            return (loss, {"logits": out}) if return_outputs else loss

        def create_optimizer(self, model: Any = None) -> Any:
            if self.optimizer is None:
                m = model if model is not None else self.model
                head = [p for n, p in m.named_parameters() if p.requires_grad and n.startswith("net.head.")]
                body = [p for n, p in m.named_parameters() if p.requires_grad and not n.startswith("net.head.")]
                groups = [{"params": body, "lr": args.learning_rate}, {"params": head, "lr": args.head_learning_rate}]
                self.optimizer = torch.optim.AdamW([g for g in groups if g["params"]],
                                                   weight_decay=args.weight_decay)
            return self.optimizer

    def metrics(pred: Any) -> dict[str, float]:
        logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
        probs = torch.sigmoid(torch.as_tensor(logits)).tolist()
        n = len(va_y[0])  # model selection on the labels only (the train targets may add sub-types)
        return {"val_f1": val_f1([r[:n] for r in probs], [[int(v) for v in r[:n]] for r in pred.label_ids])}

    hf = HFArgs(
        output_dir=str(output_dir), num_train_epochs=args.epochs, max_steps=args.max_steps or -1,
        per_device_train_batch_size=args.batch_size, per_device_eval_batch_size=max(32, args.batch_size),
        gradient_accumulation_steps=args.gradient_accumulation_steps, learning_rate=args.learning_rate,
        weight_decay=args.weight_decay, warmup_steps=args.warmup_ratio, lr_scheduler_type="linear",
        max_grad_norm=1.0, seed=args.seed, train_sampling_strategy="group_by_length",
        eval_strategy="epoch", save_strategy="epoch", save_total_limit=max(2, args.patience + 1),
        load_best_model_at_end=True, metric_for_best_model="val_f1", greater_is_better=True,
        logging_strategy="steps", logging_steps=args.logging_steps, report_to=list(args.report_to) or "none",
        disable_tqdm=not args.progress, label_names=["labels"], remove_unused_columns=False,
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), use_cpu=args.device == "cpu")
    order = sorted(range(len(va_enc)), key=lambda i: len(va_enc[i]))  # less padding; F1 ignores order
    trainer = FrameTrainer(
        model=_wrap(net), args=hf, train_dataset=_Rows(enc, y), data_collator=_collator(pad),
        eval_dataset=_Rows([va_enc[i] for i in order], [va_y[i] for i in order]), compute_metrics=metrics,
        callbacks=[EarlyStoppingCallback(early_stopping_patience=args.patience),
                   csv_log_callback(output_dir / "log.csv", heartbeat=not args.progress), *args.callbacks])
    trainer.remove_callback(PrinterCallback)  # the CSV callback prints to stderr instead of stdout
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    net.to("cpu")
    history = []
    for rec in trainer.state.log_history:
        if "eval_val_f1" in rec:
            history.append({"epoch": round(rec.get("epoch", 0.0), 2), "step": rec.get("step"),
                            "val_f1": round(rec["eval_val_f1"], 4)})
    return history
