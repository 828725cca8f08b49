"""A job that waits on a service says so: its task is deferred, not failed, and the page should not read as
if work went on meanwhile."""

from __future__ import annotations

import datetime as dt
import uuid

from app.domain.ports import UowFactory
from app.domain.retry import RetryLater

UPLOADS = "uploads"  # in an album job's payload: item key -> {token, at} for bytes sent and not yet in the album
PROGRESS_MARK = "progress_mark"  # in a job's payload: the task's try before the last one that got items further


async def noted(later: RetryLater, job_id: uuid.UUID, *, uow: UowFactory, now: dt.datetime) -> RetryLater:
    """Record on the job until when it waits and why; gives `later` back, for the caller to raise."""
    async with uow() as tx:
        await tx.jobs.set_waiting(job_id, now + dt.timedelta(seconds=later.seconds), later.waiting)
        await tx.commit()
    return later


async def tries_since_progress(job_id: uuid.UUID, task_try: int, *, uow: UowFactory) -> int:
    """The retry policy's count for a task that walks a job's items: its runs in a row that got no item
    further, this one included. Counted over the whole task, a long import that met a service's rate limit
    six times gave up, though it had got past each of the five before."""
    async with uow() as tx:
        job = await tx.jobs.get_any(job_id)
        if job is None:
            return task_try
        # an album's photos sent to Google and not yet added to it count too: it adds them fifty at a time
        processed = job.done + job.failed + len(job.payload.get(UPLOADS, {}))
        mark = job.payload.get(PROGRESS_MARK)
        if mark and mark["processed"] == processed and mark["try"] < task_try:
            return task_try - mark["try"]
        # the first run, a run after progress, or a task queued afresh (Retry, Go on) whose tries start again
        await tx.jobs.set_payload(job_id, {**job.payload, PROGRESS_MARK: {"try": task_try - 1, "processed": processed}})
        await tx.commit()
    return 1
