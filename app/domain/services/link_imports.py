"""Importing a shared Google Drive or Dropbox folder by its link, as a job that resumes where it stopped."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from app.domain.errors import Conflict, InvalidInput, PayloadRejected
from app.domain.google import DRIVE_SCOPE
from app.domain.link_sources import (
    FolderUnavailable,
    RemoteFile,
    SourceBusy,
    SourceFailure,
    TokenRefused,
    dropbox_content_hash,
)
from app.domain.links import DriveFolder, DropboxFolder, drive_folder, dropbox_folder, is_image_name
from app.domain.model import SOURCE_NAMES, Job, JobStatus, Photo, PhotoSource, User
from app.domain.ports import ImageInspector, PhotoStorage, TaskQueue, UowFactory
from app.domain.retry import Answer, GiveUp, retry_later
from app.domain.services import google_account, imports, waiting

T = TypeVar("T")

LINK_IMPORT = "link_import"
LINK_TASK = "import_link"


class DriveSource(Protocol):
    api_key: str | None

    async def check_folder(self, folder: DriveFolder, token: str | None) -> str: ...
    async def list_files(self, folder: DriveFolder, token: str | None, recursive: bool = False) -> list[RemoteFile]: ...
    async def download(self, file: RemoteFile, token: str | None, max_bytes: int) -> bytes: ...


class DropboxSource(Protocol):
    configured: bool

    async def check_folder(self, folder: DropboxFolder) -> str: ...
    async def list_files(self, folder: DropboxFolder, recursive: bool = False) -> list[RemoteFile]: ...
    async def download(self, folder: DropboxFolder, file: RemoteFile, max_bytes: int) -> bytes: ...


@dataclass
class LinkContext:
    drive: DriveSource
    dropbox: DropboxSource
    google: google_account.GoogleAuth
    uow: UowFactory
    storage: PhotoStorage
    images: ImageInspector
    queue: TaskQueue
    clock: Callable[[], dt.datetime]
    max_bytes: int
    jitter: Callable[[], float]
    attempt: int = 1
    quota_bytes: int | None = None


async def _has_drive_grant(ctx: LinkContext, user_id: uuid.UUID) -> bool:
    """Whether the person gave Classify Drive access (one Google may no longer take included)."""
    state = await google_account.connection_state(user_id, uow=ctx.uow)
    return DRIVE_SCOPE in state["scope"].split() and state["status"] in ("connected", "reconnect")


async def _drive_token(ctx: LinkContext, user_id: uuid.UUID, *, refused: bool = False) -> str | None:
    """The person's own Google token when it may read Drive; None otherwise. `refused`: Drive refused the
    last one, so a new one is asked for. A grant Google no longer takes raises NeedsReconnect: read as no
    grant, a private folder was "not shared", and the person was told to share it rather than to reconnect."""
    if not await _has_drive_grant(ctx, user_id):
        return None
    return await google_account.access_token(
        user_id, google=ctx.google, uow=ctx.uow, now=ctx.clock(), force_refresh=refused
    )


async def _refused_once(
    ctx: LinkContext, user_id: uuid.UUID, token: str | None, call: Callable[[str | None], Awaitable[T]]
) -> T:
    """`call(token)`; when Drive refuses the person's token (401), once more with a renewed one."""
    try:
        return await call(token)
    except TokenRefused:
        return await call(await _drive_token(ctx, user_id, refused=True))


async def _drive_access(ctx: LinkContext, user_id: uuid.UUID, folder: DriveFolder) -> tuple[bool, str]:
    """Whether the folder needs the person's token (True) or the server's API key is enough (False), and
    the folder's name."""
    if ctx.drive.api_key:  # a public folder needs nothing of the person's
        try:
            return False, await ctx.drive.check_folder(folder, None)
        except FolderUnavailable:
            if not await _has_drive_grant(ctx, user_id):
                raise
    token = await _drive_token(ctx, user_id)
    if token is None and not ctx.google.configured:
        raise InvalidInput(
            "Google Drive is not set up on this server (GOOGLE_API_KEY for public folders, or GOOGLE_CLIENT_ID "
            "and GOOGLE_CLIENT_SECRET for the folders a person can open)."
        )
    if token is None:
        raise InvalidInput(
            "This server has no GOOGLE_API_KEY for public Drive folders: connect Google with Drive "
            "access in Settings to import folders you can open."
        )
    return True, await _refused_once(ctx, user_id, token, lambda token: ctx.drive.check_folder(folder, token))


