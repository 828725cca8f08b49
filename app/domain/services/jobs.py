"""Jobs as people see them: a batch of work with counts, started, finished, cancelled or retried."""

from __future__ import annotations

import datetime as dt
import uuid

from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import Job, JobStatus
from app.domain.ports import TaskQueue, UowFactory
from app.domain.services.google_jobs import EXPIRED_SELECTION
from app.domain.services.google_photos import ALBUM_TASK, GOOGLE_ALBUM, GOOGLE_IMPORT, IMPORT_TASK
from app.domain.services.imports import FOLDER_IMPORT, enqueue_import_items
from app.domain.services.link_imports import LINK_IMPORT, LINK_TASK
from app.domain.services.photos import SCORE_TASK, chosen_photos
from app.domain.services.removal import REMOVE_BATCH, REMOVE_TASK
from app.domain.services.tagging import TAG_BATCH, TAG_TASK

SCORE_BATCH = "score_batch"
WHOLE_JOB_TASKS = {
    GOOGLE_IMPORT: IMPORT_TASK,
    GOOGLE_ALBUM: ALBUM_TASK,
    LINK_IMPORT: LINK_TASK,
    REMOVE_BATCH: REMOVE_TASK,
}

ITEM_BY_ITEM = (SCORE_BATCH, TAG_BATCH, FOLDER_IMPORT)  # jobs with a task for each item
PHOTO_BATCHES = (SCORE_BATCH, TAG_BATCH, GOOGLE_ALBUM)  # jobs whose items are the user's photos, by id
SERVICE_IMPORTS = (GOOGLE_IMPORT, LINK_IMPORT)  # items keyed by the service's own id (a Dropbox path aside)
MAX_RECENT = 200  # jobs in one answer


def item_task_id(job_id: uuid.UUID, item_key: str) -> str:
    return f"job:{job_id}:{item_key}"


async def start_score_batch(
    owner: uuid.UUID, photo_ids: list[uuid.UUID] | None, *, uow: UowFactory, queue: TaskQueue
) -> Job:
    """Score the chosen photos, or every unprocessed one (including those that failed before)."""
    async with uow() as tx:
        if photo_ids is None:
            keys = [str(p) for p in await tx.photos.unprocessed_ids(owner, with_errors=True)]
        else:
            keys = [str(p) for p in await chosen_photos(tx, owner, photo_ids)]
        job = await tx.jobs.add(owner, SCORE_BATCH, len(keys), {}, keys)
        if not keys:
            job = await tx.jobs.set_status(job.id, JobStatus.DONE, job.created_at)
        await tx.commit()
    await enqueue_items(job.id, keys, queue=queue)
    return job


async def enqueue_items(job_id: uuid.UUID, keys: list[str], *, queue: TaskQueue, kind: str = SCORE_BATCH) -> None:
    if kind == FOLDER_IMPORT:
        await enqueue_import_items(job_id, keys, queue=queue)
        return
    if kind == TAG_BATCH:
        for key in keys:
            await queue.enqueue(TAG_TASK, str(job_id), key, job_id=item_task_id(job_id, key))
        return
    if kind in WHOLE_JOB_TASKS:  # one task walks the whole job, skipping what is done already
        await queue.enqueue(WHOLE_JOB_TASKS[kind], str(job_id), job_id=f"job:{job_id}")
        return
    for key in keys:
        await queue.enqueue(SCORE_TASK, key, str(job_id), job_id=item_task_id(job_id, key))


async def get_job(owner: uuid.UUID, job_id: uuid.UUID, *, uow: UowFactory) -> Job:
    async with uow() as tx:
        job = await tx.jobs.get(owner, job_id)
    if job is None:
        raise NotFound("No such job.")
    return job


async def recent_jobs(
    owner: uuid.UUID, *, uow: UowFactory, limit: int = 50, before: uuid.UUID | None = None
) -> list[Job]:
    """The owner's jobs, newest first; with `before` (a job of theirs), the ones started before it."""
    if not 1 <= limit <= MAX_RECENT:
        raise InvalidInput(f"limit must be between 1 and {MAX_RECENT}.")
    async with uow() as tx:
        after = None
        if before is not None and (after := await tx.jobs.get(owner, before)) is None:
            raise NotFound("No such job.")
        return await tx.jobs.recent(owner, limit, after)


