"""``framing serve``: the HTTP API and page (FastAPI + uvicorn)."""
from __future__ import annotations

import click

from ._util import clean_errors


@click.command("serve")
@click.option("--model", "-m", type=click.Path(exists=True, file_okay=False), help="Model directory (default: the "
              "bundled one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; 0.0.0.0 exposes the server "
              "to the network (put a reverse proxy with TLS in front, see docs/serve.md).")
@click.option("--port", default=8000, show_default=True, help="TCP port.")
@click.option("--int8", is_flag=True, help="Dynamic int8 quantisation (faster on CPU; no model-attributed evidence).")
@click.option("--workers", default=1, show_default=True, help="Processes, each with its own model copy and the CPU "
              "threads shared out.")
@click.option("--batch-size", default=4, show_default=True, help="Texts per model forward pass. Concurrent requests "
              "are pooled and sorted by length first; small batches waste little padding (docs/serve.md).")
@click.option("--max-texts", default=64, show_default=True, help="Most texts in one request.")
@click.option("--max-text-chars", default=10_000, show_default=True, help="Most characters in one text.")
@click.option("--max-request-chars", default=100_000, show_default=True, help="Most characters in one request.")
@click.option("--root-path", default="", metavar="PATH", help="URL prefix when a reverse proxy serves the app under "
              "a sub-path (e.g. /framing).")
@click.option("--forwarded-allow-ips", metavar="IPS", help="Trust X-Forwarded-* headers from these proxy addresses "
              "(comma-separated, or '*').")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]), default="info",
              show_default=True)
@clean_errors
def serve_cmd(model: str | None, host: str, port: int, int8: bool, workers: int, batch_size: int, max_texts: int, max_text_chars: int,
              max_request_chars: int, root_path: str, forwarded_allow_ips: str | None, log_level: str) -> None:
    """Serve the detector over HTTP: POST /v1/detect, GET /v1/model, GET /healthz,
    the page at /, OpenAPI docs at /docs.

    Concurrent requests are batched together for the model. Bad requests get a
    JSON 4xx error. Binds to 127.0.0.1 unless --host says otherwise. Needs
    `pip install "framing[serve]"`.
    """
    try:
        from ..server.run import serve
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise click.ClickException(f"framing serve needs the serve extra: pip install 'framing[serve]' ({exc})")
    for name, v in (("--max-texts", max_texts), ("--max-text-chars", max_text_chars),
                    ("--max-request-chars", max_request_chars)):
        if v < 1:
            raise click.BadParameter("must be at least 1", param_hint=name)
    click.echo(f"framing serve: loading {'the bundled model' if model is None else model}; then "
               f"http://{host}:{port}/ (page), /docs (API)", err=True)
    serve(model, host=host, port=port, int8=int8, workers=workers, batch_size=batch_size, root_path=root_path,
          forwarded_allow_ips=forwarded_allow_ips, log_level=log_level,
          limits={"max_texts": max_texts, "max_text_chars": max_text_chars, "max_request_chars": max_request_chars,
                  "max_body_bytes": max(2_000_000, 12 * max_request_chars)})