async def start_link_import(user: User, source: str, url: str, ctx: LinkContext, *, recursive: bool = False) -> Job:
    """Check the link (a clear error now beats a failed job later), then queue the import."""
    payload: dict[str, Any] = {"source": source, "url": url.strip(), "recursive": recursive}
    try:
        if source == PhotoSource.GOOGLE_DRIVE:
            payload["use_token"], payload["folder_name"] = await _drive_access(ctx, user.id, drive_folder(url))
        elif source == PhotoSource.DROPBOX:
            if not ctx.dropbox.configured:
                raise InvalidInput("Dropbox is not set up on this server (DROPBOX_APP_KEY / DROPBOX_APP_SECRET).")
            payload["folder_name"] = await ctx.dropbox.check_folder(dropbox_folder(url))
        else:
            raise InvalidInput("source must be 'google_drive', 'dropbox' or 'folder'.")
    except google_account.NeedsReconnect:
        raise Conflict("Google needs you to reconnect the account (Settings → Reconnect Google).") from None
    except FolderUnavailable as exc:
        raise InvalidInput(exc.detail) from None
    except SourceBusy as exc:  # before the job exists nothing will try again: say so
        service = SOURCE_NAMES[PhotoSource(source)]
        raise PayloadRejected(
            429 if exc.status_code == 429 else 503,
            f"{service} is busy ({exc.status_code}): nothing was started. Paste the link again in a minute.",
        ) from None
    except SourceFailure as exc:
        raise PayloadRejected(exc.status_code if exc.status_code >= 400 else 502, exc.detail) from None
    async with ctx.uow() as tx:
        job = await tx.jobs.add(user.id, LINK_IMPORT, 0, payload, [])
        await tx.commit()
    await ctx.queue.enqueue(LINK_TASK, str(job.id), job_id=f"job:{job.id}")
    return job


async def run_link_import(ctx: LinkContext, job_id: uuid.UUID) -> None:
    async with ctx.uow() as tx:
        job = await tx.jobs.get_any(job_id)
        if job is None or job.status.finished or job.status is JobStatus.PAUSED:
            return
        if job.status is JobStatus.QUEUED:
            job = await tx.jobs.set_status(job_id, JobStatus.RUNNING, ctx.clock())
            await tx.commit()
    try:
        try:
            await _import(ctx, job)
        except SourceBusy as exc:
            # GiveUp, once the tries are used up, is raised here, and goes to the handler below (it escaped it,
            # and the job said "running" for good)
            later = retry_later(
                Answer(exc.status_code, exc.retry_after, exc.detail),
                ctx.attempt,
                service=job.payload["source"],
                now=ctx.clock(),
                jitter=ctx.jitter(),
            )
            raise await waiting.noted(later, job_id, uow=ctx.uow, now=ctx.clock()) from exc
    except (FolderUnavailable, GiveUp, SourceFailure, google_account.NeedsReconnect) as exc:
        detail = getattr(exc, "detail", None) or str(exc) or "Google needs you to reconnect the account."
        async with ctx.uow() as tx:
            await tx.jobs.set_status(job_id, JobStatus.FAILED, ctx.clock(), error=detail)
            await tx.commit()


GONE_SINCE = "A file listed when the import began is no longer in the folder on {service} (deleted or moved since)."


async def _import(ctx: LinkContext, job: Job) -> None:
    source, url, recursive = job.payload["source"], job.payload["url"], bool(job.payload.get("recursive"))
    token = await _drive_token(ctx, job.user_id) if job.payload.get("use_token") else None
    if source == PhotoSource.GOOGLE_DRIVE:
        folder = drive_folder(url)
        files = await _refused_once(
            ctx, job.user_id, token, lambda token: ctx.drive.list_files(folder, token, recursive)
        )
    else:
        box = dropbox_folder(url)
        files = await ctx.dropbox.list_files(box, recursive)
    by_key = {f.key: f for f in files}
    async with ctx.uow() as tx:
        await tx.jobs.set_items(job.id, list(by_key))
        await tx.commit()
    if not by_key:
        async with ctx.uow() as tx:
            await tx.jobs.set_status(job.id, JobStatus.DONE, ctx.clock())
            await tx.commit()
    # until nothing is left: "Go on" pressed while this task was still on its way out of a cancel queues the
    # items again, and a second task for the job is not started while this one runs
    while pending := await _pending(ctx, job.id):
        if not await _import_items(ctx, job, source, url, by_key, pending, token):
            return


async def _pending(ctx: LinkContext, job_id: uuid.UUID) -> list[str]:
    async with ctx.uow() as tx:
        return await tx.jobs.pending_items(job_id)


