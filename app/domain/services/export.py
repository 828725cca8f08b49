"""What goes into an export: a ZIP of originals under which names, or a list of the photos as rows."""

from __future__ import annotations

from pathlib import Path

from app.domain.categories import Category
from app.domain.errors import InvalidInput
from app.domain.links import source_link
from app.domain.model import NO_FILTER, Photo, PhotoFilter, User
from app.domain.naming import split_name, unique_names
from app.domain.ports import PhotoStorage, UowFactory
from app.domain.services.photos import photos_in
from app.domain.services.similar import narrowed
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


def archive_names(photos: list[Photo], names: str) -> list[str]:
    if names == "ai":  # the AI's name with the capture date first; the original name where there is none yet
        wanted = [
            (ai_file_stem(p.proposed_name, p.taken_at) if p.proposed_name else split_name(p.filename)[0], _extension(p))
            for p in photos
        ]
    elif names == "original":
        wanted = [(split_name(p.filename)[0], _extension(p)) for p in photos]
    else:
        raise InvalidInput("names must be 'original' or 'ai'.")
    return unique_names(wanted)


async def export_entries(
    user: User,
    category: Category,
    names: str,
    *,
    uow: UowFactory,
    storage: PhotoStorage,
    only: PhotoFilter = NO_FILTER,
    similar: str = "all",
) -> list[tuple[str, Path]]:
    """The tab's photos (narrowed like the gallery by source, tag and search; with `similar="sharpest"`, only
    the sharpest of each group of similar shots among them) and their names in the ZIP."""
    photos = await narrowed(user, await photos_in(user, category, uow=uow, only=only), similar, uow=uow)
    return [
        (name, storage.original_path(photo.storage_key))
        for name, photo in zip(archive_names(photos, names), photos, strict=True)
    ]


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
)
ListRow = tuple[str | float | int | None, ...]


async def list_rows(
    user: User, category: Category, *, uow: UowFactory, only: PhotoFilter = NO_FILTER, similar: str = "all"
) -> list[ListRow]:
    """The photos a ZIP of the tab would hold, one row of LIST_COLUMNS each, at the person's threshold.

    A list to sort in a spreadsheet, or to go through and delete the blurred photos where they live: Classify
    never deletes anything at a source, so the list says where each photo came from.
    """
    photos = await narrowed(user, await photos_in(user, category, uow=uow, only=only), similar, uow=uow)
    return [_list_row(photo, user.blur_threshold) for photo in photos]


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
