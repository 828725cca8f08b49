"""arq worker settings: `classify worker` runs the task functions of app/jobs/tasks.py on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from arq.worker import Retry, Worker
from redis.exceptions import RedisError

from app.adapters.arq_queue import WORKER_REPORT_SECONDS
from app.adapters.sql.migrate import not_ready, shown_url
from app.adapters.sql.outage import is_outage, outage_wait
from app.bootstrap import Container, bootstrap
from app.domain import retry
from app.domain.retry import RetryLater
from app.jobs.tasks import (
    import_file,
    import_google_session,
    import_link,
    publish_google_album,
    remove_photos,
    score_photo,
    sweep,
    tag_photo,
)
from app.logs import log
from app.settings import Settings

# Why these numbers:
# - JOB_TIMEOUT: one photo's decode and score takes well under a second, one file's import a few; a task
#   still running after a minute is stuck. (How soon a killed worker's task is taken over is LEASE_SECONDS.)
# - MAX_TRIES: a task that keeps failing (not a photo that cannot be decoded: that is recorded, not raised)
#   is given up after so many runs; the periodic sweep queues what the database still says is undone. It is
#   the retry policy's own count: a service that stays busy is given up on at that try (retry.decide), which
#   fails the job with its reason and lets it go on later. With one try fewer, arq dropped the task first and
#   the job said "running" until the sweep started it over, every 3 minutes, for good.
#   A task that walks a job's items (the WHOLE_JOB ones below) counts its tries since it last got an item
#   further (waiting.tries_since_progress), so a long import can meet a rate limit many times; arq's own count
#   for it is only a bound on a task that gets nowhere without ever reaching the policy: WHOLE_JOB_MAX_TRIES.
# - keep_result=0: results live in the database, and a kept result would block re-queueing the same id.
# - WHOLE_JOB_TIMEOUT: an import from Google Photos, Drive or Dropbox and an album upload are one task
#   that walks the job's items, recording each one in the database as it goes (so a re-run resumes, never
#   repeats). A big folder takes minutes; half an hour bounds a stuck one.
# - LEASE_SECONDS: other workers skip a task while its in-progress key exists, and arq gives that key the
#   longest timeout of any function plus 10 s, whatever the task: with the whole-job timeout, half an hour
#   for every task, so a killed worker's photos would wait that long. Each task holds a short lease instead:
#   the worker sets the key for LEASE_SECONDS (with_leases) and the task renews it every third of that
#   while it runs. A task of a dead worker is taken over within LEASE_SECONDS; a live one keeps its key
#   however long it runs.
JOB_TIMEOUT = 60
WHOLE_JOB_TIMEOUT = 30 * 60
MAX_TRIES = retry.MAX_TRIES
WHOLE_JOB_MAX_TRIES = 100
LEASE_SECONDS = 30.0
RECONNECT_FIRST, RECONNECT_LONGEST = 1.0, 30.0  # seconds between starts of a worker while Redis is away
# arq polls the queue every poll_delay (0.5 s by default) and starts at most max_jobs tasks a poll: with photos
# scored in 20 ms, a worker spent most of its time waiting for its next poll (bench/bench_worker_poll.py).
POLL_SECONDS = 0.05
MAX_JOBS_PER_SCORER = 2  # tasks at once for each scoring process: one decoding while the other is stored


def arq_worker(settings: Settings, **options: Any) -> Worker:
    """The arq worker that runs the task functions, its tasks on leases; `options` as arq's Worker takes them."""
    return with_leases(Worker(**worker_settings(settings), **options))


def with_leases(worker: Worker) -> Worker:
    """`worker`, setting in-progress keys for LEASE_SECONDS; the tasks renew them (`leased`)."""
    worker.in_progress_timeout_s = LEASE_SECONDS
    return worker


@contextlib.asynccontextmanager
async def leased(ctx: dict[str, Any]) -> AsyncIterator[None]:
    """Hold the running task's in-progress key on a short lease, renewed while the task runs."""
    redis, job_id = ctx.get("redis"), ctx.get("job_id")
    if redis is None or job_id is None:
        yield
        return
    key = in_progress_key_prefix + job_id

    async def renew() -> None:
        while True:
            with contextlib.suppress(RedisError):  # a blip: the next renewal comes well before the lease ends
                await redis.pexpire(key, int(LEASE_SECONDS * 1000))
            await asyncio.sleep(LEASE_SECONDS / 3)

    renewal = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewal.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewal


