"""Files that no photo owns: an original written by an import whose process was killed before its row was
committed. The file is written first so that a row never points at nothing; a crash between the two leaves
the file, and nothing else would ever remove it."""

from __future__ import annotations

from app.domain.ports import PhotoStorage, UowFactory

STRAY_AFTER_SECONDS = 3600.0  # an import writes its file and commits its row within its task's minute


async def remove_stray_files(*, uow: UowFactory, storage: PhotoStorage, older_than: float = STRAY_AFTER_SECONDS) -> int:
    """Remove the originals (and renditions) older than `older_than` that no photo row names, in the library
    or in Recently removed; how many went.

    The files are listed before the rows are read, so a row committed meanwhile is seen: a file is removed
    only when it was already old and still has no row after.
    """
    candidates = await storage.keys_older_than(older_than)
    if not candidates:
        return 0
    async with uow() as tx:
        owned = await tx.photos.all_storage_keys()  # in the library or in Recently removed
    strays = [key for key in candidates if key not in owned]
    for key in strays:
        await storage.delete(key)
    return len(strays)
