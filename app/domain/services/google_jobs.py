"""The long Google jobs: import a picked selection, publish keepers to an album. Both resume safely."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from app.domain.google import (
    MAX_BATCH_CREATE,
    BaseUrlExpired,
    GoogleFailure,
    PickedItem,
    RateLimited,
    ServiceUnavailable,
    SessionGone,
)
from app.domain.model import Job, JobStatus, Photo, PhotoSource
from app.domain.ports import ImageInspector, PhotoStorage, TaskQueue, UowFactory
from app.domain.retry import Answer, GiveUp, RetryLater, retry_later
from app.domain.services import google_account, imports, waiting
from app.domain.services.export import served_name
from app.domain.services.google_photos import GooglePhotos, album_result
from app.domain.services.waiting import UPLOADS

T = TypeVar("T")
EXPIRED_SELECTION = "The selection expired before it was imported; pick the photos again."
RECONNECT = "Google needs you to reconnect the account; the job continues after that."
UPLOAD_TOKEN_LIFE = dt.timedelta(hours=23)  # Google keeps an upload token for a day


@dataclass
class GoogleJobContext:
    google: GooglePhotos
    uow: UowFactory
    storage: PhotoStorage
    images: ImageInspector
    queue: TaskQueue
    clock: Callable[[], dt.datetime]
    max_bytes: int
    jitter: Callable[[], float]  # a fresh number in [0, 1) that spreads retries apart
    attempt: int = 1
    quota_bytes: int | None = None

    async def call(self, user_id: uuid.UUID, fn: Callable[[str], Awaitable[T]]) -> T:
        try:
            return await google_account.with_token(user_id, fn, google=self.google, uow=self.uow, now=self.clock())
        except (RateLimited, ServiceUnavailable) as exc:
            retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
            answer = Answer(exc.status_code, retry_after, exc.detail)
            raise retry_later(
                answer, self.attempt, service="google_photos", now=self.clock(), jitter=self.jitter()
            ) from exc


async def _job(ctx: GoogleJobContext, job_id: uuid.UUID) -> Job | None:
    async with ctx.uow() as tx:
        job = await tx.jobs.get_any(job_id)
        if job is None or job.status.finished or job.status is JobStatus.PAUSED:
            return None
        if job.status is JobStatus.QUEUED:
            job = await tx.jobs.set_status(job_id, JobStatus.RUNNING, ctx.clock())
            await tx.commit()
    return job


async def _end(ctx: GoogleJobContext, job_id: uuid.UUID, status: JobStatus, error: str) -> None:
    async with ctx.uow() as tx:
        await tx.jobs.set_status(job_id, status, ctx.clock(), error=error)
        await tx.commit()


async def _guarded(ctx: GoogleJobContext, job_id: uuid.UUID, work: Callable[[Job], Awaitable[None]]) -> None:
    job = await _job(ctx, job_id)
    if job is None:
        return
    try:
        await work(job)
    except RetryLater as later:
        await waiting.noted(later, job_id, uow=ctx.uow, now=ctx.clock())
        raise
    except google_account.NeedsReconnect:
        await _end(ctx, job_id, JobStatus.PAUSED, RECONNECT)
    except SessionGone:
        await _end(ctx, job_id, JobStatus.FAILED, EXPIRED_SELECTION)
    except GiveUp as exc:
        await _end(ctx, job_id, JobStatus.FAILED, str(exc))
    except GoogleFailure as exc:
        await _end(ctx, job_id, JobStatus.FAILED, exc.detail)


# Import ------------------------------------------------------------------------------------------


async def _list_all(ctx: GoogleJobContext, user_id: uuid.UUID, session_id: str) -> dict[str, PickedItem]:
    items: dict[str, PickedItem] = {}
    page_token: str | None = None
    while True:

        async def page(token: str, page_token: str | None = page_token) -> tuple[list[PickedItem], str | None]:
            return await ctx.google.list_picked(token, session_id, page_token)

        found, page_token = await ctx.call(user_id, page)
        items.update((item.id, item) for item in found)
        if not page_token:
            return items


async def run_import(ctx: GoogleJobContext, job_id: uuid.UUID) -> None:
    await _guarded(ctx, job_id, lambda job: _import(ctx, job))
    async with ctx.uow() as tx:
        ended = await tx.jobs.get_any(job_id)
    if ended is not None and ended.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        await _forget_session(ctx, ended)


async def _forget_session(ctx: GoogleJobContext, job: Job) -> None:
    """Delete the picking session of an import that will not finish: Google refuses new sessions to a person
    who leaves too many behind (RESOURCE_EXHAUSTED). Best effort; the session expires by itself too."""

    async def forget(token: str) -> None:
        await ctx.google.delete_session(token, job.payload["session_id"])

    with contextlib.suppress(GoogleFailure, google_account.NeedsReconnect, GiveUp, RetryLater):
        await ctx.call(job.user_id, forget)


async def _import(ctx: GoogleJobContext, job: Job) -> None:
    session_id = job.payload["session_id"]
    picked = await _list_all(ctx, job.user_id, session_id)
    async with ctx.uow() as tx:
        await tx.jobs.set_items(job.id, list(picked))
        pending = await tx.jobs.pending_items(job.id)
        await tx.commit()
    for item_id in pending:
        if await _cancelled(ctx, job.id):
            return
        try:
            status, error = await _import_item(ctx, job, picked[item_id])
        except BaseUrlExpired:  # addresses last about an hour: list again for fresh ones, then carry on
            picked = await _list_all(ctx, job.user_id, session_id)
            status, error = await _import_item(ctx, job, picked[item_id])
        async with ctx.uow() as tx:
            await tx.jobs.mark_item(job.id, item_id, status, error, ctx.clock())
            await tx.commit()

    async def forget(token: str) -> None:
        await ctx.google.delete_session(token, session_id)

    await ctx.call(job.user_id, forget)
    await _finish_if_empty(ctx, job.id)


async def _import_item(ctx: GoogleJobContext, job: Job, item: PickedItem) -> tuple[str, str | None]:
    if item.kind == "VIDEO":  # dropped without a word before, so the job's count was short of what was picked
        return "skipped", f"{item.filename} is a video; Classify sorts photos only. It was not downloaded."
    async with ctx.uow() as tx:
        if await tx.photos.by_source_id(job.user_id, PhotoSource.GOOGLE_PHOTOS, item.id):
            return "skipped", imports.imported_before(item.filename)  # picked again: nothing to add

    async def download(token: str) -> bytes:
        return await ctx.google.download_original(token, item.base_url, ctx.max_bytes)

    return await imports.import_item(
        await ctx.call(job.user_id, download),
        item.filename,
        owner=job.user_id,
        source=PhotoSource.GOOGLE_PHOTOS,
        source_id=item.id,
        uow=ctx.uow,
        storage=ctx.storage,
        images=ctx.images,
        queue=ctx.queue,
        max_bytes=ctx.max_bytes,
        quota_bytes=ctx.quota_bytes,
    )


async def _cancelled(ctx: GoogleJobContext, job_id: uuid.UUID) -> bool:
    async with ctx.uow() as tx:
        job = await tx.jobs.get_any(job_id)
    return job is None or job.status is JobStatus.CANCELLED


async def _finish_if_empty(ctx: GoogleJobContext, job_id: uuid.UUID) -> None:
    async with ctx.uow() as tx:
        job = await tx.jobs.get_any(job_id)
        if job is not None and job.total == 0 and not job.status.finished:
            await tx.jobs.set_status(job_id, JobStatus.DONE, ctx.clock())
            await tx.commit()


# Album -------------------------------------------------------------------------------------------


async def run_album(ctx: GoogleJobContext, job_id: uuid.UUID) -> None:
    await _guarded(ctx, job_id, lambda job: _publish(ctx, job))


async def _album(ctx: GoogleJobContext, job: Job) -> dict[str, Any]:
    """The job's album, created once: a retry or a resumed job adds to the same album."""
    if job.result.get("album_id"):
        return job.result
    title = job.payload["title"]

    async def create(token: str) -> Any:
        return await ctx.google.create_album(token, title)

    album = await ctx.call(job.user_id, create)
    result = album_result(album, title)
    async with ctx.uow() as tx:
        await tx.albums.add(job.user_id, album.id, title, album.product_url)
        await tx.jobs.set_result(job.id, result)
        await tx.commit()
    return result


