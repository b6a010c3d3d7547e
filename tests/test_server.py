"""framing serve: the API, the page, hostile requests and batching, on the tiny random model."""
from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed (pip install -e '.[dev]')")
from fastapi.testclient import TestClient  # noqa: E402

from .app_helpers import LABELS, start_server, stop_server, tiny_model  # noqa: E402


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model(tmp_path_factory.mktemp("serve_model"))


@pytest.fixture(scope="module")
def client(model_dir: Path) -> Iterator[TestClient]:
    import torch

    from framing.server import Limits, load_app

    before = torch.get_num_threads()
    app = load_app(str(model_dir), limits={"max_texts": 8, "max_text_chars": 200, "max_request_chars": 500,
                                            "max_body_bytes": 4000}, threads=1)
    assert isinstance(app.state.limits, Limits)
    with TestClient(app) as c:
        yield c
    torch.set_num_threads(before)


def test_detect_model_health(client: TestClient, model_dir: Path) -> None:
    from framing import Detector

    texts = ["Those people are rats.", "呢班曱甴全部都係", "这些废青就是蟑螂", ""]
    r = client.post("/v1/detect", json={"texts": texts})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["labels"] == list(LABELS) and body["model"]["version"].startswith("model@")
    assert body["model"]["thresholds"] == {"dehumanising": 0.0, "delegitimising": 1.0}
    want = [d.to_dict() for d in Detector.from_pretrained(model_dir).detect_many(texts)]
    assert body["results"] == json.loads(json.dumps(want))  # exactly detect_many's Detection.to_dict()
    assert body["results"][0]["labels"] == ["dehumanising"] and body["results"][0]["evidence"]
    r = client.post("/v1/detect", json={"texts": texts[:1], "evidence": False})
    assert r.json()["results"][0]["evidence"] == []
    assert client.get("/v1/model").json() == body["model"]
    assert client.get("/healthz").json() == {"status": "ok", "model": body["model"]["version"]}


def test_openapi_docs_and_page_have_no_external_assets(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/v1/detect", "/v1/model", "/healthz"} <= set(spec["paths"])
    docs = client.get("/docs").text
    assert "swagger-ui-bundle.js" in docs and "http" not in docs.replace("http-equiv", "")
    assert '"validatorUrl": null' in docs
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    for asset in ("static/page.js", "static/page.css"):
        assert asset in page.text and client.get("/" + asset).status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    assert "innerHTML" not in client.get("/static/page.js").text


@pytest.mark.parametrize("body, status, code", [
    (b"{not json", 400, "invalid_json"),
    (b"", 400, "invalid_json"),
    (b"[]", 422, "invalid_request"),
    (b'"texts"', 422, "invalid_request"),
    (b'{"texts": "one string"}', 422, "invalid_request"),
    (b'{"texts": [1, 2]}', 422, "invalid_request"),
    (b'{"texts": [null]}', 422, "invalid_request"),
    (b'{"texts": [{"a": 1}]}', 422, "invalid_request"),
    (b'{"texts": ["a"], "evidence": "yes"}', 422, "invalid_request"),
    (b'{"text": ["a"]}', 422, "invalid_request"),
    (b'{"texts": []}', 422, "invalid_request"),
    (b'{"texts": ["\\ud800"]}', 422, "invalid_text"),
    (json.dumps({"texts": ["a"] * 9}).encode(), 413, "too_many_texts"),
    (json.dumps({"texts": ["a" * 201]}).encode(), 413, "text_too_long"),
    (json.dumps({"texts": ["a" * 200] * 3}).encode(), 413, "request_too_long"),
    (json.dumps({"texts": ["a"], "pad": "x" * 5000}).encode(), 413, "body_too_large"),
    pytest.param(b'{"texts": ' + b"[" * 1900 + b"]" * 1900 + b"}", 400, "invalid_json", id="deep-nesting"),
])
def test_bad_requests_get_clear_json_4xx(client: TestClient, body: bytes, status: int, code: str) -> None:
    r = client.post("/v1/detect", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["status"] == status and err["message"]


def test_other_bad_requests(client: TestClient) -> None:
    r = client.post("/v1/detect", content=b'{"texts": ["a"]}', headers={"content-type": "text/plain"})
    assert 400 <= r.status_code < 500 and "error" in r.json()
    assert client.get("/v1/detect").json()["error"]["code"] == "method_not_allowed"
    assert client.get("/nope").json()["error"]["code"] == "not_found"
    big = json.dumps({"texts": ["a"]}).encode() + b" " * 5000  # a lying client: no Content-Length, too many bytes

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 1000):
            yield big[i:i + 1000]

    r = client.post("/v1/detect", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_concurrent_requests_are_batched_and_answered_in_order(client: TestClient) -> None:
    batcher = client.app.state.batcher  # type: ignore[attr-defined]
    before_batches, before_texts = batcher.batches, batcher.texts
    texts = [f"text number {i} rats" for i in range(48)]
    out: dict[int, Any] = {}

    def one(i: int) -> None:
        out[i] = client.post("/v1/detect", json={"texts": texts[i:i + 3], "evidence": False}).json()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(0, 48, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(out) == list(range(0, 48, 3))
    for i, body in out.items():
        assert [r["text"] for r in body["results"]] == texts[i:i + 3]
    assert batcher.texts - before_texts == 48
    assert batcher.batches - before_batches < 16  # 16 requests, fewer model calls


@pytest.mark.parametrize("workers", [1, 2])
def test_framing_serve_on_uvicorn(model_dir: Path, workers: int) -> None:
    import httpx

    proc, url = start_server(model_dir, "--workers", str(workers))
    try:
        r = httpx.post(url + "/v1/detect", json={"texts": ["Those people are rats."]}, timeout=30)
        assert r.status_code == 200 and r.json()["results"][0]["labels"] == ["dehumanising"]
        r = httpx.post(url + "/v1/detect", content=b"{", headers={"content-type": "application/json"}, timeout=30)
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
        assert "server" not in r.headers
    finally:
        stop_server(proc)


def test_serve_bad_options_are_clear_errors(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from framing.cli import cli

    r = CliRunner().invoke(cli, ["serve", "--model", str(tmp_path)])
    assert r.exit_code == 1 and "is not a framing model directory" in r.output
    r = CliRunner().invoke(cli, ["serve", "--max-texts", "0"])
    assert r.exit_code == 2 and "--max-texts" in r.output
