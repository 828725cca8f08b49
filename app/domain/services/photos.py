"""Bringing photos in, browsing them by category, and taking them out."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from app.domain.categories import (
    Category,
    CategoryCounts,
    Order,
    ThresholdSuggestion,
    agreeing,
    histogram,
    suggest_threshold,
    validate_mark,
    validate_threshold,
)
from app.domain.errors import Conflict, InvalidInput, NotFound, PayloadRejected
from app.domain.model import NO_FILTER, NewPhoto, Photo, PhotoFilter, User
from app.domain.ports import (
    ImageInspector,
    PhotoPage,
    PhotoStorage,
    ProbedImage,
    ScoreOutcome,
    TaskQueue,
    UnitOfWork,
    UowFactory,
)
from app.domain.units import megabytes

SCORE_TASK = "score_photo"
MAX_CHOSEN = 100_000  # photos a batch (to score, tag or remove) can name
MAX_PAGE = 200  # photos on one page of the list


def within_a_batch(photo_ids: Sequence[uuid.UUID], hint: str = "") -> list[uuid.UUID]:
    """The ids a batch names, each once and in the order given; none, or more than MAX_CHOSEN, is bad input (a
    job of nothing, or "marked 0", would say it was done). `hint` ends both messages."""
    unique = list(dict.fromkeys(photo_ids))
    if not unique:
        raise InvalidInput(f"photo_ids is empty: name at least one photo{hint}.")
    if len(unique) > MAX_CHOSEN:
        raise InvalidInput(f"A batch can hold at most {MAX_CHOSEN} photos{hint}.")
    return unique


async def chosen_photos(tx: UnitOfWork, owner: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The photos a batch names (`within_a_batch`); one that is not the owner's is not found, and nothing is
    started."""
    unique = within_a_batch(photo_ids)
    theirs = await tx.photos.owned(owner, unique)
    if missing := [photo_id for photo_id in unique if photo_id not in theirs]:
        # a page's ticks go stale when another window removes a photo: say so, not only which id
        raise NotFound(
            f"{len(missing)} of the {len(unique)} chosen photos {'is' if len(missing) == 1 else 'are'} not in your "
            f"library (removed since, perhaps in another window), so nothing was changed; reload the page and "
            f"choose again. The first: {missing[0]}."
        )
    return unique


@dataclass(frozen=True)
class Imported:
    photo: Photo
    created: bool


def score_task_id(photo_id: uuid.UUID) -> str:
    return f"score:{photo_id}"


async def import_photo(
    data: bytes,
    filename: str,
    *,
    owner: uuid.UUID,
    source: str,
    uow: UowFactory,
    storage: PhotoStorage,
    images: ImageInspector,
    queue: TaskQueue,
    max_bytes: int,
    source_id: str | None = None,
    quota_bytes: int | None = None,
) -> Imported:
    """Validate, store and score (or queue the scoring of) one photo. A rejected file leaves no row, no file
    and no job."""
    if len(data) > max_bytes:
        raise PayloadRejected(413, f"{filename} is over {megabytes(max_bytes)}, the limit for one file.")
    probed = images.probe(data, filename)
    sha256 = hashlib.sha256(data).hexdigest()
    existing = await _existing(owner, sha256, source, source_id, uow)
    if existing:
        return Imported(existing, created=False)
    if quota_bytes is not None:
        await _check_quota(owner, filename, len(data), quota_bytes, uow)
    key = storage.new_key()
    try:
        await storage.put_original(key, data)
        # Decodes fully: a damaged file fails here and its stored original goes, before any row is written.
        intake = await images.intake(storage.original_path(key), filename)
        await storage.put_rendition(key, "thumb", intake.thumb.data)
        new = _new_photo(owner, source, source_id, filename, probed, len(data), sha256, key, intake.fingerprint)
        photo = await _add_row(new, intake.score, quota_bytes, uow)
    except BaseException:
        await storage.delete(key)
        raise
    if photo is None:  # the same bytes arrived concurrently and won the race
        await storage.delete(key)
        existing = await _existing(owner, sha256, source, source_id, uow)
        if existing is None:
            raise PayloadRejected(409, f"{filename} could not be stored; try again.")
        return Imported(existing, created=False)
    if photo.blur_score is None:
        await queue.enqueue(SCORE_TASK, str(photo.id), job_id=score_task_id(photo.id))
    return Imported(photo, created=True)


async def _check_quota(owner: uuid.UUID, filename: str, size: int, quota_bytes: int, uow: UowFactory) -> None:
    async with uow() as tx:
        used = await tx.photos.bytes_stored(owner)
    if used + size > quota_bytes:
        raise _over_quota(filename, size, used, quota_bytes)


def _over_quota(filename: str, size: int, used: int, quota_bytes: int) -> PayloadRejected:
    return PayloadRejected(
        413,
        f"{filename} ({megabytes(size)}) does not fit in your storage quota: {megabytes(used)} of "
        f"{megabytes(quota_bytes)} are used (Recently removed included). Remove photos you no longer need "
        "and delete them for good in Recently removed, or ask whoever runs Classify for a larger quota.",
    )


