"""Under arq, a running task holds its in-progress key on a short lease, so a killed worker's task is taken
over in seconds, not after the longest function timeout (half an hour, for the whole-job tasks)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arq import create_pool, func
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from arq.worker import Worker

import app.jobs.worker as arq_worker

pytestmark = pytest.mark.same_on_both_databases  # Redis alone: no database (conftest)

LEASE = 1.5
LONGEST_TIMEOUT = 30 * 60  # what gives arq's own in-progress keys their half hour
# A worker process whose task runs until the worker is killed.
HOLDER = """
import asyncio, pathlib
from arq import func
from arq.connections import RedisSettings
from arq.worker import Worker
import app.jobs.worker as w
w.LEASE_SECONDS = {lease}

async def walk(ctx):
    pathlib.Path({started!r}).write_text(ctx["job_id"])
    await asyncio.sleep(3600)

w.with_leases(Worker(functions=[func(w.deferring(walk), name="walk", timeout={timeout})], keep_result=0,
                    poll_delay=0.05, redis_settings=RedisSettings.from_dsn({url!r}))).run()
"""


@pytest.fixture
async def arq_pool(redis_url):
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()


async def _run_until_the_queue_is_empty(pool, walk) -> None:
    """An in-process worker on leases, as `classify worker` runs them, with `walk` as its one task."""
    worker = arq_worker.with_leases(
        Worker(
            functions=[func(arq_worker.deferring(walk), name="walk", timeout=LONGEST_TIMEOUT)],
            redis_pool=pool,
            burst=True,
            poll_delay=0.05,
            keep_result=0,
            handle_signals=False,
        )
    )
    try:
        await asyncio.wait_for(worker.main(), timeout=20)
    finally:
        await worker.close()


async def _wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} not written in {timeout}s"
        await asyncio.sleep(0.05)


async def test_a_killed_workers_task_is_taken_over_within_the_lease(arq_pool, redis_url, tmp_path):
    await arq_pool.enqueue_job("walk", _job_id="import-1")
    started = tmp_path / "started"
    code = HOLDER.format(lease=LEASE, started=str(started), timeout=LONGEST_TIMEOUT, url=redis_url)
    holder = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await _wait_for(started, 30)
        await asyncio.sleep(LEASE)  # a renewal or two later, the key still lives on the short lease
        ttl_ms = await arq_pool.pttl(in_progress_key_prefix + "import-1")
        assert 0 < ttl_ms <= LEASE * 1000
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(10)
    killed_at = time.monotonic()

    taken_over: list[float] = []

    async def walk(ctx):
        taken_over.append(time.monotonic())

    await _run_until_the_queue_is_empty(arq_pool, walk)  # the killed worker's task is still in it
    assert taken_over and taken_over[0] - killed_at <= LEASE + 1.0


async def test_a_live_task_keeps_its_key_past_the_lease_and_lets_it_go_when_done(arq_pool, monkeypatch):
    monkeypatch.setattr(arq_worker, "LEASE_SECONDS", 0.6)
    seen: list[int] = []

    async def walk(ctx):
        for _ in range(4):  # 1.6 s: well past the lease, which renewals keep alive
            await asyncio.sleep(0.4)
            seen.append(await ctx["redis"].pttl(in_progress_key_prefix + ctx["job_id"]))

    await arq_pool.enqueue_job("walk", _job_id="import-2")
    await _run_until_the_queue_is_empty(arq_pool, walk)
    assert len(seen) == 4 and all(0 < ttl <= 600 for ttl in seen), seen
    assert not await arq_pool.exists(in_progress_key_prefix + "import-2")
