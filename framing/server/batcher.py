"""Micro-batching: texts of concurrent requests are grouped into one ``detect_many`` call.

Requests put their texts on an asyncio queue; one worker task takes everything
queued (up to ``max_batch`` texts, waiting at most ``max_wait`` seconds for more
after the first), runs ``detect_many`` in a single worker thread, and hands each
request its slice of the results. While the model runs, new requests queue up
and form the next batch, so a busy server batches more, an idle one answers at
once. Requests asking for evidence and not are run as separate calls.

``detect_many`` sorts a call's texts by token length before cutting them into model
batches of ``batch_size``; small model batches of texts of similar length waste little
padding, which on CPU costs more than the per-batch overhead (docs/serve.md).
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

__all__ = ["MicroBatcher"]

_Item = tuple[Sequence[str], bool, "asyncio.Future[list[Any]]"]


class MicroBatcher:
    """``await submit(texts, evidence)`` returns ``detect_many(texts, evidence=evidence)``, batched with others."""

    def __init__(self, detect_many: Callable[..., list[Any]], *, max_batch: int = 64, max_wait: float = 0.002,
                 batch_size: int = 4) -> None:
        self._detect_many, self.max_batch, self.max_wait, self.batch_size = detect_many, max_batch, max_wait, batch_size
        self._queue: asyncio.Queue[_Item] | None = None
        self._task: asyncio.Task[None] | None = None
        self._pool: ThreadPoolExecutor | None = None
        self.batches = 0  # model calls made, for tests and monitoring
        self.texts = 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="framing-model")
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    async def submit(self, texts: Sequence[str], evidence: bool) -> list[Any]:
        if self._queue is None:
            raise RuntimeError("the batcher is not started")
        fut: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        await self._queue.put((texts, evidence, fut))
        return await fut

    async def _collect(self) -> list[_Item]:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        items = [await self._queue.get()]
        n = len(items[0][0])
        deadline = loop.time() + self.max_wait
        while n < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                left = deadline - loop.time()
                if left <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._queue.get(), left)
                except asyncio.TimeoutError:
                    break
            items.append(item)
            n += len(item[0])
        return items

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            items = [it for it in await self._collect() if not it[2].done()]  # skip requests already cancelled
            for flag in (False, True):
                group = [it for it in items if it[1] is flag]
                if not group:
                    continue
                texts = [t for it in group for t in it[0]]
                try:
                    results = await loop.run_in_executor(self._pool, self._call, texts, flag)
                except Exception as exc:  # noqa: BLE001 - handed to every waiting request
                    for _, _, fut in group:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                pos = 0
                for t, _, fut in group:
                    if not fut.done():
                        fut.set_result(results[pos:pos + len(t)])
                    pos += len(t)

    def _call(self, texts: list[str], evidence: bool) -> list[Any]:
        self.batches += 1
        self.texts += len(texts)
        return self._detect_many(texts, batch_size=self.batch_size, evidence=evidence)