async def job_errors(owner: uuid.UUID, job_id: uuid.UUID, *, uow: UowFactory) -> list[tuple[str, str, str | None]]:
    """The items that failed or were skipped, with the reason."""
    await get_job(owner, job_id, uow=uow)
    async with uow() as tx:
        return await tx.jobs.failed_items(job_id)


async def first_job_errors(
    owner: uuid.UUID, job_id: uuid.UUID, limit: int, *, uow: UowFactory
) -> tuple[list[tuple[str, str, str | None]], int]:
    """The first `limit` items that failed or were skipped, and how many there are in all. A batch's photos
    are named by their file names (a photo removed since by "a removed photo"), not by their ids; an import's
    reasons name their files, so a Drive or Google Photos id beside them is left out (""), a path is not."""
    job = await get_job(owner, job_id, uow=uow)
    async with uow() as tx:
        items, total = await tx.jobs.failed_items(job_id, limit), await tx.jobs.count_failed_items(job_id)
        if job.kind in PHOTO_BATCHES:
            names = await tx.photos.filenames(owner, [uuid.UUID(key) for key, _, _ in items])
            items = [(names.get(uuid.UUID(key), "a removed photo"), status, why) for key, status, why in items]
        elif job.kind in SERVICE_IMPORTS:
            items = [(key if "/" in key else "", status, why) for key, status, why in items]
    return items, total


async def cancel_job(owner: uuid.UUID, job_id: uuid.UUID, *, uow: UowFactory, now: dt.datetime) -> Job:
    async with uow() as tx:
        job = await tx.jobs.get(owner, job_id)
        if job is None:
            raise NotFound("No such job.")
        if job.status.finished:
            raise Conflict(f"This job has already ended ({job.status.value}).")
        job = await tx.jobs.set_status(job_id, JobStatus.CANCELLED, now)
        await tx.commit()
    return job


def can_go_on(job: Job) -> bool:
    """A job run by one task that failed part-way (an album that Google refused half of, an import whose
    service gave up), or one its person stopped, can go on from its items not done yet; an expired Picker
    selection cannot."""
    if job.done + job.failed >= job.total or job.error == EXPIRED_SELECTION:
        return False
    if job.status is JobStatus.FAILED:
        return job.kind in WHOLE_JOB_TASKS
    # not a removal (its person wanted it stopped, and its Undo is offered) nor a Picker selection (let go of
    # when its import ends)
    return job.status is JobStatus.CANCELLED and job.kind in (LINK_IMPORT, *ITEM_BY_ITEM)


async def retry_failed(owner: uuid.UUID, job_id: uuid.UUID, *, uow: UowFactory, queue: TaskQueue) -> Job:
    """Run the failed items again, and the items a job that stopped part-way never reached."""
    async with uow() as tx:
        job = await tx.jobs.get(owner, job_id)
        if job is None:
            raise NotFound("No such job.")
        if not job.status.finished:  # its task would not go back to an item queued again behind it
            raise Conflict("This job has not ended yet; retry what failed once it has.")
        failed = [key for key, status, _ in await tx.jobs.failed_items(job_id) if status == "failed"]
        if not failed and not can_go_on(job):
            raise Conflict("This job has no failed items to retry.")
        await tx.jobs.requeue_failed(job_id)
        await tx.commit()
        job = await tx.jobs.get(owner, job_id)
        # the failed items and those a cancel left unreached (a whole-job task walks what is left itself)
        pending = await tx.jobs.pending_items(job_id)
    assert job is not None
    await enqueue_items(job_id, pending, queue=queue, kind=job.kind)
    return job


async def resume_unfinished(*, uow: UowFactory, queue: TaskQueue) -> int:
    """Queue again whatever the database says is not done: after a crash, a restart, or a lost task."""
    async with uow() as tx:
        unprocessed = await tx.photos.unprocessed_ids()
        jobs = await tx.jobs.unfinished()
        pending = [(job, await tx.jobs.pending_items(job.id)) for job in jobs]
    in_batches = {key for job, keys in pending if job.kind == SCORE_BATCH for key in keys}
    loose = [photo_id for photo_id in unprocessed if str(photo_id) not in in_batches]  # a batch's task scores those
    for photo_id in loose:
        await queue.enqueue(SCORE_TASK, str(photo_id), job_id=f"score:{photo_id}")
    for job, keys in pending:
        await enqueue_items(job.id, keys, queue=queue, kind=job.kind)
    return len(loose) + sum(len(keys) for _, keys in pending)
