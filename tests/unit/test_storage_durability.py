"""An original's name is on disk before the row that names it can be: its folder is synced after the rename."""

from __future__ import annotations

import asyncio
import os
import stat

from app.adapters import storage as storage_module
from app.adapters.storage import LocalPhotoStorage


def test_an_originals_folder_is_synced_after_its_rename(tmp_path, monkeypatch):
    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        steps.append("sync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "sync file")
        real_fsync(fd)

    def replace(src, dst) -> None:
        steps.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    monkeypatch.setattr(storage_module.os, "replace", replace)
    store = LocalPhotoStorage(tmp_path)
    asyncio.run(store.put_original("ab" * 16, b"original bytes"))
    assert steps == ["sync file", "rename", "sync folder"]
    assert store.original_path("ab" * 16).read_bytes() == b"original bytes"
    steps.clear()
    asyncio.run(store.put_rendition("ab" * 16, "thumb", b"a thumbnail can be made again"))
    assert steps == ["sync file", "rename"]
