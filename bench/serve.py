"""Benchmark: ``framing serve`` under concurrent clients against ``detect_many`` on the same texts, same run.

The baseline is one ``Detector.detect_many(texts, batch_size=32, evidence=False)`` call in
this process (the whole list at once: the best case, length-sorted batches), timed before
and after the server run and averaged (other jobs on a shared machine change its speed). The
same model is served by ``framing serve`` (uvicorn, one worker, 127.0.0.1) and ``--clients``
concurrent clients (asyncio + httpx, keep-alive) post the same texts, ``--per-request`` per
request, ``evidence: false``, until all are done. Both use the same CPU threads; the
clients run on the same machine. Target: served texts/s >= 0.8 x detect_many's.

    python bench/serve.py [--model DIR] [--n 1000] [--clients 16] [--per-request 1] [--batch-size 4] [--json out.json]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 0.8


def baseline(det: object, texts: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (all threads of this process) of one detect_many call."""
    t0, c0 = time.perf_counter(), time.process_time()
    det.detect_many(texts, batch_size=32, evidence=False)  # type: ignore[attr-defined]
    return time.perf_counter() - t0, time.process_time() - c0


async def clients(url: str, texts: list[str], n_clients: int, per: int) -> float:
    import httpx

    chunks = [texts[i:i + per] for i in range(0, len(texts), per)]
    queue: asyncio.Queue[list[str]] = asyncio.Queue()
    for c in chunks:
        queue.put_nowait(c)
    done = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal done
        while True:
            try:
                chunk = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            r = await client.post(url + "/v1/detect", json={"texts": chunk, "evidence": False})
            r.raise_for_status()
            done += len(r.json()["results"])

    limits = httpx.Limits(max_connections=n_clients, max_keepalive_connections=n_clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await client.post(url + "/v1/detect", json={"texts": texts[:32], "evidence": False})  # warm-up
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(n_clients)))
        seconds = time.perf_counter() - t0
    assert done == len(texts), (done, len(texts))
    return seconds


def serve(model: str, batch_size: int) -> tuple[subprocess.Popen, str, object]:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tempfile.TemporaryFile("w+")
    proc = subprocess.Popen([sys.executable, "-m", "framing", "serve", "--model", model, "--port", str(port),
                             "--log-level", "warning", "--batch-size", str(batch_size)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"framing serve exited: {log.read()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url, log
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("framing serve did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model directory (default: the bundled one)")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--per-request", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=4, help="framing serve --batch-size")
    ap.add_argument("--json")
    a = ap.parse_args()
    sys.path[:0] = [str(REPO), str(REPO / "bench")]  # this checkout's framing, and bench/detect.py
    from detect import load_texts

    from framing.default import default_model_dir

    model = a.model or str(default_model_dir())
    texts, origin = load_texts(a.n)
    import torch

    print(f"{len(texts)} texts ({origin}); {torch.get_num_threads()} torch threads; model {model}", file=sys.stderr)
    from framing.detector import Detector

    det = Detector.from_pretrained(model)
    det.detect_many(texts[:64], evidence=False)  # warm-up
    import psutil

    (before, cpu_before) = baseline(det, texts)
    proc, url, _log = serve(model, a.batch_size)
    try:
        server = psutil.Process(proc.pid)
        c0 = sum(server.cpu_times()[:2])
        served = asyncio.run(clients(url, texts, a.clients, a.per_request))
        served_cpu = sum(server.cpu_times()[:2]) - c0  # includes the warm-up request
    finally:
        proc.terminate()
        proc.wait(30)
    (after, cpu_after) = baseline(det, texts)  # before and after: other jobs on a shared machine change its speed
    base, base_cpu = (before + after) / 2, (cpu_before + cpu_after) / 2
    res = {"texts": len(texts), "origin": origin, "clients": a.clients, "texts_per_request": a.per_request,
           "cpus": os.cpu_count(), "detect_many_texts_per_s": round(len(texts) / base, 1),
           "detect_many_before_after_texts_per_s": [round(len(texts) / before, 1), round(len(texts) / after, 1)],
           "serve_texts_per_s": round(len(texts) / served, 1), "ratio": round(base / served, 3), "target": TARGET,
           "cpu_seconds_per_1000_texts": {"detect_many": round(1000 * base_cpu / len(texts), 1),
                                          "serve": round(1000 * served_cpu / len(texts), 1)},
           "cpu_ratio": round(base_cpu / served_cpu, 3), "model_batch_size": a.batch_size}
    print(f"detect_many: {res['detect_many_texts_per_s']} texts/s (before/after the server run: "
          f"{res['detect_many_before_after_texts_per_s']}); framing serve, {a.clients} clients x "
          f"{a.per_request} text/request: {res['serve_texts_per_s']} texts/s; ratio {res['ratio']:.2f} "
          f"(target >= {TARGET}); CPU-time ratio {res['cpu_ratio']:.2f} (detect_many CPU s / server CPU s, "
          "robust to other jobs on the machine)")
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
