"""What goes into an export ZIP, and under which names."""

from __future__ import annotations

from pathlib import Path

from app.domain.categories import Category
from app.domain.errors import InvalidInput
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
