"""The HTTP API and page of ``framing serve``: a FastAPI app around one Detector and a :class:`MicroBatcher`.

Routes: ``POST /v1/detect``, ``GET /v1/model``, ``GET /healthz``, ``GET /`` (the page),
``GET /docs`` (Swagger UI served from the ``swagger-ui-bundle`` package, no CDN) and
``/openapi.json``. Every error is JSON ``{"error": {"status", "code", "message"}}``;
bad input is a 4xx, never a 500.
"""
from __future__ import annotations

import re
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from starlette.exceptions import HTTPException

from .batcher import MicroBatcher
from .limits import BodyLimit

__all__ = ["Limits", "create_app"]

STATIC = Path(__file__).with_name("static")
_SURROGATE = re.compile("[\ud800-\udfff]")
PAGE_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


@dataclass(frozen=True)
class Limits:
    """Request limits; beyond them the API answers 413 with a JSON error."""

    max_texts: int = 64
    max_text_chars: int = 10_000
    max_request_chars: int = 100_000
    max_body_bytes: int = 2_000_000


class DetectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[StrictStr] = Field(description="Texts to score, in any of English, Simplified or Traditional Chinese.",
                                   examples=[["Those people are vermin.", "呢班曱甴"]])
    evidence: StrictBool = Field(True, description="Add evidence spans (offsets index each original text).")


class EvidenceOut(BaseModel):
    label: str
    start: int = Field(description="Offset in code points (Python str indices) of the original text.")
    end: int
    surface: str
    source: str = Field(description="'lexicon' (a cue term) or 'model' (model attribution).")
    term: str | None = None
    weight: float | None = None


class DetectionOut(BaseModel):
    text: str
    labels: list[str]
    scores: dict[str, float]
    language: str
    evidence: list[EvidenceOut]


class ModelOut(BaseModel):
    name: str
    version: str
    framing_version: str
    base_model: str | None
    labels: list[str]
    thresholds: dict[str, float]
    lang_thresholds: dict[str, dict[str, float]]
    quantize: str | None


class DetectResponse(BaseModel):
    model: ModelOut
    results: list[DetectionOut]


class ErrorOut(BaseModel):
    error: dict[str, Any]


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "code": code, "message": message}}, status_code=status)


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    errs = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errs):
        return 400, "invalid_json", "the request body is not valid JSON"
    if any(e.get("type") == "missing" and tuple(e.get("loc", ())) == ("body",) for e in errs):
        return 400, "invalid_json", 'the request body is empty; send JSON {"texts": [str, ...]}'
    parts = []
    for e in errs[:5]:
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
        parts.append(f"{loc}: {e.get('msg', 'invalid')}")
    more = f" (and {len(errs) - 5} more)" if len(errs) > 5 else ""
    return 422, "invalid_request", "; ".join(parts) + more + ' (expected {"texts": [str, ...], "evidence": bool})'


def create_app(detector: Any, model: dict[str, Any], *, limits: Limits = Limits(), max_batch: int = 64,
               max_wait: float = 0.002, batch_size: int = 4) -> FastAPI:
    """The app serving ``detector``; ``model`` is :func:`framing.modelinfo.model_info` of its directory."""
    batcher = MicroBatcher(detector.detect_many, max_batch=max_batch, max_wait=max_wait, batch_size=batch_size)
    info = {**{k: model.get(k) for k in ModelOut.model_fields if k != "quantize"},
            "quantize": getattr(detector, "quantize", None)}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="framing", version=str(model.get("framing_version")), lifespan=lifespan, docs_url=None,
                  redoc_url=None, description="Detect dehumanising and delegitimising frames in English and Chinese.")
    app.state.batcher, app.state.limits = batcher, limits
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes, paths=("/v1/",))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(*_validation_message(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = {400: "invalid_json", 404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 400 and "parsing the body" in message:  # FastAPI's words for e.g. too deep nesting
            message = "the request body could not be parsed as JSON (nested too deeply?)"
        return error(exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:  # a bug, not bad input
        return error(500, "internal_error", f"internal error: {type(exc).__name__}")

    bad = {413: {"model": ErrorOut, "description": "Too many texts or characters"},
           422: {"model": ErrorOut, "description": "Wrong shape or types"},
           400: {"model": ErrorOut, "description": "Invalid JSON"}}

    @app.post("/v1/detect", response_model=DetectResponse, responses=bad)  # type: ignore[arg-type]
    async def detect(req: DetectRequest) -> Any:
        """Score texts: labels over threshold, calibrated scores, language and evidence spans per text."""
        texts = req.texts
        if not texts:
            return error(422, "invalid_request", "texts: give at least one text")
        if len(texts) > limits.max_texts:
            return error(413, "too_many_texts", f"texts: {len(texts)} texts; at most {limits.max_texts} per request")
        for i, t in enumerate(texts):
            if len(t) > limits.max_text_chars:
                return error(413, "text_too_long", f"texts[{i}]: {len(t)} characters; at most "
                             f"{limits.max_text_chars} per text")
            if _SURROGATE.search(t):
                return error(422, "invalid_text", f"texts[{i}]: unpaired surrogate (a bad \\u escape)")
        total = sum(map(len, texts))
        if total > limits.max_request_chars:
            return error(413, "request_too_long", f"texts: {total} characters in all; at most "
                         f"{limits.max_request_chars} per request")
        dets = await batcher.submit(texts, req.evidence)
        return JSONResponse({"model": info, "results": [d.to_dict() for d in dets]})

    @app.get("/v1/model", response_model=ModelOut)
    async def model_route() -> Any:
        """The model answering: name, version (weights hash), labels and thresholds."""
        return JSONResponse(info)

    @app.get("/v1/limits")
    async def limits_route() -> Any:
        """The request limits of this server."""
        return JSONResponse(asdict(limits))

    @app.get("/healthz")
    async def healthz() -> Any:
        """Liveness: 200 once the model is loaded and the batcher runs."""
        return JSONResponse({"status": "ok", "model": info["version"]})

    @app.get("/", include_in_schema=False)
    async def page() -> Any:
        return FileResponse(STATIC / "index.html", media_type="text/html",
                            headers={"Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _docs(app)
    return app


def _docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the swagger-ui-bundle package's files (no CDN)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - part of the serve extra
        return
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(openapi_url=f"{root}/openapi.json", title="framing API",
                                   swagger_js_url=f"{root}/docs/assets/swagger-ui-bundle.js",
                                   swagger_css_url=f"{root}/docs/assets/swagger-ui.css",
                                   swagger_favicon_url=f"{root}/docs/assets/favicon-32x32.png",
                                   swagger_ui_parameters={"validatorUrl": None})  # no call to an online validator