async def _existing(owner: uuid.UUID, sha256: str, source: str, source_id: str | None, uow: UowFactory) -> Photo | None:
    async with uow() as tx:
        if source_id and (same := await tx.photos.by_source_id(owner, source, source_id)):
            return same
        return await tx.photos.by_sha256(owner, sha256)


async def rendition_file(
    photo: Photo, size: str, *, storage: PhotoStorage, images: ImageInspector, uow: UowFactory
) -> Path:
    """The photo's `size` rendition on disk, made from the original the first time it is asked for.

    Only the thumb is made when a photo comes in: most photos of a big library are seen in the grid and
    never opened, and the medium costs four times the thumb to make (a 1/2- instead of a 1/8-scale
    decode, and a 1600 px JPEG) and ~450 KB of disk a photo. Made once, then served from the file; two
    first requests at once both make it, and the second atomic write replaces the first with the same bytes.
    """
    path = storage.rendition_path(photo.storage_key, size)
    if path.exists():
        return path
    try:
        original = await storage.read_original(photo.storage_key)
        rendition = await images.render(original, size)
    except (OSError, PayloadRejected):
        raise NotFound("This photo's stored original could not be read, so there is no preview of it.") from None
    await storage.put_rendition(photo.storage_key, size, rendition.data)
    async with uow() as tx:
        kept = await tx.photos.is_kept(photo.user_id, photo.id)
    if not kept:  # deleted for good while this was being made: leave no file of it behind
        await storage.delete(photo.storage_key)
        raise NotFound("No such photo.")
    return path


def _printable(name: str) -> str:
    # A name comes from a browser, Drive or Dropbox; control characters (NUL above all, which
    # PostgreSQL text refuses) are never part of a name anyone meant.
    return "".join(ch for ch in name if ch.isprintable())


def _new_photo(
    owner: uuid.UUID,
    source: str,
    source_id: str | None,
    filename: str,
    probed: ProbedImage,
    size: int,
    sha256: str,
    key: str,
    fingerprint: str | None,
) -> NewPhoto:
    return NewPhoto(
        user_id=owner,
        source=source,
        source_id=source_id,
        filename=_printable(filename)[:512] or "photo",
        mime_type=probed.mime_type,
        width=probed.height if probed.sideways else probed.width,  # as the photo is shown
        height=probed.width if probed.sideways else probed.height,
        file_size=size,
        sha256=sha256,
        storage_key=key,
        taken_at=probed.taken_at,
        flags=tuple(probed.flags),
        fingerprint=fingerprint,
    )


async def _add_row(new: NewPhoto, score: ScoreOutcome | None, quota_bytes: int | None, uow: UowFactory) -> Photo | None:
    """The new row, with its score when the photo was scored on arrival; refused (413) if it overfills the quota."""
    try:
        async with uow() as tx:
            if quota_bytes is not None:  # photos of one import arrive side by side: one at a time past here
                await tx.users.hold(new.user_id)
            photo = await tx.photos.add(new, score, dt.datetime.now(dt.UTC))
            if quota_bytes is not None:  # again, with this photo and any that were added meanwhile
                stored = await tx.photos.bytes_stored(new.user_id)
                if stored > quota_bytes:
                    raise _over_quota(new.filename, new.file_size, stored - new.file_size, quota_bytes)
            await tx.commit()
        return photo
    except Conflict:  # the same photo was stored concurrently: the caller returns the one that won
        return None


async def get_photo(owner: uuid.UUID, photo_id: uuid.UUID, *, uow: UowFactory) -> Photo:
    async with uow() as tx:
        photo = await tx.photos.get(owner, photo_id)
    if photo is None:
        raise NotFound("No such photo.")
    return photo


async def place(
    user: User,
    photo: Photo,
    category: Category,
    *,
    uow: UowFactory,
    order: Order = Order.NEWEST,
    only: PhotoFilter = NO_FILTER,
) -> tuple[int, int] | None:
    """Where `photo` stands among the photos of `category` (12 of 143), or None when it is not one of them any
    more (marked into another tab since the page it was opened from)."""
    async with uow() as tx:
        return await tx.photos.place(user.id, photo, category, user.blur_threshold, order, only)


