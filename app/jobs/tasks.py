"""Task functions, `async def f(ctx, *args)`: run by the in-process queue or by arq workers alike."""

from __future__ import annotations

import uuid
from typing import Any

from app.domain import retry
from app.domain.errors import DomainError, NotFound
from app.domain.model import JobStatus, PhotoSource
from app.domain.retry import RetryLater
from app.domain.services import imports, jobs, removal, scoring, similar, tagging, waiting
from app.domain.vision import VisionBusy, VisionUnavailable
from app.jobs.google_tasks import import_google_session, publish_google_album
from app.jobs.link_tasks import import_link
from app.logs import log

GONE_BEFORE_SCORED = "The photo was removed before it was scored."
GONE_BEFORE_TAGGED = "The photo was removed before it was tagged."


async def score_photo(ctx: dict[str, Any], photo_id: str, job_id: str | None = None) -> bool:
    """Score one photo, and count it in every unfinished batch that holds it: the task its upload or the sweep
    queued often comes before the batch's own, which then finds its item counted and has nothing to do."""
    container = ctx["container"]
    if job_id is not None:
        async with container.uow() as tx:
            job = await tx.jobs.get_any(uuid.UUID(job_id))
            if job is None or job.status is JobStatus.CANCELLED or not await tx.jobs.is_pending(job.id, photo_id):
                return False
    scored = await scoring.score_photo(
        uuid.UUID(photo_id),
        uow=container.uow,
        storage=container.storage,
        scorer=container.scorer,
        now=container.clock(),
    )
    async with container.uow() as tx:
        batches = await tx.jobs.waiting_for(photo_id, jobs.SCORE_BATCH)
    for batch in batches:
        await _record_item(container, batch, photo_id, scored)
    return scored


async def _record_item(container: Any, job_id: uuid.UUID, photo_id: str, scored: bool) -> None:
    async with container.uow() as tx:
        status, error = "done", None
        if not scored:
            photo = await tx.photos.get_any(uuid.UUID(photo_id))
            # a photo removed while it waited is no fault of the batch, and no retry could bring it back
            status, error = ("failed", photo.error) if photo else ("skipped", GONE_BEFORE_SCORED)
        await tx.jobs.mark_item(job_id, photo_id, status, error, container.clock())  # and the batch is running
        await tx.commit()


async def sweep(ctx: dict[str, Any]) -> int:
    """Queue again what the database says is undone (returns how many items), and take the fingerprints
    that photos stored before similar shots existed still lack."""
    container = ctx["container"]
    queued = await jobs.resume_unfinished(uow=container.uow, queue=container.queue)
    filled = await similar.fill_fingerprints(uow=container.uow, storage=container.storage, images=container.images)
    if filled:
        log.info("took fingerprints for similar shots", photos=filled)
    return queued


async def import_file(ctx: dict[str, Any], job_id: str, relative_path: str) -> str:
    """Import one file of a folder job; a non-image is skipped with its reason, never retried forever."""
    container = ctx["container"]
    job_uuid = uuid.UUID(job_id)
    async with container.uow() as tx:
        job = await tx.jobs.get_any(job_uuid)
        if job is None or job.status is JobStatus.CANCELLED:
            return "cancelled"
        if job.status is JobStatus.QUEUED:
            await tx.jobs.set_status(job.id, JobStatus.RUNNING, container.clock())
            await tx.commit()
    try:
        data = container.folders.read(relative_path, container.settings.max_upload_bytes)
    except imports.NotAFile as exc:
        status, error = "skipped", str(exc)
    except OSError as exc:
        status, error = "failed", f"{relative_path} could not be read: {exc.strerror or exc}"
    else:
        status, error = await imports.import_item(
            data,
            relative_path.rsplit("/", 1)[-1],
            owner=job.user_id,
            source=PhotoSource.FOLDER,
            source_id=relative_path,
            uow=container.uow,
            storage=container.storage,
            images=container.images,
            queue=container.queue,
            max_bytes=container.settings.max_upload_bytes,
            quota_bytes=container.settings.quota_bytes,
        )
    async with container.uow() as tx:
        await tx.jobs.mark_item(job_uuid, relative_path, status, error, container.clock())
        await tx.commit()
    return status


async def tag_photo(ctx: dict[str, Any], job_id: str, photo_id: str) -> str:
    """Describe one photo of a "Tag keepers" job; a busy AI server defers it, other failures are recorded."""
    container = ctx["container"]
    job_uuid = uuid.UUID(job_id)
    async with container.uow() as tx:
        job = await tx.jobs.get_any(job_uuid)
        if job is None or job.status is JobStatus.CANCELLED:
            return "cancelled"
        if job.status is JobStatus.QUEUED:
            await tx.jobs.set_status(job.id, JobStatus.RUNNING, container.clock())
        user = await tx.users.get(job.user_id)
        await tx.commit()
    status, error = "done", None
    try:
        await tagging.tag_photo(
            user,
            uuid.UUID(photo_id),
            uow=container.uow,
            describer=container.vision,
            preview=container.previews,
            server_default=container.settings.vision_monthly_limit,
            now=container.clock(),
        )
    except VisionBusy as exc:
        tries = int(ctx.get("job_try", 1))
        answer = retry.Answer(429, f"{exc.retry_after:.0f}" if exc.retry_after else None, exc.detail)
        try:  # the one policy: a server that stays busy is given up on, as Google and Dropbox are
            wait = retry.decide(answer, tries, service="vision", now=container.clock(), jitter=0.0)
        except retry.GiveUp:
            status, error = "failed", f"{exc.detail.rstrip('.')}; still busy after {tries} tries."
        else:
            later = RetryLater(wait, exc.detail, "The AI server asked Classify to slow down")
            raise await waiting.noted(later, job_uuid, uow=container.uow, now=container.clock()) from exc
    except (tagging.BudgetExhausted, tagging.AiOff) as exc:
        status, error = "skipped", exc.detail  # the month's limit, not a fault: no "Retry failed" that cannot work
    except NotFound as exc:
        async with container.uow() as tx:  # gone, or there but its stored original unreadable (a Retry may do)
            gone = await tx.photos.get(user.id, uuid.UUID(photo_id)) is None
        status, error = ("skipped", GONE_BEFORE_TAGGED) if gone else ("failed", exc.detail)
    except (DomainError, VisionUnavailable) as exc:
        status, error = "failed", exc.detail
    async with container.uow() as tx:
        await tx.jobs.mark_item(job_uuid, photo_id, status, error, container.clock())
        await tx.commit()
    return status


async def remove_photos(ctx: dict[str, Any], job_id: str) -> int:
    container = ctx["container"]
    return await removal.run_removal(uuid.UUID(job_id), uow=container.uow, clock=container.clock)


FUNCTIONS = {
    "score_photo": score_photo,
    "import_file": import_file,
    "import_google_session": import_google_session,
    "publish_google_album": publish_google_album,
    "tag_photo": tag_photo,
    "import_link": import_link,
    "remove_photos": remove_photos,
    "sweep": sweep,
}
