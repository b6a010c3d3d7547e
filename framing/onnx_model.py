"""ONNX: export a detector's whole network to one ONNX graph, and run it with onnxruntime behind the Detector API.

The graph is ``(input_ids, attention_mask) -> logits[batch, labels]``: encoder
(LoRA merged), masked mean pooling and the linear head, so a server needs no
framing code besides normalisation and calibration (both in ``framing_export.json``).
:func:`export_onnx` writes ``model.onnx`` (fp32) and ``model_int8.onnx`` (onnxruntime
dynamic int8 quantisation of the MatMuls: per-channel, feed-forward outputs kept fp32)
into a ``framing export`` directory and checks the fp32 graph against the detector.
:class:`OnnxDetector` is a :class:`~framing.detector.Detector` whose forward pass is an onnxruntime session;
normalisation, windows, calibration and lexicon evidence are the Detector's own
(there is no model-attributed evidence: it needs gradients).

Needs ``pip install "framing[onnx]"`` (onnx, onnxscript, onnxruntime).
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
from pathlib import Path
from typing import Any, Iterator, Sequence

from .detector import Detector, DetectorConfig

__all__ = ["ONNX_NAME", "ONNX_INT8_NAME", "export_onnx", "OnnxDetector"]

ONNX_NAME = "model.onnx"
ONNX_INT8_NAME = "model_int8.onnx"
OPSET = 18


def _need(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise RuntimeError(f"ONNX export and inference need {module}: pip install 'framing[onnx]' ({e})") from None


def export_onnx(det: Detector, out_dir: str | os.PathLike[str], *, int8: bool = True,
                check_texts: Sequence[str] = (), atol: float = 1e-4) -> dict[str, Any]:
    """Write ``model.onnx`` (and ``model_int8.onnx``) for ``det`` into ``out_dir``; return what was checked.

    The fp32 graph's logits must equal the detector's within ``atol`` on ``check_texts``
    (raises ``ValueError`` otherwise, leaving no ONNX file behind).
    """
    import torch

    from .export import merged_encoder

    _need("onnxscript")
    ort = _need("onnxruntime")
    out = Path(out_dir)
    net = copy.copy(det.model)  # shallow: shares the head, gets a merged copy of the encoder
    net.encoder = merged_encoder(det, copy_model=True)
    net.eval()

    class SequenceLogits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.net(input_ids=input_ids, attention_mask=attention_mask)

    ids = torch.tensor([[0, 5, 6, 2], [0, 7, 2, 1]], dtype=torch.long)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 1, 0]], dtype=torch.long)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    path = out / ONNX_NAME
    written = [path]
    keep: list[str] = []
    try:
        with _quiet():
            torch.onnx.export(SequenceLogits().eval(), (ids, mask), str(path),
                              input_names=["input_ids", "attention_mask"], output_names=["logits"],
                              opset_version=OPSET, dynamo=True, external_data=False,
                              dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}), report=False, verbose=False)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        probe = OnnxDetector(session, det.tokenizer, det.config)
        texts = [t for t in check_texts if t.strip()]
        max_diff = 0.0
        if texts:
            got, _ = probe.logits_many(texts)
            ref, _ = det.logits_many(texts)
            max_diff = float(max((g - r).abs().max() for g, r in zip(got, ref)))
        if max_diff > atol:
            raise ValueError(f"ONNX logits differ from the detector's by {max_diff:.2e} > {atol:g}; not written")
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            written.append(out / ONNX_INT8_NAME)
            keep = _ffn_output_matmuls(path)
            with _quiet():
                quantize_dynamic(str(path), str(out / ONNX_INT8_NAME), weight_type=QuantType.QInt8,
                                 per_channel=True, nodes_to_exclude=keep)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise
    return {"file": ONNX_NAME, "int8_file": ONNX_INT8_NAME if int8 else None, "opset": OPSET,
            "int8_fp32_matmuls": len(keep) if int8 else None,
            "texts": len(texts), "max_abs_logit_diff": max_diff}


def _ffn_output_matmuls(path: Path) -> list[str]:
    """Names of the MatMuls fed by a GELU: the feed-forward output layers, kept fp32 in the int8 graph.

    Their activations carry the outliers of transformer encoders; the torch int8 path
    keeps the same layers in fp32 (``framing.quantize``, by module name).
    """
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    made_by = {out: node for node in graph.node for out in node.output}
    names = []
    for node in graph.node:
        src = made_by.get(node.input[0]) if node.op_type == "MatMul" and node.input else None
        if src is not None and (src.op_type == "Gelu" or node.input[0].startswith("gelu")):
            names.append(node.name)
    return names


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Hide the exporter's and quantiser's advice (warnings, torch.onnx log lines, a root-logger hint)."""
    import logging
    import warnings

    def drop(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")

    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    root = logging.getLogger()
    onnx_log.setLevel(logging.ERROR)
    root.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        onnx_log.setLevel(level)
        root.removeFilter(drop)


class _Session:
    """Quacks like the torch network a Detector calls: ``(input_ids, attention_mask) -> logits``."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def eval(self) -> "_Session":
        return self

    def __call__(self, input_ids: Any, attention_mask: Any) -> Any:
        import torch

        out = self.session.run(["logits"], {"input_ids": input_ids.numpy(), "attention_mask": attention_mask.numpy()})
        return torch.from_numpy(out[0])


class OnnxDetector(Detector):
    """A Detector whose network runs in onnxruntime; load it from a ``framing export --onnx`` directory."""

    def __init__(self, session: Any, tokenizer: Any, config: DetectorConfig, kind: str = "onnx") -> None:
        super().__init__(_Session(session), tokenizer, config)
        self.quantize = kind  # truthy: evidence comes from the lexicon only (no gradients here)

    @classmethod
    def from_export(cls, path: str | os.PathLike[str], *, int8: bool = False, threads: int | None = None
                    ) -> "OnnxDetector":
        """Load ``model.onnx`` (or ``model_int8.onnx``), the tokenizer and the calibration of an export directory."""
        from .encoder import FastTokenizer
        from .export import EXPORT_CONFIG

        ort = _need("onnxruntime")
        path = Path(path)
        name = ONNX_INT8_NAME if int8 else ONNX_NAME
        if not (path / name).exists():
            raise FileNotFoundError(f"{path / name} not found; write it with `framing export {path} --onnx`")
        meta = json.loads((path / EXPORT_CONFIG).read_text(encoding="utf-8"))
        if "detector_config" not in meta:
            raise ValueError(f"{path / EXPORT_CONFIG} has no detector_config; re-export with this framing version")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        session = ort.InferenceSession(str(path / name), opts, providers=["CPUExecutionProvider"])
        config = DetectorConfig.from_dict(meta["detector_config"])
        tokenizer: Any = FastTokenizer(path) if (path / "tokenizer.json").is_file() else None
        if tokenizer is None or tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
            from transformers import AutoTokenizer  # no tokenizer.json, or special tokens it cannot read

            tokenizer = AutoTokenizer.from_pretrained(str(path))
        return cls(session, tokenizer, config, "onnx-int8" if int8 else "onnx")

    def save_pretrained(self, path: str | os.PathLike[str]) -> Path:
        raise ValueError("an OnnxDetector cannot be saved as a framing model; save the torch Detector")