async def _upload_token(ctx: GoogleJobContext, job: Job, key: str, photo: Photo) -> str:
    """The photo's bytes uploaded to Google, once: the token is kept on the job until its photo is in the album,
    so a retry after Google failed to add a batch does not send the batch's bytes again (a review saw 26 photos
    uploaded six times over)."""
    async with ctx.uow() as tx:
        current = await tx.jobs.get_any(job.id)
    payload = current.payload if current else job.payload
    kept = payload.get(UPLOADS, {}).get(key)
    if kept and dt.datetime.fromisoformat(kept["at"]) > ctx.clock() - UPLOAD_TOKEN_LIFE:
        return kept["token"]
    data = ctx.storage.original_path(photo.storage_key).read_bytes()

    async def upload(token: str) -> str:
        return await ctx.google.upload(token, data, photo.mime_type)

    upload_token = await ctx.call(job.user_id, upload)
    uploads = {**payload.get(UPLOADS, {}), key: {"token": upload_token, "at": ctx.clock().isoformat()}}
    async with ctx.uow() as tx:
        await tx.jobs.set_payload(job.id, {**payload, UPLOADS: uploads})
        await tx.commit()
    return upload_token


async def _publish(ctx: GoogleJobContext, job: Job) -> None:
    album = await _album(ctx, job)
    async with ctx.uow() as tx:
        pending = await tx.jobs.pending_items(job.id)
    for start in range(0, len(pending), MAX_BATCH_CREATE):
        if await _cancelled(ctx, job.id):
            return
        await _publish_batch(ctx, job, album["album_id"], pending[start : start + MAX_BATCH_CREATE])
    async with ctx.uow() as tx:
        finished = await tx.jobs.get_any(job.id)
        assert finished is not None
        await tx.albums.set_count(album["album_id"], finished.done)
        await tx.commit()


