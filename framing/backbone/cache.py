"""Cache plumbing: where rebuilt backbones live, cached hashes, a file lock, atomic directories.

Design: a rebuilt backbone is keyed by the sha256 of its source file, but
hashing 70 MB on every call would cost ~0.2 s, so hashes are memoised in a
small JSON keyed by (real path, size, mtime_ns). A directory appears at its
final name only through ``os.rename`` of a fully written sibling temp dir
(same parent, so same filesystem); on any error, including KeyboardInterrupt,
the temp dir is removed, so no half-written backbone is ever visible. A POSIX
``fcntl.flock`` on a sibling lock file serialises builders of the same
directory across processes (without fcntl, e.g. on Windows, the rename still
keeps readers safe and the loser's rename fails cleanly).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Iterator

from .errors import BackboneError

__all__ = ["framing_home", "default_cache_dir", "file_sha256", "file_lock", "atomic_directory",
           "remove_stale_temps"]

_SHA_CACHE = "sha256-cache.json"
_SHA_CACHE_MAX = 64


def framing_home() -> Path:
    """``$FRAMING_HOME``, else the per-user cache dir of framing (platformdirs)."""
    env = os.environ.get("FRAMING_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("framing"))


def default_cache_dir() -> Path:
    """Where rebuilt backbones are stored: ``<framing home>/backbones``."""
    return framing_home() / "backbones"


def _hash(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str]) -> str:
    """sha256 of ``path``, memoised in ``cache_dir``/sha256-cache.json by (path, size, mtime)."""
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError as exc:
        raise BackboneError(f"{path}: cannot read ({exc.strerror or exc})") from None
    key = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    cache_file = Path(cache_dir) / _SHA_CACHE
    try:
        entries = json.loads(cache_file.read_text(encoding="utf-8"))
        if not isinstance(entries, dict):
            entries = {}
    except (OSError, ValueError):
        entries = {}
    hit = entries.get(real)
    if isinstance(hit, dict) and all(hit.get(k) == v for k, v in key.items()) and isinstance(hit.get("sha256"), str):
        return str(hit["sha256"])
    digest = _hash(real)
    entries.pop(real, None)
    entries[real] = {**key, "sha256": digest}
    while len(entries) > _SHA_CACHE_MAX:
        entries.pop(next(iter(entries)))
    with contextlib.suppress(OSError):  # a cache we cannot write only costs time
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_file.with_name(f".{_SHA_CACHE}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            tmp.write_text(json.dumps(entries, indent=1), encoding="utf-8")
            os.replace(tmp, cache_file)
        finally:
            tmp.unlink(missing_ok=True)
    return digest


@contextlib.contextmanager
def file_lock(lock_path: str | os.PathLike[str]) -> Iterator[None]:
    """Exclusive inter-process lock on ``lock_path`` (blocking; released on exit)."""
    p = Path(lock_path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BackboneError(f"{p}: cannot create lock file ({exc.strerror or exc})") from None
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            fcntl = None  # type: ignore[assignment]
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _temp_prefix(final: Path) -> str:
    return f".{final.name}.tmp-"


def remove_stale_temps(final: Path) -> None:
    """Remove temp dirs left for ``final`` by a killed process; call only while holding its lock."""
    if not final.parent.is_dir():
        return
    for pattern in (_temp_prefix(final) + "*", f".{final.name}.old-*"):
        for p in final.parent.glob(pattern):
            shutil.rmtree(p, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(final: str | os.PathLike[str], *, replace: bool = False) -> Iterator[Path]:
    """Yield an empty temp dir next to ``final``; on success rename it to ``final``.

    With ``replace``, an existing ``final`` is moved aside first and deleted after
    the swap (restored if the swap fails). On any exception the temp dir is deleted.
    """
    final = Path(final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f"{_temp_prefix(final)}{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir()
    except OSError as exc:
        raise BackboneError(f"{final.parent}: cannot create a directory there ({exc.strerror or exc})") from None
    try:
        yield tmp
        aside = None
        if final.exists() or final.is_symlink():
            if not replace:
                raise BackboneError(f"{final}: already exists")
            aside = final.parent / f".{final.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
            os.rename(final, aside)
        try:
            os.rename(tmp, final)
        except OSError as exc:
            if aside is not None:
                with contextlib.suppress(OSError):
                    os.rename(aside, final)
            raise BackboneError(f"{final}: cannot move the finished directory into place ({exc})") from None
        if aside is not None:
            if aside.is_dir() and not aside.is_symlink():
                shutil.rmtree(aside, ignore_errors=True)
            else:
                aside.unlink(missing_ok=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
