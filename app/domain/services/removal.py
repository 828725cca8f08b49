"""Removing many photos from Classify at once (a tab, as the gallery filters it, or chosen photos) as a job:
the rows move to Recently removed a batch at a time, their files kept there for KEEP_REMOVED_DAYS so that the
removal can be undone. Nothing is deleted at any source."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from app.domain.categories import Category, TabAsShown
from app.domain.errors import InvalidInput
from app.domain.model import NO_FILTER, Job, JobStatus, PhotoFilter, User
from app.domain.ports import TaskQueue, UowFactory
from app.domain.services.photos import chosen_photos

NOTHING_REMOVED = "Nothing was removed; reload the page, then remove."
REMOVE_BATCH = "remove_photos"
REMOVE_TASK = "remove_photos"
BATCH = 500  # photos a transaction; a cancel takes effect between two batches


async def start_removal(
    user: User,
    category: Category | None,
    *,
    uow: UowFactory,
    queue: TaskQueue,
    only: PhotoFilter = NO_FILTER,
    photo_ids: list[uuid.UUID] | None = None,
    as_shown: TabAsShown | None = None,
) -> Job:
    """Remove the photos of `category` that `only` lets through, as they are now (photos that arrive or move
    later stay), or the chosen `photo_ids`; one or the other, so that nothing is removed by leaving one out.
    With `as_shown`, nothing is removed if the tab no longer holds what a page showed and asked about."""
    if (category is None) == (photo_ids is None):
        raise InvalidInput("Say which photos to remove: a filter (a tab, such as blurred) or photo_ids, not both.")
    async with uow() as tx:
        if photo_ids is None:
            assert category is not None
            chosen = list(await tx.photos.calls_in_category(user.id, category, user.blur_threshold, only))
            if as_shown is not None:
                as_shown.check(category, user.blur_threshold, len(chosen), NOTHING_REMOVED)
        else:
            chosen = await chosen_photos(tx, user.id, photo_ids)
        keys = [str(photo_id) for photo_id in chosen]
        job = await tx.jobs.add(user.id, REMOVE_BATCH, len(keys), {}, keys)
        if not keys:
            job = await tx.jobs.set_status(job.id, JobStatus.DONE, job.created_at)
        await tx.commit()
    if keys:
        await queue.enqueue(REMOVE_TASK, str(job.id), job_id=f"job:{job.id}")
    return job


async def run_removal(job_id: uuid.UUID, *, uow: UowFactory, clock: Callable[[], dt.datetime]) -> int:
    """Walk the job's items not done yet (run twice, it goes on where it stopped); how many photos went to
    Recently removed. A photo removed meanwhile counts as done: it is gone, as asked."""
    async with uow() as tx:
        job = await tx.jobs.get_any(job_id)
        if job is None or job.status.finished:
            return 0
        if job.status is JobStatus.QUEUED:
            await tx.jobs.set_status(job_id, JobStatus.RUNNING, clock())
        pending = await tx.jobs.pending_items(job_id)
        await tx.commit()
    removed = 0
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        async with uow() as tx:
            job = await tx.jobs.get_any(job_id)
            if job is None or job.status is JobStatus.CANCELLED:
                break
            # the photos first: moving them holds the account's row (as deleting the account takes it first)
            moved = await tx.removed.put(job.user_id, [uuid.UUID(key) for key in batch], clock(), job_id)
            marked = await tx.jobs.mark_items(job_id, batch, "done", None, clock())  # holds the job's row
            if marked is None or marked.status is JobStatus.CANCELLED:
                # cancelled while this batch was moved: not committed, so an Undo pressed as soon as the cancel
                # answered finds every photo this job took (a batch landing after it went to the bin)
                break
            await tx.commit()
        removed += len(moved)
    return removed