def deferring(task: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The same task for arq, on a lease (see LEASE_SECONDS); our RetryLater becomes arq's Retry, which
    re-queues with a delay, and so does the database being unreachable: a restart of a few seconds failed every
    task taken meanwhile, left to the sweep minutes later."""

    @functools.wraps(task)
    async def run(ctx: dict[str, Any], *args: Any) -> Any:
        async with leased(ctx):
            try:
                return await task(ctx, *args)
            except RetryLater as later:
                raise Retry(defer=later.seconds) from later
            except Exception as exc:
                if not is_outage(exc):
                    raise
                raise Retry(defer=outage_wait(int(ctx.get("job_try", 1)))) from exc

    return run


def worker_container(settings: Settings) -> Container:
    # This process runs tasks whatever CLASSIFY_RUN_WORKER says for web processes, so photos its imports
    # bring in are scored as they arrive (one decode for thumb and score).
    return bootstrap(dataclasses.replace(settings, run_worker=True))


async def startup(ctx: dict[str, Any]) -> None:
    if "container" not in ctx:  # `run_worker` brings one that outlives each of its workers
        ctx["container"] = worker_container(Settings.from_env())
        ctx["owns_container"] = True


async def shutdown(ctx: dict[str, Any]) -> None:
    if ctx.get("owns_container"):
        await ctx["container"].close()


async def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """`classify worker`: arq's worker, started again whenever Redis goes away.

    arq's worker ends on the first error talking to Redis (a restart, a failover, a network blip) and does not
    start while Redis is down, so a short outage stopped all scoring until someone restarted every worker by
    hand. This waits and starts a new one instead, 1 s after the first failure and up to RECONNECT_LONGEST
    apart, keeping the database pool and the scoring processes between them. What the lost worker was
    running is taken over when its lease ends, as after a crash. SIGINT or SIGTERM ends it.
    """
    _require_redis(settings)  # before the database: without Redis there is nothing to work for
    container = worker_container(settings)
    wait, stopped = RECONNECT_FIRST, asyncio.Event()
    try:
        if problem := await not_ready(container.engine, settings.database_url):
            raise SystemExit(
                f"classify worker: the database at DATABASE_URL={shown_url(settings.database_url)} {problem}. "
                "A worker uses the web server's database: give it the DATABASE_URL `classify serve` has."
            )
        while True:
            worker = arq_worker(settings, burst=burst, ctx={"container": container})
            started = time.monotonic()
            try:
                await worker.async_run()
                return
            except asyncio.CancelledError:  # arq's signal handler cancelled it: stop
                return
            except (RedisError, OSError) as exc:
                wait = RECONNECT_FIRST if time.monotonic() - started > RECONNECT_LONGEST else wait
                log.warning("redis unreachable; the worker starts again", seconds=wait, error=str(exc))
            finally:
                await _let_go(worker)
            for signum in (signal.SIGINT, signal.SIGTERM):  # between workers, arq's handlers are gone
                asyncio.get_running_loop().add_signal_handler(signum, stopped.set)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopped.wait(), wait)
            if stopped.is_set():
                return
            wait = min(2 * wait, RECONNECT_LONGEST)
    finally:
        await container.close()


async def _let_go(worker: Worker) -> None:
    """What arq's close() does, short of what needs Redis up: let running tasks end, drop the connections."""
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    if worker.pool is not None:
        with contextlib.suppress(RedisError, OSError):
            await worker.pool.delete(worker.health_check_key)
        with contextlib.suppress(RedisError, OSError):
            await worker.pool.aclose(close_connection_pool=True)


def _require_redis(settings: Settings) -> None:
    if not settings.redis_url:
        raise SystemExit("classify worker needs REDIS_URL (without it, `classify serve` runs the tasks itself)")


def worker_settings(settings: Settings) -> dict[str, Any]:
    _require_redis(settings)
    return {
        "functions": [
            *(
                func(deferring(f), name=f.__name__, timeout=JOB_TIMEOUT, max_tries=MAX_TRIES)
                for f in (score_photo, import_file, tag_photo)
            ),
            *(
                func(deferring(f), name=f.__name__, timeout=WHOLE_JOB_TIMEOUT, max_tries=WHOLE_JOB_MAX_TRIES)
                for f in (import_google_session, publish_google_album, import_link, remove_photos)
            ),
        ],
        "cron_jobs": [cron(deferring(sweep), minute=set(range(0, 60, 3)), run_at_startup=True, unique=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": _redis_settings(settings.redis_url),
        "keep_result": 0,
        "job_timeout": JOB_TIMEOUT,
        "max_tries": MAX_TRIES,
        "max_jobs": max(2, (settings.score_workers or 2) * MAX_JOBS_PER_SCORER),
        "poll_delay": POLL_SECONDS,
        "health_check_interval": WORKER_REPORT_SECONDS,  # what /health/services reads to see workers
    }


def _redis_settings(redis_url: str) -> RedisSettings:
    try:
        return RedisSettings.from_dsn(redis_url)
    except (RuntimeError, ValueError) as exc:  # arq: "invalid DSN scheme"
        raise SystemExit(f"classify worker: REDIS_URL is not a Redis URL (redis://host:port/db): {exc}") from None
