"""framing.server: ``framing serve``, a self-hosted HTTP API and page for frame detection.

An app on top of the library: it uses the public :class:`~framing.Detector` and
:class:`~framing.Detection`; the core never imports it. Needs the ``serve`` extra
(FastAPI, uvicorn, swagger-ui-bundle): ``pip install "framing[serve]"``.

    from framing.server import create_app, load_app   # ASGI app for your own server
"""
from __future__ import annotations

from typing import Any

__all__ = ["create_app", "load_app", "serve", "Limits"]


def __getattr__(name: str) -> Any:  # FastAPI is imported only when the app is built
    if name in ("create_app", "Limits"):
        from . import app

        return getattr(app, name)
    if name in ("load_app", "serve"):
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module 'framing.server' has no attribute {name!r}")
