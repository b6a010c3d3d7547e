"""Generate a detector's model card (README.md) from its config and metrics."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .detector import DetectorConfig


def _report_table(report: dict) -> str:
    rows = ["| label | lang | n | positives | precision | recall | F1 |", "|---|---|---|---|---|---|---|"]
    for label, by_lang in report.items():
        for lang, m in by_lang.items():
            rows.append(f"| {label} | {lang} | {m['n']} | {m['positives']} | {m['precision']:.3f} | "
                        f"{m['recall']:.3f} | {m['f1']:.3f} |")
    return "\n".join(rows)


def model_card(cfg: "DetectorConfig") -> str:
    m = cfg.model
    parts = [
        "---\nlibrary_name: framing\nlicense: mit\nlanguage: [en, zh]\ntags: [propaganda, framing, multi-label]\n---",
        "# framing detector",
        f"Labels: {', '.join(cfg.labels)} (multi-label, sigmoid). Definitions: docs/codebook.md of the framing repo.",
        f"Base model: `{m['base_model']}` (backbone sha256 `{cfg.backbone_sha256}`); fine-tuning: `{m['finetune']}`"
        + (f" (LoRA r={m['lora_r']}, alpha={m['lora_alpha']}, targets {m['lora_targets']})" if m["finetune"] == "lora"
           else "") + f"; window {m['max_length']} tokens; input prefix `{m['prefix']}`.",
        "## Calibration",
        f"Temperature per label: `{json.dumps(cfg.temperature)}`; thresholds: `{json.dumps(cfg.thresholds)}`; "
        f"per-language thresholds: `{json.dumps(cfg.lang_thresholds)}` (fitted on validation).",
    ]
    if cfg.training:
        parts += ["## Training", "```json\n" + json.dumps(cfg.training, indent=2, ensure_ascii=False) + "\n```"]
    if cfg.metrics.get("test"):
        parts += ["## Test metrics (calibrated thresholds)", _report_table(cfg.metrics["test"])]
    if cfg.metrics.get("test_subtypes"):
        rows = [f"| {st} | {m['label']} | {m['positives']} | {m['precision']:.3f} | {m['recall']:.3f} | "
                f"{m['f1']:.3f} | {'yes' if st in cfg.subtypes_shipped else 'no'} |"
                for st, m in cfg.metrics["test_subtypes"].items()]
        parts += ["## Sub-types (test split; reported in `Detection.subtypes` only when shipped)",
                  "| sub-type | label | positives | precision | recall | F1 | shipped |\n|---|---|---|---|---|---|---|\n"
                  + "\n".join(rows)]
    parts += ["## Intended use and limits",
              "Finds frames that a text uses or endorses; quoting a frame to condemn or report it is not the frame. "
              "Scores are evidence for a human analyst, not verdicts about people. See docs/data.md for known biases."]
    return "\n\n".join(parts) + "\n"
