"""Start ``framing serve``: uvicorn with an app factory, so that ``--workers N`` processes each load the model."""
from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["serve", "load_app", "app_from_env", "ENV"]

ENV = "FRAMING_SERVE_CONFIG"  # JSON settings handed to the worker processes


def load_app(model: str | None = None, int8: bool = False, limits: dict[str, int] | None = None,
             threads: int | None = None, max_batch: int = 64, max_wait: float = 0.002, batch_size: int = 4) -> Any:
    """Load the detector (the bundled one when ``model`` is None) and build the app."""
    from ..default import default_model_dir
    from ..detector import Detector
    from ..modelinfo import model_info
    from .app import Limits, create_app

    path = model or default_model_dir()
    info = model_info(path)
    if threads:
        import torch

        torch.set_num_threads(threads)
    det = Detector.from_pretrained(path, quantize="int8" if int8 else None)
    return create_app(det, info, limits=Limits(**(limits or {})), max_batch=max_batch, max_wait=max_wait,
                      batch_size=batch_size)


def app_from_env() -> Any:
    """uvicorn's factory: the app for the settings in ``$FRAMING_SERVE_CONFIG``."""
    return load_app(**json.loads(os.environ.get(ENV, "{}")))


def serve(model: str | None = None, *, host: str = "127.0.0.1", port: int = 8000, int8: bool = False,
          workers: int = 1, limits: dict[str, int] | None = None, batch_size: int = 4, root_path: str = "",
          forwarded_allow_ips: str | None = None, log_level: str = "info") -> None:
    """Run the server until interrupted (blocks)."""
    import uvicorn

    from ..default import default_model_dir
    from ..modelinfo import model_info

    if workers < 1 or batch_size < 1:
        raise ValueError("--workers and --batch-size must be at least 1")
    if not 0 <= port <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {port}")
    model_info(model or default_model_dir())  # fail now, with a clear message, if it is not a model directory
    threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
    os.environ[ENV] = json.dumps({"model": str(model) if model else None, "int8": int8, "limits": limits or {},
                                  "threads": threads, "batch_size": batch_size})
    uvicorn.run("framing.server.run:app_from_env", factory=True, host=host, port=port, workers=workers,
                root_path=root_path, proxy_headers=forwarded_allow_ips is not None,
                forwarded_allow_ips=forwarded_allow_ips, log_level=log_level, server_header=False)
