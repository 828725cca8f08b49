"""arq worker settings: `classify worker` runs the task functions of app/jobs/tasks.py on Redis."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import Retry

from app.bootstrap import bootstrap
from app.domain.retry import RetryLater
from app.jobs.tasks import (
    import_file,
    import_google_session,
    import_link,
    publish_google_album,
    score_photo,
    sweep,
    tag_photo,
)
from app.settings import Settings

# Why these numbers:
# - JOB_TIMEOUT: one photo's decode and score takes well under a second, one file's import a few; a task
#   still running after a minute is stuck. arq lets another worker take a job over once its in-progress
#   key expires (timeout + 10 s), so a short timeout is also how fast a killed worker's task is resumed.
# - MAX_TRIES: a task that keeps failing (not a photo that cannot be decoded: that is recorded, not raised)
#   is given up after 5 runs; the periodic sweep queues what the database still says is undone.
# - keep_result=0: results live in the database, and a kept result would block re-queueing the same id.
# - WHOLE_JOB_TIMEOUT: an import from Google Photos, Drive or Dropbox and an album upload are one task
#   that walks the job's items, recording each one in the database as it goes (so a re-run resumes, never
#   repeats). A big folder takes minutes; half an hour bounds a stuck one. The price: a worker killed
#   mid-import leaves it to another worker only when that half hour (plus 10 s) is over.
JOB_TIMEOUT = 60
WHOLE_JOB_TIMEOUT = 30 * 60
MAX_TRIES = 5


def deferring(task: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """The same task for arq: our RetryLater becomes arq's Retry, which re-queues with a delay."""

    @functools.wraps(task)
    async def run(ctx: dict[str, Any], *args: Any) -> Any:
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
                for f in (import_google_session, publish_google_album, import_link)
            ),
        ],
        "cron_jobs": [cron(sweep, minute=set(range(0, 60, 3)), run_at_startup=True, unique=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "keep_result": 0,
        "job_timeout": JOB_TIMEOUT,
        "max_tries": MAX_TRIES,
        "max_jobs": max(2, (settings.score_workers or 2) * 2),
        "health_check_interval": 30,
    }
