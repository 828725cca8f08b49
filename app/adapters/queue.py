"""The in-process task queue: the same task functions arq runs, without Redis."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from app.adapters.sql.outage import OUTAGE_WAITS, is_outage, outage_wait
from app.domain.retry import RetryLater

log = structlog.get_logger("classify.queue")

TaskFunction = Callable[..., Awaitable[Any]]


class InProcessQueue:
    """asyncio workers that call `fn(ctx, *args)`; a task id already waiting or running is not queued twice."""

    def __init__(self, functions: dict[str, TaskFunction], concurrency: int = 4) -> None:
        self.functions = functions
        self.concurrency = concurrency
        self.ctx: dict[str, Any] = {}
        self._queue: asyncio.Queue[tuple[str, tuple[Any, ...], str | None]] = asyncio.Queue()
        self._pending: set[str] = set()
        self._tries: dict[str, int] = {}
        self._workers: list[asyncio.Task[None]] = []

    @property
    def backlog(self) -> int:
        return self._queue.qsize()

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        if name not in self.functions:
            raise KeyError(f"unknown task {name!r}")
        if job_id is not None:
            if job_id in self._pending:
                return
            self._pending.add(job_id)
        self._queue.put_nowait((name, args, job_id))

    def start(self, ctx: dict[str, Any]) -> None:
        self.ctx = ctx
        self._workers = [asyncio.create_task(self._work(), name=f"task-worker-{n}") for n in range(self.concurrency)]

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []

    async def join(self) -> None:
        await self._queue.join()

    def _defer(
        self, name: str, args: tuple[Any, ...], job_id: str | None, tries: int, seconds: float, reason: str
    ) -> bool:
        """Deferred, not slept on: the worker is free for other tasks meanwhile; the id stays pending."""
        log.info("task deferred", task=name, task_id=job_id, seconds=seconds, reason=reason)
        asyncio.get_running_loop().call_later(seconds, self._queue.put_nowait, (name, args, job_id))
        if job_id:
            self._tries[job_id] = tries + 1
        return True

    async def _work(self) -> None:
        while True:
            name, args, job_id = await self._queue.get()
            deferred = False
            tries = self._tries.get(job_id, 1) if job_id else 1
            try:
                await self.functions[name]({**self.ctx, "job_try": tries}, *args)
            except asyncio.CancelledError:
                raise
            except RetryLater as later:
                deferred = self._defer(name, args, job_id, tries, later.seconds, later.reason)
            except Exception as exc:
                if job_id and is_outage(exc) and tries <= len(OUTAGE_WAITS):  # a locked or restarting database
                    deferred = self._defer(name, args, job_id, tries, outage_wait(tries), "database unreachable")
                else:
                    # The database still says the work is not done, so the periodic sweep will queue it again.
                    log.exception("task failed", task=name, task_id=job_id)
            finally:
                if job_id is not None and not deferred:
                    self._pending.discard(job_id)
                    self._tries.pop(job_id, None)
                self._queue.task_done()
