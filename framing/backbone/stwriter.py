"""Stream float32 tensors into a ``.safetensors`` file, one chunk at a time.

Design: ``safetensors.numpy.save_file`` needs every tensor in memory at once
(and copies them to bytes), about 1 GB for this model. The format is simple
(u64 header length, JSON header with dtype/shape/data_offsets, then the raw
little-endian data in header order), so we write the header first and then
stream each tensor's chunks straight to disk: peak memory is one chunk. The
result is checked by reading it back with the ``safetensors`` library
(:func:`verify_safetensors`), so a writer bug cannot produce a file that
transformers would silently misread.
"""
from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from .errors import BackboneError

__all__ = ["TensorSource", "write_safetensors", "verify_safetensors", "read_safetensors_header"]


@dataclass(frozen=True)
class TensorSource:
    """A named float32 tensor whose data ``chunks()`` yields in row-major order."""

    name: str
    shape: tuple[int, ...]
    chunks: Callable[[], Iterable[np.ndarray]]


def _header(sources: list[TensorSource], metadata: dict[str, str]) -> bytes:
    header: dict[str, object] = {"__metadata__": dict(metadata)}
    offset = 0
    for src in sources:
        nbytes = 4 * math.prod(src.shape)
        header[src.name] = {"dtype": "F32", "shape": list(src.shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return raw + b" " * (-len(raw) % 8)  # the data section starts 8-byte aligned


def write_safetensors(path: str | os.PathLike[str], sources: Iterable[TensorSource],
                      metadata: dict[str, str] | None = None) -> int:
    """Write ``sources`` to ``path``; returns the total number of values written."""
    srcs = list(sources)
    names = [s.name for s in srcs]
    if len(set(names)) != len(names):
        raise BackboneError(f"{path}: duplicate tensor names")
    head = _header(srcs, {"format": "pt", **(metadata or {})})
    total = 0
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(head)))
        fh.write(head)
        for src in srcs:
            want = math.prod(src.shape)
            got = 0
            for chunk in src.chunks():
                arr = np.ascontiguousarray(chunk, dtype="<f4").reshape(-1)
                fh.write(memoryview(arr).cast("B"))
                got += arr.size
            if got != want:
                raise BackboneError(f"{path}: tensor {src.name!r} produced {got} values, expected {want}")
            total += got
    return total


def read_safetensors_header(path: str | os.PathLike[str]) -> dict[str, dict[str, object]]:
    """The JSON header of a safetensors file (tensor name -> dtype/shape/offsets), without data."""
    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n > 100_000_000:
                raise ValueError("header too large")
            header = json.loads(fh.read(n))
    except (OSError, ValueError, struct.error) as exc:
        raise BackboneError(f"{path}: not a readable safetensors file ({exc})") from None
    header.pop("__metadata__", None)
    return header


def verify_safetensors(path: str | os.PathLike[str], expected: dict[str, tuple[int, ...]]) -> None:
    """Open ``path`` with the safetensors library and check tensor names and shapes."""
    from safetensors import safe_open

    try:
        with safe_open(os.fspath(path), framework="np") as f:
            names = set(f.keys())
            if names != set(expected):
                raise BackboneError(f"{path}: tensor names differ from the expected set")
            for name in names:
                t = f.get_slice(name)
                if tuple(t.get_shape()) != tuple(expected[name]):
                    raise BackboneError(f"{path}: tensor {name!r} has shape {t.get_shape()}")
    except BackboneError:
        raise
    except Exception as exc:  # the library's own errors are not a stable type
        raise BackboneError(f"{path}: safetensors check failed ({exc})") from None

