"""Under arq, RetryLater re-queues the task with a delay (arq's Retry), the same as in-process."""

import time

from arq import create_pool, func
from arq.connections import RedisSettings
from arq.worker import Worker

from app.domain.retry import RetryLater
from app.jobs.worker import deferring

attempts: list[float] = []


async def flaky(ctx):
    attempts.append(time.monotonic())
    if len(attempts) == 1:
        raise RetryLater(0.5, "the service said 429")
    return "ok"


async def test_retry_later_becomes_a_deferred_arq_retry(redis_url):
    settings = RedisSettings.from_dsn(redis_url)
    pool = await create_pool(settings)
    try:
        await pool.flushdb()
        await pool.enqueue_job("flaky", _job_id="retry-test")
        worker = Worker(
            functions=[func(deferring(flaky), name="flaky", max_tries=3)],
            redis_pool=pool,
            burst=True,
            poll_delay=0.05,
            keep_result=0,
            handle_signals=False,
        )
        await worker.main()
        await worker.close()
    finally:
        await pool.flushdb()
        await pool.aclose()
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 0.5