async def _import_items(
    ctx: LinkContext,
    job: Job,
    source: str,
    url: str,
    by_key: dict[str, RemoteFile],
    pending: list[str],
    token: str | None,
) -> bool:
    """Import `pending`; False when the job was cancelled or is gone."""
    for key in pending:
        async with ctx.uow() as tx:
            current = await tx.jobs.get_any(job.id)
        if current is None or current.status is JobStatus.CANCELLED:
            return False
        if (file := by_key.get(key)) is None:  # listed when the job began (or failed), gone from the folder since
            service = SOURCE_NAMES[PhotoSource(source)]
            async with ctx.uow() as tx:  # skipped: there is nothing left to try again
                await tx.jobs.mark_item(job.id, key, "skipped", GONE_SINCE.format(service=service), ctx.clock())
                await tx.commit()
            continue
        if job.payload.get("use_token"):  # read for each file: an import can outlast the hour a token lives
            token = await _drive_token(ctx, job.user_id)
        status, error = await _refused_once(
            ctx, job.user_id, token, lambda token, file=file: _import_one(ctx, job, source, url, file, token)
        )
        async with ctx.uow() as tx:
            await tx.jobs.mark_item(job.id, key, status, error, ctx.clock())
            await tx.commit()
    return True


async def _import_one(
    ctx: LinkContext, job: Job, source: str, url: str, file: RemoteFile, token: str | None
) -> tuple[str, str | None]:
    """One listed file's outcome. A refusal of this file alone fails it alone; a busy service, a folder no
    longer shared and the server's own credentials (503) are the whole job's, and go on up."""
    try:
        return await _import_file(ctx, job, source, url, file, token)
    except FolderUnavailable:
        # the service answers the same for one file gone (deleted or unshared since the listing) as for the
        # whole folder gone: asking for the folder again tells which
        if not await _folder_still_shown(ctx, source, url, token):
            raise
        service = SOURCE_NAMES[PhotoSource(source)]
        return "failed", f"{file.name} could not be downloaded: {service} no longer shows this file."
    except SourceFailure as exc:
        if isinstance(exc, SourceBusy) or exc.status_code == 503:
            raise
        return "failed", f"{file.name} could not be downloaded: {exc.detail}"


async def _folder_still_shown(ctx: LinkContext, source: str, url: str, token: str | None) -> bool:
    try:
        if source == PhotoSource.GOOGLE_DRIVE:
            await ctx.drive.check_folder(drive_folder(url), token)
        else:
            await ctx.dropbox.check_folder(dropbox_folder(url))
    except FolderUnavailable:
        return False
    return True


async def _import_file(
    ctx: LinkContext, job: Job, source: str, url: str, file: RemoteFile, token: str | None
) -> tuple[str, str | None]:
    if file.is_folder:
        return "skipped", f"{file.name} is a sub-folder: tick Include subfolders (recursive in the API) to import it."
    is_image = file.mime_type.startswith("image/") if file.mime_type else is_image_name(file.name)
    if not is_image:
        kind = file.mime_type or "no image extension"
        return "skipped", f"{file.name} is not an image ({kind}); skipped."
    async with ctx.uow() as tx:
        if await tx.photos.by_source_id(job.user_id, source, file.source_id):
            return "skipped", imports.imported_before(file.name)  # a re-import adds nothing
        same = await tx.photos.by_sha256(job.user_id, file.sha256.lower()) if file.sha256 else None
    if file.content_hash and same is None:
        same = await _held_copy(ctx, job.user_id, file.content_hash.lower(), file.size)
    if same is not None:  # the same bytes under another name or from another source: said, so it is not a mystery
        return "skipped", imports.already_here(file.name, same, downloaded=False)
    if source == PhotoSource.GOOGLE_DRIVE:
        data = await ctx.drive.download(file, token, ctx.max_bytes)
    else:
        data = await ctx.dropbox.download(dropbox_folder(url), file, ctx.max_bytes)
    return await imports.import_item(
        data,
        file.name,
        owner=job.user_id,
        source=source,
        source_id=file.source_id,
        uow=ctx.uow,
        storage=ctx.storage,
        images=ctx.images,
        queue=ctx.queue,
        max_bytes=ctx.max_bytes,
        quota_bytes=ctx.quota_bytes,
    )


async def _held_copy(ctx: LinkContext, owner: uuid.UUID, content_hash: str, size: int | None) -> Photo | None:
    """The person's photo whose Dropbox content hash is `content_hash`, if any: that file need not be downloaded.

    A photo is hashed here, from its original, the first time a listed file has its size to the byte: an
    import reads none of the library it cannot match, and intake does not pay for a hash only Dropbox uses.
    """
    async with ctx.uow() as tx:
        if same := await tx.photos.by_content_hash(owner, content_hash):
            return same
        unhashed = await tx.photos.unhashed_of_size(owner, size) if size else []
    for photo in unhashed:
        try:
            value = dropbox_content_hash(await ctx.storage.read_original(photo.storage_key))
        except OSError:
            continue  # its original is gone (removed meanwhile): nothing to match
        async with ctx.uow() as tx:
            await tx.photos.set_content_hash(photo.id, value)
            await tx.commit()
        if value == content_hash:
            return photo
    return None
