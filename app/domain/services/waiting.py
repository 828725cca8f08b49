"""A job that waits on a service says so: its task is deferred, not failed, and the page should not read as
if work went on meanwhile."""

from __future__ import annotations

import datetime as dt
import uuid

from app.domain.ports import UowFactory
from app.domain.retry import RetryLater


async def noted(later: RetryLater, job_id: uuid.UUID, *, uow: UowFactory, now: dt.datetime) -> RetryLater:
    """Record on the job until when it waits and why; gives `later` back, for the caller to raise."""
    async with uow() as tx:
        await tx.jobs.set_waiting(job_id, now + dt.timedelta(seconds=later.seconds), later.waiting)
        await tx.commit()
    return later
