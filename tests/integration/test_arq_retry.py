"""Under arq, RetryLater re-queues the task with a delay (arq's Retry), the same as in-process."""

import time
from datetime import UTC, datetime

from arq import create_pool, func
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy.ext.asyncio import create_async_engine

from app.domain import retry
from app.domain.retry import RetryLater
from app.jobs.worker import deferring, worker_settings
from tests.conftest import make_settings
from tests.support.servers import free_port

attempts: list[float] = []


async def flaky(ctx):
    attempts.append(time.monotonic())
    if len(attempts) == 1:
        raise RetryLater(0.5, "the service said 429")
    return "ok"


async def run_once(redis_url: str, task, max_tries: int) -> None:
    """Queue `task` and run a burst worker over it until it ends, tries and deferrals included."""
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        await pool.flushdb()
        await pool.enqueue_job(task.__name__, _job_id=f"{task.__name__}-test")
        worker = Worker(
            functions=[func(deferring(task), name=task.__name__, max_tries=max_tries)],
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


async def test_retry_later_becomes_a_deferred_arq_retry(redis_url):
    await run_once(redis_url, flaky, max_tries=3)
    assert len(attempts) == 2 and attempts[1] - attempts[0] >= 0.5


database_attempts: list[float] = []


async def needs_the_database(ctx):
    """Fails twice as a task does while PostgreSQL restarts (a real refused connection), then works."""
    database_attempts.append(time.monotonic())
    if len(database_attempts) <= 2:
        engine = create_async_engine(f"postgresql+asyncpg://classify@127.0.0.1:{free_port()}/classify")
        try:
            async with engine.connect():
                pass
        finally:
            await engine.dispose()
    return "ok"


async def test_a_task_that_finds_the_database_away_is_tried_again_shortly(redis_url):
    """Every task a worker took while the database restarted failed for good, left to the sweep minutes later."""
    await run_once(redis_url, needs_the_database, max_tries=5)
    first, second, third = database_attempts
    assert second - first >= 1.0 and third - second >= 2.0  # OUTAGE_WAITS, then it ran


given_up: list[str] = []


async def import_link(ctx):
    """A whole-job task against a service that keeps answering 503, as retry.decide sees it."""
    try:
        now = datetime.now(UTC)
        raise retry.retry_later(retry.Answer(503), int(ctx.get("job_try", 1)), service="dropbox", now=now, jitter=0)
    except retry.GiveUp as exc:
        given_up.append(str(exc))


async def test_a_service_that_stays_busy_is_given_up_on_before_arq_drops_the_task(redis_url, tmp_path, monkeypatch):
    """arq allowed 5 tries and the retry policy gives up at its 6th: arq dropped the task first, and the job
    said "running" until the sweep started it over, every 3 minutes, for good (outside review)."""
    monkeypatch.setattr(retry, "FIRST_BACKOFF_SECONDS", 0.01)
    settings = make_settings(tmp_path / "data", "sqlite+aiosqlite:///:memory:", redis_url=redis_url)
    [tries] = [f.max_tries for f in worker_settings(settings)["functions"] if f.name == "import_link"]
    await run_once(redis_url, import_link, max_tries=tries)
    assert given_up == ["Dropbox still answered 503 after 6 tries."]
