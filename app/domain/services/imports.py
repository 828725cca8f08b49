"""Imports as jobs: each file is one item, so progress, retries and resumption come from the jobs table."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Protocol

from app.domain.errors import PayloadRejected
from app.domain.model import Job, JobStatus, Photo
from app.domain.ports import ImageInspector, PhotoStorage, TaskQueue, UowFactory
from app.domain.services import photos

FOLDER_IMPORT = "import_folder"
IMPORT_FILE_TASK = "import_file"


class NotAFile(Exception):
    """A folder entry that is listed, so that it is accounted for, but not read: a link, a pipe, a device."""


class FolderReader(Protocol):
    def resolve(self, path: str) -> Path: ...
    def list_files(self, folder: Path) -> list[str]: ...
    def read(self, relative: str, max_bytes: int) -> bytes:
        """The file's bytes, up to max_bytes + 1; NotAFile for an entry that is not a regular file."""


async def start_folder_import(
    owner: uuid.UUID, path: str, *, folders: FolderReader, uow: UowFactory, queue: TaskQueue
) -> Job:
    folder = folders.resolve(path)
    files = folders.list_files(folder)
    async with uow() as tx:
        job = await tx.jobs.add(owner, FOLDER_IMPORT, len(files), {"path": path}, files)
        if not files:
            job = await tx.jobs.set_status(job.id, JobStatus.DONE, job.created_at)
        await tx.commit()
    await enqueue_import_items(job.id, files, queue=queue)
    return job


async def enqueue_import_items(job_id: uuid.UUID, keys: list[str], *, queue: TaskQueue) -> None:
    for key in keys:
        await queue.enqueue(IMPORT_FILE_TASK, str(job_id), key, job_id=f"job:{job_id}:{key}")


async def import_item(
    data: bytes,
    filename: str,
    *,
    owner: uuid.UUID,
    source: str,
    source_id: str,
    uow: UowFactory,
    storage: PhotoStorage,
    images: ImageInspector,
    queue: TaskQueue,
    max_bytes: int,
    quota_bytes: int | None = None,
) -> tuple[str, str | None]:
    """One file of an import job, as the job records it: done, skipped (not an image we take, or bytes that are
    here already) or failed, and why."""
    try:
        imported = await photos.import_photo(
            data,
            filename,
            owner=owner,
            source=source,
            source_id=source_id,
            uow=uow,
            storage=storage,
            images=images,
            queue=queue,
            max_bytes=max_bytes,
            quota_bytes=quota_bytes,
        )
    except PayloadRejected as exc:
        return ("skipped" if exc.status_code == 415 else "failed"), exc.detail
    same = imported.photo
    if imported.created:
        return "done", None
    if (same.source, same.source_id) == (source, source_id):
        return "skipped", imported_before(filename)
    return "skipped", already_here(filename, same)


def imported_before(filename: str) -> str:
    """Why a re-import adds nothing: this very file (same source, same place) came in before."""
    return f"{filename} was imported from here before; nothing to add."


def already_here(filename: str, same: Photo, *, downloaded: bool = True) -> str:
    """Why an import item added nothing: its bytes are a photo the person has under another name or source."""
    why = f"{filename} is already in Classify as {same.filename} (the same bytes)"
    return f"{why}." if downloaded else f"{why}; not downloaded."
