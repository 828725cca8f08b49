"""A server whose disk is full, or nearly: a clear 507 that keeps nothing half-written, and the person can
still sign in, look, and remove photos to make room (a full disk made every write a 500 before, deletes too)."""

from __future__ import annotations

import shutil
import time

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, event

from app.adapters.sql.migrate import upgrade
from app.bootstrap import bootstrap
from app.main import create_app
from tests import images
from tests.conftest import create_account, login, make_settings

DISK_FULL = "The server's disk is full, so nothing was saved."


def _app(settings) -> TestClient:
    return TestClient(app=create_app(settings, bootstrap(settings)))


def _stored_files(settings) -> list[str]:
    return sorted(p.name for p in settings.originals_dir.rglob("*") if p.is_file())


def test_originals_stop_short_of_the_room_kept_free_and_the_rest_still_works(tmp_path, database_url):
    roomy = make_settings(tmp_path / "data", database_url)
    create_account(roomy, "owner@example.com")
    with _app(roomy) as client:
        kept = login(client, "owner@example.com").upload(("kept.jpg", images.jpeg(seed=1))).json()["photos"][0]
    # the same server with less free space than it keeps back (a reserve past the disk's size)
    free_mb = shutil.disk_usage(tmp_path).free / 2**20
    tight = make_settings(tmp_path / "data", database_url, min_free_mb=free_mb + 1024)
    with _app(tight) as client:
        api = login(client, "owner@example.com")  # signing in still writes its session
        refused = api.upload(("new.jpg", images.jpeg(seed=2)), ("again.jpg", images.jpeg(seed=1)))
        assert refused.status_code == 200  # the one already there is returned; the new one is refused alone
        [rejection] = refused.json()["rejected"]
        assert rejection["status_code"] == 507 and rejection["filename"] == "new.jpg"
        assert rejection["detail"].startswith("The server's disk is nearly full (it keeps ")
        alone = api.upload(("new.jpg", images.jpeg(seed=2)))
        assert alone.status_code == 507 and "removing photos you no longer need frees some" in alone.json()["detail"]
        assert api.get("/api/v1/photos").json()["counts"]["all"] == 1
        assert len(_stored_files(tight)) == 1  # the kept photo's; nothing of the refused one
        assert api.patch("/api/v1/settings", json={"blur_threshold": 0.4}).status_code == 200
        assert api.delete(f"/api/v1/photos/{kept['id']}").status_code == 204
        assert len(_stored_files(tight)) == 1  # in Recently removed, until deleted for good: making room works
        assert api.post("/api/v1/removed/discard", json={"all": True}).json() == {"discarded": 1}
        assert _stored_files(tight) == []


@pytest.mark.same_on_both_databases
def test_a_database_with_no_room_left_answers_507_and_keeps_no_file_of_the_refused_photo(tmp_path):
    """SQLite's own disk-full error, made real by capping the file's pages where it stands."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'classify.db'}"
    upgrade(url)
    settings = make_settings(tmp_path / "data", url)
    create_account(settings, "owner@example.com")

    def no_more_pages(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA page_count")
        pages = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    event.listen(Engine, "connect", no_more_pages)
    try:
        with _app(settings) as client:
            api = login(client, "owner@example.com")
            answers = [api.upload((f"p{i}.jpg", images.jpeg(seed=i))) for i in range(60)]
            codes = [a.status_code for a in answers]
            assert 507 in codes and set(codes) <= {201, 507}, codes
            full = answers[codes.index(507)].json()
            assert full["rejected"][0]["detail"].startswith(DISK_FULL)
            listed = api.get("/api/v1/photos?limit=100").json()
            assert listed["counts"]["all"] == codes.count(201)
            assert len(_stored_files(settings)) == codes.count(201)  # no file without its row
    finally:
        event.remove(Engine, "connect", no_more_pages)


def test_an_import_on_a_full_disk_ends_with_each_file_failed_and_the_reason(tmp_path, database_url):
    """It stayed "running" for good, every file's task failing and queued again by each sweep."""
    root = tmp_path / "imports"
    for i in range(3):
        images.write(root / "trip" / f"p{i}.jpg", images.jpeg(seed=i))
    free_mb = shutil.disk_usage(tmp_path).free / 2**20
    settings = make_settings(tmp_path / "data", database_url, import_root=root, min_free_mb=free_mb + 1024)
    create_account(settings, "owner@example.com")
    with _app(settings) as client:
        api = login(client, "owner@example.com")
        job_id = api.post("/api/v1/imports", json={"source": "folder", "path": "trip"}).json()["job_id"]
        for _ in range(300):
            job = api.get(f"/api/v1/blur/jobs/{job_id}").json()
            if job["status"] != "running" and job["status"] != "queued":
                break
            time.sleep(0.05)
        assert job["status"] == "done" and job["failed"] == 3, job
        items = api.get(f"/api/v1/blur/jobs/{job_id}/items").json()
        assert len(items) == 3 and all(i["error"].startswith("The server's disk is nearly full") for i in items)
