"""The in-process queue: de-duplicates by task id, survives a failing task, and defers on RetryLater."""

import asyncio
import sqlite3
import time

from sqlalchemy.exc import OperationalError

from app.adapters.queue import InProcessQueue
from app.domain.retry import RetryLater


async def test_same_id_is_not_queued_twice_and_failures_do_not_stop_the_workers():
    calls: list[str] = []

    async def record(ctx, value):
        calls.append(value)
        if value == "boom":
            raise RuntimeError("a broken task")

    queue = InProcessQueue({"record": record}, concurrency=2)
    queue.start({})
    await queue.enqueue("record", "a", job_id="x")
    await queue.enqueue("record", "a", job_id="x")
    await queue.enqueue("record", "boom")
    await queue.enqueue("record", "b")
    await asyncio.wait_for(queue.join(), 5)
    await queue.stop()
    assert sorted(calls) == ["a", "b", "boom"]


async def test_retry_later_defers_the_task_without_holding_a_worker():
    attempts: list[float] = []

    async def flaky(ctx):
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RetryLater(0.3, "the service said 429")

    async def quick(ctx):
        attempts.append(-1.0)

    queue = InProcessQueue({"flaky": flaky, "quick": quick}, concurrency=1)
    queue.start({})
    await queue.enqueue("flaky", job_id="f")
    await asyncio.sleep(0.05)
    await queue.enqueue("quick")
    await queue.enqueue("flaky", job_id="f")  # still pending while deferred: not queued twice
    for _ in range(100):
        if len([a for a in attempts if a > 0]) == 2:
            break
        await asyncio.sleep(0.02)
    await queue.stop()
    real = [a for a in attempts if a > 0]
    assert len(real) == 2 and real[1] - real[0] >= 0.3
    assert attempts[1] == -1.0  # the single worker ran another task during the wait


async def test_a_task_that_finds_the_database_away_is_deferred_not_dropped():
    tries: list[int] = []

    async def needs_the_database(ctx):
        tries.append(ctx["job_try"])
        if ctx["job_try"] == 1:
            raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))

    async def broken(ctx):
        tries.append(-1)
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: photos"))

    queue = InProcessQueue({"needs_the_database": needs_the_database, "broken": broken}, concurrency=1)
    queue.start({})
    await queue.enqueue("broken", job_id="b")  # a fault of ours, not the database away: not tried again
    await queue.enqueue("needs_the_database", job_id="d")
    for _ in range(100):
        if len(tries) == 3:
            break
        await asyncio.sleep(0.05)
    await queue.stop()
    assert tries == [-1, 1, 2]
