#!/usr/bin/env python3
"""How fast one arq worker drains a queue of short tasks, at arq's default poll delay and at ours.

arq polls the queue every `poll_delay` seconds and starts at most `max_jobs` tasks a poll, so with tasks that
take 20 ms (one photo's decode and score on a 640-px photo) a worker waits for its next poll far longer than
it works. The stand-in task sleeps for TASK_SECONDS; a real Redis server is started on 127.0.0.1 and dropped
afterwards. Prints tasks/s for each poll delay, medians of --repeats runs, and their ratio to arq's default.

    .venv/bin/python bench/bench_worker_poll.py [--tasks 200] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from arq import create_pool, func
from arq.connections import RedisSettings
from arq.worker import Worker

from app.jobs.worker import MAX_JOBS_PER_SCORER, POLL_SECONDS
from tests.support.servers import redis_server

TASK_SECONDS = 0.02
ARQ_DEFAULT_POLL = 0.5
SCORERS = 1  # CLASSIFY_SCORE_WORKERS on a small VM


async def _stand_in(ctx: dict) -> None:
    await asyncio.sleep(TASK_SECONDS)


async def drain(url: str, tasks: int, poll_delay: float) -> float:
    """Tasks per second for one worker to run `tasks` queued tasks."""
    settings = RedisSettings.from_dsn(url)
    pool = await create_pool(settings)
    await pool.flushdb()
    for i in range(tasks):
        await pool.enqueue_job("_stand_in", _job_id=f"t{i}")
    worker = Worker(
        functions=[func(_stand_in, name="_stand_in")],
        redis_settings=settings,
        burst=True,
        poll_delay=poll_delay,
        max_jobs=max(2, SCORERS * MAX_JOBS_PER_SCORER),
        keep_result=0,
        handle_signals=False,
        log_results=False,
    )
    started = time.perf_counter()
    await asyncio.wait_for(worker.async_run(), timeout=300)
    elapsed = time.perf_counter() - started
    await worker.close()
    await pool.aclose()
    return tasks / elapsed


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    with redis_server() as url:
        rates: dict[float, list[float]] = {ARQ_DEFAULT_POLL: [], POLL_SECONDS: []}
        for _ in range(a.repeats):
            for delay in rates:  # interleaved, so a noisy moment falls on both
                rates[delay].append(await drain(url, a.tasks, delay))
    base = statistics.median(rates[ARQ_DEFAULT_POLL])
    for delay, got in rates.items():
        rate = statistics.median(got)
        ratio = rate / base
        print(f"poll every {delay:.2f} s: {rate:6.1f} tasks/s (median of {a.repeats}), {ratio:.2f}x arq's default")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
