"""Photos in from the Google Photos Picker, and keepers out to a new Google Photos album."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import Any, Protocol

from app.domain.categories import Category, TabAsShown
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.google import (
    APPEND_SCOPE,
    AlbumCreated,
    GoogleFailure,
    ItemAdded,
    PickedItem,
    PickerSession,
)
from app.domain.model import Job, JobStatus, Photo, User
from app.domain.ports import PickerRecord, TaskQueue, UowFactory
from app.domain.services import google_account
from app.domain.services.similar import narrowed, sharpest_only

GOOGLE_IMPORT = "google_photos_import"
GOOGLE_ALBUM = "google_album"
IMPORT_TASK = "import_google_session"
ALBUM_TASK = "publish_google_album"
CANCELLED = "That picking was cancelled; pick your photos again."
MAX_TITLE = 500  # characters Google Photos takes in an album's title


class AlreadyPicked(Conflict):
    """Too late to cancel the picking: the photos are chosen, and their import is a job."""

    def __init__(self, job_id: uuid.UUID) -> None:
        super().__init__("Those photos are already chosen and being imported: cancel the import on the Jobs page.")
        self.job_id = job_id


class GooglePhotos(google_account.GoogleAuth, Protocol):
    async def create_session(self, access_token: str) -> PickerSession: ...
    async def get_session(self, access_token: str, session_id: str) -> PickerSession: ...
    async def delete_session(self, access_token: str, session_id: str) -> None: ...
    async def list_picked(
        self, access_token: str, session_id: str, page_token: str | None
    ) -> tuple[list[PickedItem], str | None]: ...
    async def download_original(self, access_token: str, base_url: str, max_bytes: int) -> bytes: ...
    async def upload(self, access_token: str, data: bytes, mime_type: str) -> str: ...
    async def create_album(self, access_token: str, title: str) -> AlbumCreated: ...
    async def add_to_album(self, access_token: str, album_id: str, items: list[tuple[str, str]]) -> list[ItemAdded]: ...


def task_id(job_id: uuid.UUID) -> str:
    return f"job:{job_id}"


async def start_picking(user: User, *, google: GooglePhotos, uow: UowFactory, now: dt.datetime) -> PickerRecord:
    session = await google_account.with_token(user.id, google.create_session, google=google, uow=uow, now=now)
    async with uow() as tx:
        record = await tx.pickers.add(user.id, session.id, session.picker_uri, session.poll_interval_seconds)
        await tx.commit()
    return record


async def check_picking(
    user: User, session_id: str, *, google: GooglePhotos, uow: UowFactory, queue: TaskQueue, now: dt.datetime
) -> tuple[PickerRecord, bool]:
    """(the session, whether the person is done picking); once done, the import job exists and is queued."""
    async with uow() as tx:
        record = await tx.pickers.get(user.id, session_id)
    if record is None:
        raise NotFound("No such picking session.")
    if record.job_id:
        return record, True

    async def get(token: str) -> PickerSession:
        return await google.get_session(token, session_id)

    session = await google_account.with_token(user.id, get, google=google, uow=uow, now=now)
    if not session.media_items_set:
        return record, False
    async with uow() as tx:
        job = await tx.jobs.add(user.id, GOOGLE_IMPORT, 0, {"session_id": session_id}, [])
        # Only the first of two polls that both saw the selection made makes the job, and none once cancelled.
        made = await tx.pickers.set_job(session_id, job.id)
        if made:
            await tx.commit()
    async with uow() as tx:
        record = await tx.pickers.get(user.id, session_id)
    if record is None or record.job_id is None:
        raise NotFound(CANCELLED)
    if made:
        await queue.enqueue(IMPORT_TASK, str(job.id), job_id=task_id(job.id))
    return record, True


async def cancel_picking(
    user: User, session_id: str, *, google: GooglePhotos, uow: UowFactory, now: dt.datetime
) -> None:
    """Stop waiting for a selection. Once the photos are chosen it is an import job, cancelled as jobs are."""
    async with uow() as tx:
        removed = await tx.pickers.remove_unpicked(user.id, session_id)
        record = None if removed else await tx.pickers.get(user.id, session_id)
        await tx.commit()
    if record is not None and record.job_id is not None:
        raise AlreadyPicked(record.job_id)
    if not removed:
        raise NotFound("No such picking session.")

    async def forget(token: str) -> None:
        await google.delete_session(token, session_id)

    # Best effort: Google ends a session nobody finishes by itself, and refuses new ones to a person who
    # leaves too many behind.
    with contextlib.suppress(GoogleFailure, google_account.NeedsReconnect):
        await google_account.with_token(user.id, forget, google=google, uow=uow, now=now)


async def keepers(user: User, *, uow: UowFactory, similar: str = "all") -> list[uuid.UUID]:
    """Only photos that are scored and not blurred at the person's threshold go into an album; with
    `similar="sharpest"`, only the sharpest keeper of each group of similar shots."""
    return [p.id for p in await narrowed(user, await _keeper_photos(user, uow=uow), similar, uow=uow)]


async def keeper_counts(user: User, *, uow: UowFactory) -> tuple[int, int]:
    """How many photos an album would take: every keeper, and only the sharpest of similar shots."""
    photos = await _keeper_photos(user, uow=uow)
    return len(photos), len(await sharpest_only(user, photos, uow=uow))


async def _keeper_photos(user: User, *, uow: UowFactory) -> list[Photo]:
    async with uow() as tx:
        return await tx.photos.in_category(user.id, Category.NOT_BLURRED, user.blur_threshold)


async def start_album(
    user: User,
    title: str | None,
    *,
    uow: UowFactory,
    queue: TaskQueue,
    now: dt.datetime,
    similar: str = "all",
    as_shown: TabAsShown | None = None,
) -> Job:
    """An album of the keepers as they are now, or (`as_shown`) as the page that offered it counted them: the
    uploads count against the person's Google storage, so more than they were told of is not uploaded."""
    state = await google_account.connection_state(user.id, uow=uow)
    if state["status"] == "reconnect":
        raise Conflict("Google needs you to reconnect the account (Settings → Reconnect Google).")
    if not state["connected"]:
        raise Conflict("Connect Google first (Settings → Connect Google).")
    title = (title or "").strip() or f"Keepers {now.date().isoformat()}"
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"An album's title can be at most {MAX_TITLE} characters; this one has {len(title)}.")
    if APPEND_SCOPE not in state["scope"].split():
        raise Conflict(
            "Classify may not create albums yet: allow it first "
            "(account menu → Save keepers to Google Photos → Allow album creation)."
        )
    photo_ids = await keepers(user, uow=uow, similar=similar)
    if as_shown is not None:
        nothing = "Nothing was uploaded; reload the page, then create the album."
        as_shown.check(Category.NOT_BLURRED, user.blur_threshold, len(photo_ids), nothing, "your keepers")
    if not photo_ids:
        raise Conflict("There are no keepers to save: no photo is scored and not blurred at your threshold.")
    async with uow() as tx:
        await tx.users.hold(user.id)  # of two requests at once, the second sees the first's album under way
        under_way = [j for j in await tx.jobs.recent(user.id, 200) if j.kind == GOOGLE_ALBUM and not j.status.finished]
        if under_way:
            raise Conflict(
                f"The album “{under_way[0].payload.get('title', '')}” is being made: let it finish, or cancel it on "
                "the Jobs page, before you make another."
            )
        job = await tx.jobs.add(user.id, GOOGLE_ALBUM, len(photo_ids), {"title": title}, [str(p) for p in photo_ids])
        await tx.commit()
    await queue.enqueue(ALBUM_TASK, str(job.id), job_id=task_id(job.id))
    return job


async def resume_paused(user_id: uuid.UUID, *, uow: UowFactory, queue: TaskQueue, now: dt.datetime) -> int:
    """After a reconnect, the Google jobs that waited for it carry on where they stopped."""
    async with uow() as tx:
        paused = await tx.jobs.paused_for(user_id)
        for job in paused:
            await tx.jobs.set_status(job.id, JobStatus.QUEUED, now)
        await tx.commit()
    for job in paused:
        await queue.enqueue(
            IMPORT_TASK if job.kind == GOOGLE_IMPORT else ALBUM_TASK, str(job.id), job_id=task_id(job.id)
        )
    return len(paused)


def album_result(album: AlbumCreated, title: str) -> dict[str, Any]:
    return {"album_id": album.id, "product_url": album.product_url, "title": title}
