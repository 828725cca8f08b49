"""What goes into an export: a ZIP of originals under which names, or a list of the photos as rows."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from app.domain.categories import Category, Order
from app.domain.errors import InvalidInput
from app.domain.links import source_link
from app.domain.model import NO_FILTER, Photo, PhotoFilter, User
from app.domain.naming import split_name, unique_names
from app.domain.ports import PhotoStorage, UowFactory
from app.domain.services.photos import ordered_batches
from app.domain.services.similar import check_similar, lesser_shots
from app.domain.vision import ai_file_stem

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/heic": ".heic",
    "image/heif": ".heif",
}
JPEG_EXTENSIONS = {".jpg", ".jpeg", ".jpe", ".jfif"}


def _extension(photo: Photo) -> str:
    _, ext = split_name(photo.filename)
    detected = EXTENSIONS.get(photo.mime_type, ext or ".bin")
    if ext == detected or (detected == ".jpg" and ext in JPEG_EXTENSIONS):
        return ext
    return detected  # the name lied about the type: the archive tells the truth


def served_name(photo: Photo) -> str:
    """The name an original is served under: its own, with the extension of what it is (a JPEG uploaded as
    page.html is saved as page.jpg, never as a page a browser would open as HTML)."""
    return split_name(photo.filename)[0] + _extension(photo)


NAMINGS = ("original", "ai")
BATCH = 500  # photos read at a time: an export of any size holds one batch in memory, and starts at once


def _archive_names(photos: list[Photo], names: str, taken: set[str]) -> list[str]:
    """Names in the archive for `photos` (`names` one of NAMINGS), none of them in `taken` (the names given so
    far, which it extends)."""
    if names == "ai":  # the AI's name with the capture date first; the original name where there is none yet
        wanted = [
            (ai_file_stem(p.proposed_name, p.taken_at) if p.proposed_name else split_name(p.filename)[0], _extension(p))
            for p in photos
        ]
    else:
        wanted = [(split_name(p.filename)[0], _extension(p)) for p in photos]
    return unique_names(wanted, taken)


async def export_entries(
    user: User,
    category: Category,
    names: str,
    *,
    uow: UowFactory,
    storage: PhotoStorage,
    only: PhotoFilter = NO_FILTER,
    similar: str = "all",
    order: Order = Order.NEWEST,
) -> AsyncIterator[tuple[str, Path]]:
    """The tab's photos (narrowed like the gallery by source, tag and search; with `similar="sharpest"`, only
    the sharpest of each group of similar shots among them) and their names in the ZIP, as they are read, in
    the tab's order.

    What can be refused is refused here, before the archive's first byte: a stream cannot turn into an error.
    """
    if names not in NAMINGS:
        raise InvalidInput("names must be 'original' or 'ai'.")
    batches = await _exported(user, category, uow=uow, only=only, similar=similar, order=order)
    return _entries(batches, names, storage)


async def _entries(
    batches: AsyncIterator[list[Photo]], names: str, storage: PhotoStorage
) -> AsyncIterator[tuple[str, Path]]:
    taken: set[str] = set()
    async for batch in batches:
        for name, photo in zip(_archive_names(batch, names, taken), batch, strict=True):
            yield name, storage.original_path(photo.storage_key)


async def _exported(
    user: User, category: Category, *, uow: UowFactory, only: PhotoFilter, similar: str, order: Order
) -> AsyncIterator[list[Photo]]:
    """The batches an export takes; with `similar="sharpest"`, less the lesser shots of each moment, which are
    known before the first batch from the scores and marks alone."""
    check_similar(similar)
    lesser: set[uuid.UUID] = set()
    if similar == "sharpest":
        async with uow() as tx:
            calls = await tx.photos.calls_in_category(user.id, category, user.blur_threshold, only)
        lesser = await lesser_shots(user, calls, uow=uow)
    return _without(ordered_batches(user, category, order, uow=uow, only=only, size=BATCH), lesser)


async def _without(batches: AsyncIterator[list[Photo]], lesser: set[uuid.UUID]) -> AsyncIterator[list[Photo]]:
    async for batch in batches:
        if kept := [photo for photo in batch if photo.id not in lesser]:
            yield kept


LIST_COLUMNS = (
    "filename",
    "category",
    "blur_score",
    "blur_kind",
    "your_call",
    "taken_at",
    "added_at",
    "source",
    "source_id",
    "source_link",
    "width",
    "height",
    "file_size",
    "tags",
    "caption",
    "proposed_name",
    "id",
    "zip_name",  # its name in a ZIP of the same tab, where two photos called dup.jpg become dup.jpg and dup-2.jpg
    "zip_name_ai",  # the same in a ZIP with AI names
)
ListRow = tuple[str | float | int | None, ...]


async def list_rows(
    user: User,
    category: Category,
    *,
    uow: UowFactory,
    only: PhotoFilter = NO_FILTER,
    similar: str = "all",
    order: Order = Order.NEWEST,
) -> AsyncIterator[list[ListRow]]:
    """The photos a ZIP of the tab would hold, one row of LIST_COLUMNS each, at the person's threshold, a
    batch of rows at a time.

    A list to sort in a spreadsheet, or to go through and delete the blurred photos where they live: Classify
    never deletes anything at a source, so the list says where each photo came from.
    """
    batches = await _exported(user, category, uow=uow, only=only, similar=similar, order=order)
    return _rows(batches, user.blur_threshold)


async def _rows(batches: AsyncIterator[list[Photo]], threshold: float) -> AsyncIterator[list[ListRow]]:
    taken: dict[str, set[str]] = {names: set() for names in NAMINGS}
    async for batch in batches:
        in_zip = zip(*(_archive_names(batch, names, taken[names]) for names in NAMINGS), strict=True)
        yield [(*_list_row(photo, threshold), *zip_names) for photo, zip_names in zip(batch, in_zip, strict=True)]


def _list_row(photo: Photo, threshold: float) -> ListRow:
    return (
        photo.filename,
        photo.category_at(threshold).value,
        None if photo.blur_score is None else round(photo.blur_score, 4),
        photo.blur_kind_at(threshold),
        photo.marked_as,
        photo.taken_at.isoformat() if photo.taken_at else None,
        photo.created_at.isoformat(),
        photo.source,
        photo.source_id,
        source_link(photo.source, photo.source_id),
        photo.width,
        photo.height,
        photo.file_size,
        " ".join(photo.tags),
        photo.caption,
        photo.proposed_name,
        str(photo.id),
    )
