"""A file no photo owns (an import killed between writing its file and committing its row) is removed once it is
old; a photo's own files, and a file still on its way in, are not."""

from __future__ import annotations

import asyncio
import os
import time

from litestar.testing import TestClient

from app import main
from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain.services.stray_files import STRAY_AFTER_SECONDS, remove_stray_files
from tests import images
from tests.conftest import run_sql


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_old_files_no_photo_owns_are_removed_and_nothing_else(api, settings, database_url):
    photo = api.upload(("kept.jpg", images.jpeg(seed=4))).json()["photos"][0]
    api.wait_scored()
    thumb = api.get(photo["thumbnail_url"])
    assert thumb.status_code == 200
    (key,) = run_sql(database_url, "SELECT storage_key FROM photos")[0]
    originals = settings.data_dir / "originals"
    owned = originals / key[:2] / key
    stray = originals / "ab" / ("ab" + "0" * 30)
    arriving = originals / "cd" / ("cd" + "1" * 30)
    half_written = originals / "ab" / ".tmp-x1y2"
    renditions = settings.data_dir / "renditions"
    # a removal cut off between a photo's original and its thumb: the thumb alone, and a rendition half-written
    lone_thumb = renditions / "ef" / ("ef" + "2" * 30 + ".thumb.jpg")
    half_rendition = renditions / "ef" / ".tmp-r3s4"
    for path in (stray, arriving, half_written, lone_thumb, half_rendition):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(images.jpeg(seed=5))
    for path in (owned, stray, half_written, lone_thumb, half_rendition):
        _age(path, STRAY_AFTER_SECONDS + 60)
    _age(renditions / key[:2] / f"{key}.thumb.jpg", STRAY_AFTER_SECONDS + 60)

    async def sweep() -> int:
        container = bootstrap(settings, offload=run_inline)
        try:
            return await remove_stray_files(uow=container.uow, storage=container.storage)
        finally:
            await container.close()

    assert asyncio.run(sweep()) == 2
    assert not stray.exists() and not half_written.exists()
    assert not lone_thumb.exists() and not half_rendition.exists()  # stayed for good before
    assert owned.exists() and arriving.exists()  # a photo's own, and one written moments ago
    assert api.get(photo["thumbnail_url"]).status_code == 200
    assert api.get(photo["image_url"]).content == owned.read_bytes()
    assert asyncio.run(sweep()) == 0  # nothing left to remove


def test_a_server_sweeps_soon_after_it_starts(settings, monkeypatch):
    """The first sweep came an hour after start: a server restarted more often kept what a killed removal left
    (its rows gone, its files not) for good."""
    monkeypatch.setattr(main, "FIRST_STRAY_SWEEP_SECONDS", 0.1)
    left = settings.data_dir / "originals" / "ab" / ("ab" + "0" * 30)
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_bytes(images.jpeg(seed=6))
    _age(left, STRAY_AFTER_SECONDS + 60)
    with TestClient(app=main.create_app(settings, bootstrap(settings, offload=run_inline))):
        for _ in range(100):
            if not left.exists():
                break
            time.sleep(0.05)
    assert not left.exists()
