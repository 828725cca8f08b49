"""Originals and renditions as files under the data dir, written atomically under server-made names."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import shutil
import tempfile
import time
from pathlib import Path

import anyio.to_thread

from app.adapters.sql.outage import NO_SPACE
from app.domain.errors import StorageFull
from app.domain.units import megabytes


def _write_atomically(path: Path, data: bytes, *, lasting: bool = False) -> None:
    """Write under a temporary name, then rename. `lasting`: the rename too is on disk before this returns,
    for a file that a row will name and that cannot be made again (an original, not a thumbnail)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    except OSError as exc:
        raise StorageFull() if exc.errno in NO_SPACE else exc from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            # on disk before its name is: after a power cut, a row never names an empty or cut-short file
            os.fsync(out.fileno())
        os.replace(tmp, path)
        if lasting:
            _sync_folder(path.parent)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in NO_SPACE:
            raise StorageFull() from exc
        raise


def _sync_folder(folder: Path) -> None:
    # a rename is an entry in the folder: after a power cut, PostgreSQL's committed row could name a file
    # whose rename was still in the page cache
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalPhotoStorage:
    def __init__(self, data_dir: Path, *, reserve_bytes: int = 0) -> None:
        self.originals = data_dir / "originals"
        self.renditions = data_dir / "renditions"
        self.reserve_bytes = reserve_bytes

    def new_key(self) -> str:
        return secrets.token_hex(16)

    def original_path(self, key: str) -> Path:
        return self.originals / key[:2] / key

    def rendition_path(self, key: str, size: str) -> Path:
        return self.renditions / key[:2] / f"{key}.{size}.jpg"

    async def put_original(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._check_room, len(data))
        write = functools.partial(_write_atomically, lasting=True)
        await anyio.to_thread.run_sync(write, self.original_path(key), data)

    def _check_room(self, size: int) -> None:
        """Originals stop short of filling the disk: the rest is kept for the database, thumbs and sign-ins,
        so that people can still sign in and remove photos to make room."""
        if not self.reserve_bytes:
            return
        self.originals.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(self.originals).free - size < self.reserve_bytes:
            raise StorageFull.at_reserve(megabytes(self.reserve_bytes))

    async def read_original(self, key: str) -> bytes:
        return await anyio.to_thread.run_sync(self.original_path(key).read_bytes)

    async def put_rendition(self, key: str, size: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(_write_atomically, self.rendition_path(key, size), data)

    async def keys_older_than(self, seconds: float) -> list[str]:
        """Keys with an original or a rendition written before `seconds` ago. Renditions count on their own:
        a removal cut off between a photo's files leaves its thumb without an original."""

        def walk() -> list[str]:
            cutoff, keys = time.time() - seconds, set()
            for entry in (*self.originals.glob("*/*"), *self.renditions.glob("*/*")):
                with contextlib.suppress(FileNotFoundError):  # removed meanwhile
                    if entry.stat().st_mtime >= cutoff:
                        continue
                    if entry.name.startswith(".tmp-"):  # a write cut off by a crash: never renamed into place
                        entry.unlink()
                    else:
                        keys.add(entry.name.split(".", 1)[0])
            return sorted(keys)

        return await anyio.to_thread.run_sync(walk)

    async def delete(self, key: str) -> None:
        def unlink_all() -> None:
            self.original_path(key).unlink(missing_ok=True)
            for size in ("thumb", "medium"):
                path = self.rendition_path(key, size)
                path.unlink(missing_ok=True)
                # Renditions were WebP before 2026-12; a photo stored then may still have them.
                path.with_suffix(".webp").unlink(missing_ok=True)

        await anyio.to_thread.run_sync(unlink_all)
