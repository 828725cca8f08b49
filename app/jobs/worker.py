"""arq worker settings: `classify worker` runs the task functions of app/jobs/tasks.py on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from arq.worker import Retry, Worker
from redis.exceptions import RedisError

from app.bootstrap import bootstrap
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
from app.settings import Settings

# Why these numbers:
# - JOB_TIMEOUT: one photo's decode and score takes well under a second, one file's import a few; a task
#   still running after a minute is stuck. (How soon a killed worker's task is taken over is LEASE_SECONDS.)
# - MAX_TRIES: a task that keeps failing (not a photo that cannot be decoded: that is recorded, not raised)
#   is given up after 5 runs; the periodic sweep queues what the database still says is undone.
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
MAX_TRIES = 5
LEASE_SECONDS = 30.0


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
    re-queues with a delay."""

    @functools.wraps(task)
    async def run(ctx: dict[str, Any], *args: Any) -> Any:
        async with leased(ctx):
            try:
                return await task(ctx, *args)
            except RetryLater as later:
                raise Retry(defer=later.seconds) from later

    return run


async def startup(ctx: dict[str, Any]) -> None:
    # This process runs tasks whatever CLASSIFY_RUN_WORKER says for web processes, so photos its imports
    # bring in are scored as they arrive (one decode for thumb and score).
    ctx["container"] = bootstrap(dataclasses.replace(Settings.from_env(), run_worker=True))


async def shutdown(ctx: dict[str, Any]) -> None:
    container = ctx.get("container")
    if container is not None:
        await container.close()


def worker_settings(settings: Settings) -> dict[str, Any]:
    if not settings.redis_url:
        raise SystemExit("classify worker needs REDIS_URL (without it, `classify serve` runs the tasks itself)")
    return {
        "functions": [
            *(
                func(deferring(f), name=f.__name__, timeout=JOB_TIMEOUT, max_tries=MAX_TRIES)
                for f in (score_photo, import_file, tag_photo)
            ),
            *(
                func(deferring(f), name=f.__name__, timeout=WHOLE_JOB_TIMEOUT, max_tries=MAX_TRIES)
                for f in (import_google_session, publish_google_album, import_link, remove_photos)
            ),
        ],
        "cron_jobs": [cron(deferring(sweep), minute=set(range(0, 60, 3)), run_at_startup=True, unique=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "keep_result": 0,
        "job_timeout": JOB_TIMEOUT,
        "max_tries": MAX_TRIES,
        "max_jobs": max(2, (settings.score_workers or 2) * 2),
        "health_check_interval": 30,
    }