async def _publish_batch(ctx: GoogleJobContext, job: Job, album_id: str, keys: list[str]) -> None:
    uploaded: list[tuple[str, str, str]] = []  # (item key, upload token, file name)
    outcomes: dict[str, tuple[str, str | None]] = {}
    for key in keys:
        async with ctx.uow() as tx:
            photo = await tx.photos.get(job.user_id, uuid.UUID(key))
        if photo is None:  # skipped: no retry could upload it
            outcomes[key] = ("skipped", "The photo was removed from Classify before it was uploaded.")
            continue
        uploaded.append((key, await _upload_token(ctx, job, key, photo), served_name(photo)))  # named as exported
    if uploaded:

        async def add(token: str) -> Any:
            return await ctx.google.add_to_album(token, album_id, [(t, name) for _, t, name in uploaded])

        results = {r.upload_token: r for r in await ctx.call(job.user_id, add)}
        for key, upload_token, _ in uploaded:
            result = results.get(upload_token)
            ok = result is not None and result.ok
            outcomes[key] = ("done", None) if ok else ("failed", (result.message if result else "") or "Not added.")
    async with ctx.uow() as tx:
        current = await tx.jobs.get_any(job.id)
        if current is not None and current.payload.get(UPLOADS):  # added (or refused): their tokens are spent
            left = {k: v for k, v in current.payload[UPLOADS].items() if k not in outcomes}
            await tx.jobs.set_payload(job.id, {**current.payload, UPLOADS: left})
        for key, (status, error) in outcomes.items():
            await tx.jobs.mark_item(job.id, key, status, error, ctx.clock())
        await tx.commit()