async def neighbours(
    user: User,
    photo: Photo,
    category: Category,
    *,
    uow: UowFactory,
    order: Order = Order.NEWEST,
    only: PhotoFilter = NO_FILTER,
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """The previous and next photo of `category` around `photo`, in the gallery's `order`, among the photos
    its filters (`only`) let through."""
    async with uow() as tx:
        return await tx.photos.neighbours(user.id, photo, category, user.blur_threshold, order, only)


async def mark_photo(owner: uuid.UUID, photo_id: uuid.UUID, marked_as: str | None, *, uow: UowFactory) -> Photo:
    """Set the person's own call on a photo: "sharp" or "blurred" decides its category whatever its score and
    the threshold (and stays through a re-score); None lets the score decide again."""
    try:
        marked_as = validate_mark(marked_as)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    async with uow() as tx:
        photo = await tx.photos.get(owner, photo_id)
        if photo is None:
            raise NotFound("No such photo.")
        await tx.photos.set_marks(owner, [photo_id], marked_as)
        await tx.commit()
    return replace(photo, marked_as=marked_as)


async def mark_photos(
    owner: uuid.UUID, photo_ids: Sequence[uuid.UUID], marked_as: str | None, *, uow: UowFactory
) -> int:
    """The same call on many photos at once (all or none: one that is not the owner's is not found); how many."""
    try:
        marked_as = validate_mark(marked_as)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    async with uow() as tx:
        chosen = await chosen_photos(tx, owner, photo_ids)
        await tx.photos.set_marks(owner, chosen, marked_as)
        await tx.commit()
    return len(chosen)


async def delete_photo(
    owner: uuid.UUID, photo_id: uuid.UUID, *, uow: UowFactory, clock: Callable[[], dt.datetime]
) -> None:
    """Remove the photo from the library to Recently removed; nothing is deleted at its source."""
    async with uow() as tx:
        # two removals at once: only the one that moved it says so
        if not await tx.removed.put(owner, [photo_id], clock(), None):
            raise NotFound("No such photo.")
        await tx.commit()


async def list_photos(
    user: User,
    category: Category,
    *,
    uow: UowFactory,
    limit: int = 48,
    cursor: str | None = None,
    only: PhotoFilter = NO_FILTER,
    order: Order = Order.NEWEST,
) -> tuple[PhotoPage, CategoryCounts]:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}.")
    async with uow() as tx:
        page = await tx.photos.page(user.id, category, user.blur_threshold, limit, cursor, only, order)
        counts = await tx.photos.counts(user.id, user.blur_threshold, only)  # what the tabs would show
    return page, counts


async def preview_counts(user: User, threshold: float, *, uow: UowFactory) -> CategoryCounts:
    """What each category would hold at a threshold not saved yet (from the stored scores, no re-scoring)."""
    threshold = _checked_threshold(threshold)
    async with uow() as tx:
        counts = await tx.photos.counts(user.id, threshold)
    return counts


def _checked_threshold(value: float) -> float:
    try:
        return validate_threshold(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


async def set_threshold(user: User, threshold: float, *, uow: UowFactory) -> float:
    threshold = _checked_threshold(threshold)
    async with uow() as tx:
        await tx.users.set_threshold(user.id, threshold)
        await tx.commit()
    return threshold


async def threshold_suggestion(user: User, *, uow: UowFactory) -> ThresholdSuggestion | None:
    """The threshold the person's own marks point to, when it would agree with more of them than theirs does."""
    async with uow() as tx:
        suggestion = suggest_threshold(await tx.photos.marked_scores(user.id), user.blur_threshold)
        if suggestion is None:
            return None
        return replace(suggestion, counts=await tx.photos.counts(user.id, suggestion.threshold))


async def use_suggested_threshold(user: User, *, uow: UowFactory) -> float:
    suggestion = await threshold_suggestion(user, uow=uow)
    if suggestion is None:
        raise Conflict("Your marks do not point to another threshold: yours agrees with them as well as any.")
    return await set_threshold(user, suggestion.threshold, uow=uow)


async def statistics(user: User, *, uow: UowFactory, now: dt.datetime, quota_bytes: int | None = None) -> dict:
    start_of_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with uow() as tx:
        counts = await tx.photos.counts(user.id, user.blur_threshold)
        scores = await tx.photos.scores(user.id)
        figures = await tx.photos.stats(user.id, start_of_day)
        marked = await tx.photos.marked_scores(user.id)
        removed, removed_bytes = await tx.removed.summary(user.id)
    blurred = sum(blurred for _, blurred in marked)
    # the marks that say otherwise than the score does at the person's threshold: how often it was overruled
    overruled = len(marked) - agreeing(marked, user.blur_threshold)
    return {
        "counts": counts.as_dict(),
        "threshold": user.blur_threshold,
        "histogram": {"bins": 20, "counts": histogram(scores, 20)},
        "quota_bytes": quota_bytes,
        "marks": {"sharp": len(marked) - blurred, "blurred": blurred, "overruled": overruled},
        # Recently removed: not in the counts, but its files are still stored, and the quota counts them
        "removed": {"count": removed, "bytes": removed_bytes},
        **figures,
    }


async def ordered_batches(
    user: User, category: Category, order: Order, *, uow: UowFactory, only: PhotoFilter = NO_FILTER, size: int
) -> AsyncIterator[list[Photo]]:
    """The category's photos in a gallery order, `size` at a time: what the tab shows, page after page, each
    page read on its own: a pass over a library of any size holds one page, and no transaction stays open
    while the caller works through one."""
    cursor = None
    while True:
        async with uow() as tx:
            page = await tx.photos.page(user.id, category, user.blur_threshold, size, cursor, only, order)
        if page.items:
            yield page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor
