"""Importing a server folder: only under the import root, recursive, non-images skipped with a reason."""

from __future__ import annotations

import time

import pytest
from litestar.testing import TestClient

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.main import create_app
from tests import images
from tests.conftest import create_account, login, make_settings


@pytest.fixture
def folder_api(tmp_path, database_url):
    root = tmp_path / "imports"
    (root / "trip" / "day2").mkdir(parents=True)
    images.write(root / "trip" / "a.jpg", images.jpeg(seed=1))
    images.write(root / "trip" / "day2" / "b.png", images.png())
    images.write(root / "trip" / "notes.txt", b"not a photo")
    images.write(root / "outside.jpg", images.jpeg(seed=2))
    settings = make_settings(tmp_path / "data", database_url, import_root=root)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        yield login(client, "owner@example.com")


def _finished(api, job_id):
    for _ in range(300):
        job = api.get(f"/api/v1/blur/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(job)


def test_folder_import_is_recursive_and_skips_non_images(folder_api):
    accepted = folder_api.post("/api/v1/imports", json={"source": "folder", "path": "trip"})
    assert accepted.status_code == 202 and accepted.json()["total"] == 3
    job = _finished(folder_api, accepted.json()["job_id"])
    assert job["status"] == "done" and job["done"] == 3 and job["failed"] == 0
    assert job["skipped"] == 1  # notes.txt: handled, so counted in done, and said apart
    assert job["title"] == "Import of the server folder trip"
    photos = folder_api.get("/api/v1/photos?source=folder").json()["items"]
    assert sorted(p["filename"] for p in photos) == ["a.jpg", "b.png"]
    assert {p["source_id"] for p in photos} == {"trip/a.jpg", "trip/day2/b.png"}
    again = folder_api.post("/api/v1/imports", json={"source": "folder", "path": "trip"}).json()
    job = _finished(folder_api, again["job_id"])
    assert folder_api.get("/api/v1/photos").json()["counts"]["all"] == 2
    # the re-import says it added nothing (it read "3 done" as if it had imported the folder again)
    assert (job["done"], job["skipped"]) == (3, 3)
    reasons = {i["item"]: i["error"] for i in folder_api.get(f"/api/v1/blur/jobs/{job['id']}/items").json()}
    assert reasons["trip/a.jpg"] == "a.jpg was imported from here before; nothing to add."


def test_folder_import_refuses_paths_outside_the_root_without_naming_it(folder_api, tmp_path):
    for path in ("../", "/etc", "trip/../../"):
        response = folder_api.post("/api/v1/imports", json={"source": "folder", "path": path})
        assert response.status_code == 422, path
        assert "import root" in response.json()["detail"]
        assert str(tmp_path) not in response.json()["detail"]  # the server's layout is not every user's business
    missing = folder_api.post("/api/v1/imports", json={"source": "folder", "path": "nope"})
    assert missing.status_code == 404
    loop = tmp_path / "imports" / "loopy"
    loop.symlink_to(loop)  # a symlink to itself, and a name longer than any file system takes: 422, not 500
    for path in ("loopy", "a" * 5000):
        unreadable = folder_api.post("/api/v1/imports", json={"source": "folder", "path": path})
        assert unreadable.status_code == 422 and "not a folder path" in unreadable.json()["detail"], path
    assert folder_api.post("/api/v1/imports", json={"source": "ftp", "path": "trip"}).status_code == 422


def test_folder_import_is_off_without_an_import_root(api):
    response = api.post("/api/v1/imports", json={"source": "folder", "path": "x"})
    assert response.status_code == 422 and "CLASSIFY_IMPORT_ROOT" in response.json()["detail"]


def test_an_import_past_the_storage_quota_fails_those_items_with_the_reason(tmp_path, database_url):
    root = tmp_path / "imports"
    photos = [images.jpeg(900, 700, seed=seed) for seed in (1, 2)]
    for name, data in zip(("a.jpg", "b.jpg"), photos, strict=True):
        images.write(root / "trip" / name, data)
    quota_mb = (max(map(len, photos)) + min(map(len, photos)) / 2) / 1024 / 1024  # room for either, not both
    settings = make_settings(tmp_path / "data", database_url, import_root=root, quota_mb=quota_mb)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        accepted = api.post("/api/v1/imports", json={"source": "folder", "path": "trip"}).json()
        job = _finished(api, accepted["job_id"])
        assert job["done"] == 1 and job["failed"] == 1
        items = api.get(f"/api/v1/blur/jobs/{accepted['job_id']}/items").json()
        assert "storage quota" in str(items), items
        assert api.get("/api/v1/photos").json()["counts"]["all"] == 1


def test_a_file_already_here_is_a_skipped_item_that_names_its_photo_and_a_reimport_stays_silent(folder_api):
    assert folder_api.upload(("from-phone.jpg", images.jpeg(seed=1))).status_code == 201  # trip/a.jpg's bytes
    first = folder_api.post("/api/v1/imports", json={"source": "folder", "path": "trip"}).json()
    job = _finished(folder_api, first["job_id"])
    assert job["status"] == "done" and job["done"] == 3 and job["failed"] == 0  # a skipped item is handled
    assert job["skipped"] == 2  # notes.txt, and a.jpg already here
    items = {i["item"]: i for i in folder_api.get(f"/api/v1/blur/jobs/{first['job_id']}/items").json()}
    assert items["trip/a.jpg"]["status"] == "skipped"
    assert items["trip/a.jpg"]["error"] == "a.jpg is already in Classify as from-phone.jpg (the same bytes)."
    again = folder_api.post("/api/v1/imports", json={"source": "folder", "path": "trip"}).json()
    _finished(folder_api, again["job_id"])
    reasons = [i["error"] for i in folder_api.get(f"/api/v1/blur/jobs/{again['job_id']}/items").json()]
    assert [r for r in reasons if "already in Classify" in r] == [
        "a.jpg is already in Classify as from-phone.jpg (the same bytes)."
    ]  # b.png, imported the first time, adds nothing and says nothing
    assert folder_api.get("/api/v1/photos").json()["counts"]["all"] == 2


def test_links_pipes_and_dangling_links_are_named_as_skipped_not_left_out(tmp_path, database_url):
    """They were left out of the job without a word (imports review); a pipe must not be opened, or the task
    waits for a writer that never comes."""
    import os

    root = tmp_path / "imports"
    (root / "mixed").mkdir(parents=True)
    images.write(root / "mixed" / "a.jpg", images.jpeg(seed=3))
    images.write(tmp_path / "elsewhere.jpg", images.jpeg(seed=4))
    (root / "mixed" / "out.jpg").symlink_to(tmp_path / "elsewhere.jpg")
    (root / "mixed" / "inside.jpg").symlink_to(root / "mixed" / "a.jpg")
    (root / "mixed" / "gone.jpg").symlink_to(root / "mixed" / "nothing.jpg")
    os.mkfifo(root / "mixed" / "pipe.jpg")
    settings = make_settings(tmp_path / "data", database_url, import_root=root)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        accepted = api.post("/api/v1/imports", json={"source": "folder", "path": "mixed"})
        assert accepted.status_code == 202 and accepted.json()["total"] == 5
        job = _finished(api, accepted.json()["job_id"])
        assert (job["status"], job["done"], job["skipped"], job["failed"]) == ("done", 5, 4, 0)
        reasons = {i["item"]: i["error"] for i in api.get(f"/api/v1/blur/jobs/{job['id']}/items").json()}
        link = "{} is a link; links are not followed, the file it points to can be imported itself."
        assert reasons == {
            "mixed/gone.jpg": link.format("gone.jpg"),
            "mixed/inside.jpg": link.format("inside.jpg"),
            "mixed/out.jpg": link.format("out.jpg"),
            "mixed/pipe.jpg": "pipe.jpg is not a regular file (a pipe, socket or device); skipped.",
        }
        assert [p["filename"] for p in api.get("/api/v1/photos").json()["items"]] == ["a.jpg"]
