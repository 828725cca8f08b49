"""Recently removed: where removed photos wait KEEP_REMOVED_DAYS, with their files, to be put back or let go."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.model import KEEP_REMOVED_DAYS, Job, Photo, RemovedPhoto, User
from app.domain.ports import PhotoStorage, RemovedPage, Restored, UowFactory
from app.domain.services.photos import MAX_PAGE, within_a_batch
from app.domain.services.removal import REMOVE_BATCH

PURGE_BATCH = 500  # photos a transaction when the expired ones go
RESTORE_BATCH = 500  # photos a transaction when photos are put back
ALL_HINT = "; to take them all, say all"  # the bin's own way to name every photo


@dataclass(frozen=True)
class BinSummary:
    count: int
    bytes: int
    newest: dt.datetime | None = None  # when the photo removed last was removed: what "all" means on a page


async def list_removed(user: User, *, uow: UowFactory, limit: int = 48, cursor: str | None = None) -> RemovedPage:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.")
    async with uow() as tx:
        return await tx.removed.page(user.id, limit, cursor)


async def summary(user: User, *, uow: UowFactory) -> BinSummary:
    async with uow() as tx:
        return BinSummary(*await tx.removed.summary(user.id), await tx.removed.newest_removal(user.id))


async def undoable(user: User, jobs: Sequence[Job], *, uow: UowFactory) -> set[uuid.UUID]:
    """The removals among `jobs` whose Undo would still put photos back: some of theirs are in the bin."""
    removals = [job.id for job in jobs if job.kind == REMOVE_BATCH and job.status.finished and job.done]
    if not removals:  # most cards: no question to ask
        return set()
    async with uow() as tx:
        return await tx.removed.removals_in_bin(user.id, removals)


async def get_removed(user_id: uuid.UUID, photo_id: uuid.UUID, *, uow: UowFactory) -> RemovedPhoto:
    async with uow() as tx:
        removed = await tx.removed.get(user_id, photo_id)
    if removed is None:
        raise NotFound("No such photo in Recently removed.")
    return removed


async def restore(
    user: User,
    *,
    uow: UowFactory,
    photo_ids: list[uuid.UUID] | None = None,
    job_id: uuid.UUID | None = None,
    everything: bool = False,
    up_to: dt.datetime | None = None,
) -> Restored:
    """Put photos back in the library as they were (scores, tags, the person's call): the chosen ones, those
    one removal took (its Undo), or all (removed no later than `up_to`, if given: the bin as a page showed
    it, not what another window removed since). Ids that are not in the person's bin are passed over."""
    if sum((photo_ids is not None, job_id is not None, everything)) != 1:
        raise InvalidInput("Say which photos to put back: photo_ids, a removal's job_id, or all, and only one.")
    if photo_ids is not None:
        within_a_batch(photo_ids, ALL_HINT)
    async with uow() as tx:
        if job_id is not None and (job := await tx.jobs.get(user.id, job_id)) and not job.status.finished:
            # put back now, the removal (resumed after a restart, or queued) would take the rest away after it
            raise Conflict(
                f"This removal is still going ({job.processed} of {job.total} done), so nothing was put back. "
                "Cancel it, or let it finish, then undo it."
            )
        wanted = await tx.removed.wanted(user.id, photo_ids, job_id, up_to)
    back: list[Photo] = []
    left: list[Photo] = []
    # a transaction a batch, as a removal goes: the most recently removed first, so that of two copies of one
    # picture that one goes back, and the other then clashes with it in the library
    for start in range(0, len(wanted), RESTORE_BATCH):
        async with uow() as tx:
            restored = await tx.removed.restore(user.id, wanted[start : start + RESTORE_BATCH])
            await tx.commit()
        back += restored.photos
        left += restored.left
    return Restored(back, left)


async def discard(
    user: User,
    *,
    uow: UowFactory,
    storage: PhotoStorage,
    photo_ids: list[uuid.UUID] | None = None,
    up_to: dt.datetime | None = None,
) -> int:
    """Let the chosen photos (or, with None, all: removed no later than `up_to`, if given) of the person's bin go
    now, files and all; how many went."""
    if photo_ids is not None:
        within_a_batch(photo_ids, ALL_HINT)
    async with uow() as tx:
        keys = await tx.removed.discard(user.id, photo_ids, up_to)
        await tx.commit()
    for key in keys:  # after the rows: a file without a row is never shown, a row without a file would be
        await storage.delete(key)
    return len(keys)


async def discard_expired(*, uow: UowFactory, storage: PhotoStorage, clock: Callable[[], dt.datetime]) -> int:
    """Let go of every photo removed more than KEEP_REMOVED_DAYS ago, a batch at a time; how many went."""
    before, gone = clock() - dt.timedelta(days=KEEP_REMOVED_DAYS), 0
    while True:
        async with uow() as tx:
            keys = await tx.removed.discard_expired(before, PURGE_BATCH)
            await tx.commit()
        for key in keys:
            await storage.delete(key)
        gone += len(keys)
        if len(keys) < PURGE_BATCH:
            return gone


def left_behind(restored: Restored) -> list[str]:
    """Why each photo that stayed in the bin stayed, in words."""
    return [_why_left(photo) for photo in restored.left]


def _why_left(photo: Photo) -> str:
    again = "is in your library again (imported since, or another copy put back)"
    return f"{photo.filename}: the same picture {again}, so it stays here."
