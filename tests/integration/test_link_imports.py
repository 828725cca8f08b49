"""Importing shared Google Drive and Dropbox folders by link, against local fakes of both services."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain import retry
from app.domain.google import DRIVE_SCOPE, SIGN_IN_SCOPES
from app.main import create_app
from app.settings import GOOGLE_DEFAULT_ROOTS
from tests import images
from tests.conftest import PASSWORD, Api, create_account, login, make_settings, run_sql
from tests.fakes.dropbox_fake import content_hash
from tests.integration.test_google import REDIRECT, api_sign_in


@pytest.fixture
def links(tmp_path, database_url, fake_drive, fake_dropbox):
    roots = {key: default for key, (_, default) in GOOGLE_DEFAULT_ROOTS.items()}
    roots.update(
        google_drive_api=fake_drive.api_root,
        dropbox_api=fake_dropbox.api_root,
        dropbox_content_api=fake_dropbox.content_root,
    )
    settings = make_settings(
        tmp_path / "data",
        database_url,
        service_roots=roots,
        google_api_key=fake_drive.api_key,
        dropbox_app_key=fake_dropbox.app_key,
        dropbox_app_secret=fake_dropbox.app_secret,
    )
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        yield login(client, "owner@example.com")


def finished(api, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/blur/jobs/{job_id}").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job still {job['status']} after {timeout}s: {job}")


def all_photos(api, source):
    """Every photo from one source, following the cursor as a client would."""
    photos, cursor = [], ""
    while True:
        page = api.get(f"/api/v1/photos?source={source}&limit=200{cursor}").json()
        photos += page["items"]
        if not page.get("next_cursor"):
            return photos
        cursor = f"&cursor={page['next_cursor']}"


def start(api, source, url, **extra):
    response = api.post("/api/v1/imports", json={"source": source, "url": url, **extra})
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def test_a_250_file_drive_folder_is_paged_imported_scored_and_non_images_skipped(links, fake_drive):
    api = links
    fake_drive.max_page_items = 100  # Drive pages at most this many, whatever pageSize asks
    folder = fake_drive.add_folder("Holiday")
    fake_drive.fill_folder(folder, 250, png_every=0)  # distinct JPEGs, plus notes.txt and a Google Doc
    job = finished(api, start(api, "google_drive", fake_drive.folder_url(folder, form="sharing")))
    assert job["status"] == "done" and job["total"] == 252 and job["failed"] == 0
    assert job["title"] == "Import from Google Drive: Holiday" and job["skipped"] == 2
    pages = [c for c in fake_drive.calls("/files", "GET") if c.path.endswith("/files")]
    assert len(pages) == 3  # 252 entries at 100 a page
    counts = api.wait_scored()["counts"]
    assert counts["all"] == 250 and counts["unprocessed"] == 0
    listed = all_photos(api, "google_drive")
    assert len(listed) == 250 and all(p["source"] == "google_drive" for p in listed)
    assert api.get("/api/v1/photos?source=upload").json()["items"] == []
    skipped = {i["item"]: i for i in api.get(f"/api/v1/blur/jobs/{job['id']}/items").json()}
    reasons = sorted(i["error"] for i in skipped.values())
    assert len(reasons) == 2 and all(i["status"] == "skipped" for i in skipped.values())
    assert any("notes.txt is not an image" in r for r in reasons) and any("Plan is not an image" in r for r in reasons)


def test_a_file_the_service_refuses_fails_alone_and_the_rest_are_imported(links, fake_drive):
    """A 400 on one file's download failed the whole job, and the files after it were never fetched."""
    api = links
    folder = fake_drive.add_folder("Mixed")
    ids = [fake_drive.add_file(folder, f"p{i}.jpg", images.jpeg(seed=40 + i), "image/jpeg") for i in range(4)]
    fake_drive.fail_next(f"/files/{ids[1]}", 400, reason="badRequest", message="Bad Request")
    job = finished(api, start(api, "google_drive", fake_drive.folder_url(folder)))
    assert job["status"] == "done" and (job["total"], job["failed"]) == (4, 1)
    failed = [i for i in api.get(f"/api/v1/blur/jobs/{job['id']}/items").json() if i["status"] == "failed"]
    assert len(failed) == 1
    assert failed[0]["error"].startswith("p1.jpg could not be downloaded: Google Drive answered 400")
    assert sorted(p["filename"] for p in all_photos(api, "google_drive")) == ["p0.jpg", "p2.jpg", "p3.jpg"]


def test_a_drive_reimport_adds_and_downloads_nothing(links, fake_drive):
    api = links
    folder = fake_drive.add_folder("Again")
    fake_drive.fill_folder(folder, 6, png_every=0, extras=False)
    url = fake_drive.folder_url(folder)
    finished(api, start(api, "google_drive", url))
    downloads = len(fake_drive.calls("/files/", "GET"))
    again = finished(api, start(api, "google_drive", url))
    assert again["status"] == "done" and again["done"] == 6
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 6
    assert len(fake_drive.calls("/files/", "GET")) - downloads == 1  # only the folder check; no file fetched


def test_a_drive_folder_with_subfolders_is_imported_only_when_asked(links, fake_drive):
    api = links
    top = fake_drive.add_folder("Top")
    fake_drive.fill_folder(top, 2, png_every=0, extras=False)
    inner = fake_drive.add_folder("Day 2", parent=top)
    for i in range(3):
        fake_drive.add_file(inner, f"day2_{i}.jpg", images.jpeg(seed=100 + i), "image/jpeg")
    flat = finished(api, start(api, "google_drive", fake_drive.folder_url(top, form="open")))
    assert (flat["total"], flat["done"], flat["skipped"]) == (3, 3, 1)  # the sub-folder, said, not left out silently
    [left_out] = [i for i in api.get(f"/api/v1/blur/jobs/{flat['id']}/items").json() if i["status"] == "skipped"]
    assert left_out["error"] == "Day 2 is a sub-folder: tick Include subfolders (recursive in the API) to import it."
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 2
    deep = finished(api, start(api, "google_drive", fake_drive.folder_url(top, form="user"), recursive=True))
    assert deep["total"] == 5 and api.get("/api/v1/photos").json()["counts"]["all"] == 5


def test_a_private_drive_folder_without_access_is_a_clear_error_and_no_job(links, fake_drive):
    api = links
    private = fake_drive.add_folder("Mine", public=False, owner_token="someone-else")
    fake_drive.fill_folder(private, 3)
    response = api.post("/api/v1/imports", json={"source": "google_drive", "url": fake_drive.folder_url(private)})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "does not show this folder" in detail and "Anyone with the link" in detail
    assert api.get("/api/v1/blur/jobs").json() == []
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 0


@pytest.mark.parametrize(
    ("source", "url", "words"),
    [
        ("google_drive", "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOp/view", "single file"),
        ("google_drive", "https://example.com/drive/folders/1AbCdEfGhIjKlMnOp", "not a Google Drive link"),
        ("dropbox", "https://www.dropbox.com/scl/fi/abc123/photo.jpg?rlkey=x", "single file"),
        ("dropbox", "https://www.dropbox.com/scl/fo/abc123/def456", "rlkey"),
        ("dropbox", "not a link", "https://"),
    ],
)
def test_links_that_are_not_shared_folders_are_refused_clearly(links, source, url, words):
    response = links.post("/api/v1/imports", json={"source": source, "url": url})
    assert response.status_code == 422 and words in response.json()["detail"]


def test_a_dropbox_folder_with_has_more_is_listed_to_the_end(links, fake_dropbox):
    api = links
    fake_dropbox.page_size = 10
    url = fake_dropbox.fill_shared_folder("Trip", 25, png_every=0)  # plus notes.txt
    job = finished(api, start(api, "dropbox", url))
    assert job["status"] == "done" and job["total"] == 26 and job["title"] == "Import from Dropbox: Trip"
    assert len(fake_dropbox.calls("/files/list_folder/continue")) == 2
    assert api.wait_scored()["counts"]["all"] == 25
    listed = api.get("/api/v1/photos?source=dropbox&limit=100").json()["items"]
    ids = {p["source_id"] for p in listed}  # Dropbox's file ids: a path names a file only within its link
    assert len(ids) == 25 and all(i.startswith("id:") for i in ids)
    items = api.get(f"/api/v1/blur/jobs/{job['id']}/items").json()
    assert [(i["item"], i["status"]) for i in items] == [("/notes.txt", "skipped")]
    assert "not an image" in items[0]["error"]


def test_dropbox_429_with_retry_after_waits_then_finishes(links, fake_dropbox):
    api = links
    url = fake_dropbox.fill_shared_folder("Busy", 4, extras=False)
    legacy = fake_dropbox.fill_shared_folder("Old", 2, extras=False, legacy=True)
    fake_dropbox.fail_next("/sharing/get_shared_link_file", 429, retry_after=1)
    started = time.monotonic()
    job = finished(api, start(api, "dropbox", url))
    assert job["status"] == "done" and job["done"] == 4 and job["failed"] == 0
    assert time.monotonic() - started >= 1.0  # Retry-After was honoured
    downloads = fake_dropbox.calls("/sharing/get_shared_link_file")
    assert len(downloads) == 5  # the refused one, then each file once
    assert finished(api, start(api, "dropbox", legacy))["done"] == 2  # an older /sh/ link works too
    assert len(api.get("/api/v1/photos?source=dropbox").json()["items"]) == 4  # its 2 pictures are already there


def test_a_long_import_gets_past_many_rate_limits_when_it_moves_on_between_them(links, fake_dropbox):
    """The tries of a service that stays busy are counted since the import last got a file further: counted
    over the whole import, the sixth rate limit failed a job that had got past each of the five before."""
    api = links
    url = fake_dropbox.fill_shared_folder("Long", 8, extras=False)
    for k in range(1, 7):  # file 1 comes, file 2 is refused, then comes; file 3 is refused, then comes; ...
        fake_dropbox.fail_next("/sharing/get_shared_link_file", 429, retry_after=1, after=k)
    job = finished(api, start(api, "dropbox", url))
    assert job["status"] == "done" and job["done"] == 8 and job["failed"] == 0, job
    assert [c.status for c in fake_dropbox.calls("/sharing/get_shared_link_file")].count(429) == 6


def test_an_import_still_listing_its_folder_says_so_not_0_of_0(links, fake_dropbox):
    api, client = links, links.client
    url = fake_dropbox.fill_shared_folder("Listing", 2, extras=False)
    fake_dropbox.fail_next("/files/list_folder", 429, retry_after=2)  # the listing waits, so nothing is counted yet
    job_id = start(api, "dropbox", url)
    deadline = time.monotonic() + 10
    while not (job := api.get(f"/api/v1/blur/jobs/{job_id}").json())["waiting"]:
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["total"] == 0
    client.get("/login")
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD,
                                "_csrf_token": client.cookies.get("csrftoken")})  # fmt: skip
    card = client.get(f"/jobs/{job_id}").text
    assert "Listing the files in the folder" in card
    assert "Waiting: Dropbox asked Classify to slow down" in card and "of <span data-total>0" not in card
    assert re.search(r"<progress max=", card)  # no value: the browser shows work under way, not an empty bar
    assert finished(api, job_id)["done"] == 2
    assert "data-listing" not in client.get(f"/jobs/{job_id}").text


def test_a_job_told_to_slow_down_says_it_waits_and_until_when(links, fake_dropbox):
    api, client = links, links.client
    url = fake_dropbox.fill_shared_folder("Slow", 2, extras=False)
    fake_dropbox.fail_next("/sharing/get_shared_link_file", 429, retry_after=3)
    job_id = start(api, "dropbox", url)
    deadline = time.monotonic() + 10
    while not (job := api.get(f"/api/v1/blur/jobs/{job_id}").json())["waiting"]:
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["status"] == "running" and job["waiting"] == "Dropbox asked Classify to slow down"
    until = dt.datetime.fromisoformat(job["waiting_until"])
    assert 1 < (until - dt.datetime.now(dt.UTC)).total_seconds() <= 3.5
    client.get("/login")
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD,
                                "_csrf_token": client.cookies.get("csrftoken")})  # fmt: skip
    card = client.get(f"/jobs/{job_id}").text
    assert f'Waiting: Dropbox asked Classify to slow down. Going on at <time datetime="{until.isoformat()}">' in card
    assert " left" not in card  # no time estimate while it waits
    done = finished(api, job_id)
    assert done["status"] == "done" and done["done"] == 2 and done["waiting"] is None
    assert "Waiting:" not in client.get(f"/jobs/{job_id}").text


def test_a_revoked_dropbox_link_is_a_clear_error(links, fake_dropbox):
    url = fake_dropbox.fill_shared_folder("Gone", 1)
    fake_dropbox.revoke(url)
    response = links.post("/api/v1/imports", json={"source": "dropbox", "url": url})
    assert response.status_code == 422 and "does not share this folder" in response.json()["detail"]


def test_dropbox_without_app_credentials_says_so(tmp_path, database_url):
    settings = make_settings(tmp_path / "data", database_url)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        response = api.post(
            "/api/v1/imports", json={"source": "dropbox", "url": "https://www.dropbox.com/sh/abc/def?dl=0"}
        )
        assert response.status_code == 422 and "DROPBOX_APP_KEY" in response.json()["detail"]
        drive = api.post(
            "/api/v1/imports",
            json={"source": "google_drive", "url": "https://drive.google.com/drive/folders/1AbCdEfGhIjKlMnOp"},
        )
        assert drive.status_code == 422 and "Google Drive is not set up on this server" in drive.json()["detail"]
        assert "GOOGLE_API_KEY" in drive.json()["detail"]


def test_the_jobs_page_form_takes_any_pasted_link_and_shows_the_job(links, fake_drive, fake_dropbox):
    client = links.client
    client.get("/login")
    token = client.cookies.get("csrftoken")
    client.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "_csrf_token": token})
    headers = {"x-csrftoken": client.cookies.get("csrftoken"), "hx-request": "true"}
    assert "Import from a link: a shared Google Drive or Dropbox folder" in client.get("/jobs").text
    gallery = client.get("/photos").text
    assert "Import a shared Google Drive or Dropbox folder" in gallery
    assert '<option value="google_drive">Google Drive</option>' in gallery and '<option value="dropbox">' in gallery
    assert '<option value="google_photos">' not in gallery  # no Google sign-in on this server: no Picker
    folder = fake_drive.add_folder("From the page")
    fake_drive.fill_folder(folder, 2, png_every=0, extras=False)
    dropbox = fake_dropbox.add_shared_folder("Box", [("box.jpg", images.jpeg(seed=500))])
    for url, page in ((fake_drive.folder_url(folder, form="user"), "/"), (dropbox, "/jobs")):
        on_page = {**headers, "hx-current-url": f"http://testserver.local{page}"}
        shown = client.post("/jobs/import-link", data={"url": url}, headers=on_page)
        assert shown.status_code == 200 and "progress" in shown.text
        # started on the Jobs page, it is not news there: the page's count of new jobs starts from it
        started = re.search(r'id="job-([0-9a-f-]{36})"', shown.text).group(1)
        assert ('id="jobs-new" hx-swap-oob="true"' in shown.text) is (page == "/jobs")
        assert (f"/jobs/new?since={started}&amp;told=0" in shown.text) is (page == "/jobs")
    refused = client.post("/jobs/import-link", data={"url": "https://example.com/x"}, headers=headers)
    assert refused.status_code == 422 and "Paste the link of a shared Google Drive folder" in refused.text
    jobs = [finished(links, j["id"]) for j in links.get("/api/v1/blur/jobs").json()]
    assert sorted(j["total"] for j in jobs) == [1, 2] and all(j["status"] == "done" for j in jobs)
    listed = client.get("/jobs").text  # each job named after its folder, not "Link import"
    assert "Import from Google Drive: From the page</strong>" in listed
    assert "Import from Dropbox: Box</strong>" in listed
    page = client.get("/photos?filter=all&source=dropbox").text
    assert page.count('class="photo-card"') == 1 and "“Dropbox” only" in page
    assert 'href="/photos?filter=blurred&amp;source=dropbox"' in page  # the tabs keep the filter
    assert client.get("/photos?filter=all&source=google_drive").text.count('class="photo-card"') == 2
    assert client.get("/photos?filter=all&source=nonsense").text.count('class="photo-card"') == 3


def test_a_drive_folder_private_to_the_person_is_read_with_their_own_google_grant(
    tmp_path, database_url, fake_google, fake_drive
):
    fake_google.auto_consent = True
    fake_google.redirect_uris = [REDIRECT]
    settings = make_settings(
        tmp_path / "data",
        database_url,
        google_client_id=fake_google.client_id,
        google_client_secret=fake_google.client_secret,
        google_api_key=fake_drive.api_key,
        service_roots={**fake_google.service_roots(), "google_drive_api": fake_drive.api_root},
    )
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        api = api_sign_in(client, fake_google, (*SIGN_IN_SCOPES, DRIVE_SCOPE))
        grant = next(t.value for t in fake_google.tokens.values() if t.kind == "access" and DRIVE_SCOPE in t.scopes)
        mine = fake_drive.add_folder("Mine", public=False, owner_token=grant)
        fake_drive.fill_folder(mine, 3, png_every=0, extras=False)
        job = finished(api, start(api, "google_drive", fake_drive.folder_url(mine)))
        assert job["status"] == "done" and job["done"] == 3
        media = [c for c in fake_drive.calls("/files/") if c.query.get("alt") == "media"]
        assert len(media) == 3 and all(c.bearer == grant and "key" not in c.query for c in media)
        assert len(all_photos(api, "google_drive")) == 3


def test_a_drive_file_whose_bytes_are_here_already_is_not_downloaded(links, fake_drive):
    api = links
    photo = images.jpeg(640, 480, seed=77)
    assert api.upload(("beach.jpg", photo)).status_code == 201
    folder = fake_drive.add_folder("Copies")
    copy = fake_drive.add_file(folder, "copy-of-beach.jpg", photo, "image/jpeg")
    new = fake_drive.add_file(folder, "new.jpg", images.jpeg(640, 480, seed=78), "image/jpeg")

    def downloads(file_id: str) -> int:
        return sum(c.query.get("alt") == "media" for c in fake_drive.calls(f"/files/{file_id}", "GET"))

    url = fake_drive.folder_url(folder)
    for _ in range(2):  # an import, then a re-import
        job = finished(api, start(api, "google_drive", url))
        assert job["status"] == "done" and job["done"] == 2 and job["failed"] == 0
    # Drive lists each file's SHA-256: the copy of the uploaded photo is never fetched, the new one once.
    assert downloads(copy) == 0 and downloads(new) == 1
    skipped = api.get(f"/api/v1/blur/jobs/{job['id']}/items").json()  # and the re-import says why it added nothing
    assert {item["status"] for item in skipped} == {"skipped"}
    assert sorted(item["error"].split(" ", 1)[1] for item in skipped) == [
        "is already in Classify as beach.jpg (the same bytes); not downloaded.",
        "was imported from here before; nothing to add.",
    ]
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 2  # the upload and new.jpg


def _dropbox_downloads(fake_dropbox) -> list[str]:
    return [
        json.loads(c.headers["dropbox-api-arg"])["path"] for c in fake_dropbox.calls("/sharing/get_shared_link_file")
    ]


def test_a_dropbox_file_whose_bytes_are_here_already_is_not_downloaded(links, fake_dropbox, database_url):
    api = links
    beach = images.jpeg(640, 480, seed=81)
    older, sibling = (images.jpeg(640, 480, seed=82, exif_datetime=f"2026:05:01 14:03:0{s}") for s in (1, 2))
    assert len(older) == len(sibling) and older != sibling  # the same size to the byte, other bytes
    assert api.upload(("beach.jpg", beach), ("older.jpg", older)).status_code == 201
    url = fake_dropbox.add_shared_folder(
        "Copies",
        [
            ("copy-of-beach.jpg", beach),
            ("copy-of-older.jpg", older),
            ("sibling.jpg", sibling),
            ("new.jpg", images.jpeg(640, 480, seed=83)),
        ],
    )
    for _ in range(2):  # an import, then a re-import
        job = finished(api, start(api, "dropbox", url))
        assert job["status"] == "done" and job["done"] == 4 and job["failed"] == 0
    # Dropbox lists each file's content hash: the copies are never fetched, the others once.
    assert sorted(_dropbox_downloads(fake_dropbox)) == ["/new.jpg", "/sibling.jpg"]
    items = api.get(f"/api/v1/blur/jobs/{job['id']}/items").json()
    assert {i["item"]: i["error"].split(" (")[0] for i in items} == {
        "/copy-of-beach.jpg": "copy-of-beach.jpg is already in Classify as beach.jpg",
        "/copy-of-older.jpg": "copy-of-older.jpg is already in Classify as older.jpg",
        "/new.jpg": "new.jpg was imported from here before; nothing to add.",  # the re-import's own
        "/sibling.jpg": "sibling.jpg was imported from here before; nothing to add.",
    }
    names = {p["filename"] for p in api.get("/api/v1/photos").json()["items"]}
    assert names == {"beach.jpg", "older.jpg", "sibling.jpg", "new.jpg"}
    # A photo's hash is taken from its original when a listed file has its size, and only then.
    hashes = dict(run_sql(database_url, "SELECT filename, content_hash FROM photos"))
    assert hashes["beach.jpg"] == content_hash(beach) and hashes["older.jpg"] == content_hash(older)
    assert hashes["new.jpg"] is None


def test_a_busy_service_when_the_link_is_checked_says_nothing_was_started(links, fake_dropbox):
    url = fake_dropbox.fill_shared_folder("Busy at once", 2, extras=False)
    fake_dropbox.fail_next("/sharing/get_shared_link_metadata", 429, retry_after=1)
    busy = links.post("/api/v1/imports", json={"source": "dropbox", "url": url})
    assert busy.status_code == 429
    assert busy.json()["detail"] == "Dropbox is busy (429): nothing was started. Paste the link again in a minute."
    assert links.get("/api/v1/blur/jobs").json() == []  # "trying again later" it used to say, with nothing to try
    assert finished(links, start(links, "dropbox", url))["done"] == 2  # pasted again, it works


def test_a_file_gone_since_the_listing_fails_alone_and_the_rest_are_imported(links, fake_drive, fake_dropbox):
    """Drive's 404 and Dropbox's 409 for one file read like the folder gone, and failed the whole job."""
    api = links
    folder = fake_drive.add_folder("Shrinking")
    ids = [fake_drive.add_file(folder, f"d{i}.jpg", images.jpeg(seed=60 + i), "image/jpeg") for i in range(3)]
    fake_drive.fail_next(f"/files/{ids[1]}", 404, reason="notFound", message=f"File not found: {ids[1]}.")
    box = fake_dropbox.add_shared_folder("Shrinking too", [(f"b{i}.jpg", images.jpeg(seed=70 + i)) for i in range(3)])
    fake_dropbox.fail_next("/sharing/get_shared_link_file", 409, body='{"error_summary": "path/not_found/.."}')
    for source, url, gone in (("google_drive", fake_drive.folder_url(folder), "d1.jpg"), ("dropbox", box, "b0.jpg")):
        job = finished(api, start(api, source, url))
        assert job["status"] == "done" and (job["total"], job["failed"]) == (3, 1), job
        [failed] = [i for i in api.get(f"/api/v1/blur/jobs/{job['id']}/items").json() if i["status"] == "failed"]
        assert (
            failed["error"].startswith(f"{gone} could not be downloaded:")
            and "no longer shows this file" in failed["error"]
        )
        assert len(all_photos(api, source)) == 2


def test_a_file_gone_from_the_folder_before_a_retry_is_skipped_and_the_job_ends(links, fake_drive):
    """Items listed at the start (or failed) but no longer in the folder when the job ran again (a retry, or
    a resumption after a wait) were looked up in the new listing: a KeyError, and the job said "running" for good."""
    api = links
    folder = fake_drive.add_folder("Pruned")
    ids = [fake_drive.add_file(folder, f"g{i}.jpg", images.jpeg(seed=120 + i), "image/jpeg") for i in range(3)]
    fake_drive.fail_next(f"/files/{ids[1]}", 400, reason="badRequest", message="Bad Request")
    job = finished(api, start(api, "google_drive", fake_drive.folder_url(folder)))
    assert (job["status"], job["failed"]) == ("done", 1)
    fake_drive.remove(ids[1])  # deleted before the failed one is tried again
    assert api.post(f"/api/v1/blur/jobs/{job['id']}/retry").status_code == 202
    again = finished(api, job["id"], timeout=30)
    assert (again["status"], again["total"], again["failed"], again["skipped"]) == ("done", 3, 0, 1), again
    [gone] = [i for i in api.get(f"/api/v1/blur/jobs/{job['id']}/items").json() if i["status"] == "skipped"]
    assert gone["error"].startswith("A file listed when the import began is no longer in the folder on Google Drive")
    assert api.post(f"/api/v1/blur/jobs/{job['id']}/retry").status_code == 409  # nothing left to try again


def test_a_cancelled_import_can_go_on_with_the_rest(links, fake_dropbox):
    """Cancelled part-way, an import offered no way on (the API: "no failed items to retry"); pasting the link
    again worked, but nothing said so."""
    api = links
    fake_dropbox.download_delay = 0.3
    url = fake_dropbox.add_shared_folder("Stopped", [(f"c{i}.jpg", images.jpeg(seed=140 + i)) for i in range(8)])
    job_id = start(api, "dropbox", url)
    deadline = time.monotonic() + 30
    while api.get(f"/api/v1/blur/jobs/{job_id}").json()["done"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert api.post(f"/api/v1/blur/jobs/{job_id}/cancel").status_code == 200
    stopped = finished(api, job_id)
    assert stopped["status"] == "cancelled" and stopped["done"] < 8
    fake_dropbox.download_delay = 0.0
    assert api.post(f"/api/v1/blur/jobs/{job_id}/retry").status_code == 202
    went_on = finished(api, job_id, timeout=30)
    assert (went_on["status"], went_on["done"], went_on["failed"]) == ("done", 8, 0), went_on
    assert sorted(p["filename"] for p in all_photos(api, "dropbox")) == [f"c{i}.jpg" for i in range(8)]


def test_go_on_pressed_as_soon_as_a_cancel_answers_finishes_the_import(links, fake_dropbox):
    """The cancelled task was still on its last download when Go on queued the job again; the queue would not
    start a second task for it, the first went on with the list it had, and the failed item requeued was left:
    "running" at 7 of 8 until the sweep, minutes later."""
    api = links
    time.sleep(6)  # past the start-up sweep, which would hide the fault by queueing the job again itself
    fake_dropbox.download_delay = 0.4
    url = fake_dropbox.add_shared_folder("Raced", [(f"r{i}.jpg", images.jpeg(seed=160 + i)) for i in range(8)])
    fake_dropbox.fail_next("/sharing/get_shared_link_file", 400, body='{"error_summary": "other/.."}')
    job_id = start(api, "dropbox", url)
    deadline = time.monotonic() + 30
    while (job := api.get(f"/api/v1/blur/jobs/{job_id}").json())["done"] + job["failed"] < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert api.post(f"/api/v1/blur/jobs/{job_id}/cancel").status_code == 200
    assert api.post(f"/api/v1/blur/jobs/{job_id}/retry").status_code == 202  # at once, the task still downloading
    went_on = finished(api, job_id, timeout=20)
    assert (went_on["status"], went_on["done"], went_on["failed"]) == ("done", 8, 0), went_on
    assert len(all_photos(api, "dropbox")) == 8


def test_a_folder_unshared_during_an_import_fails_the_job_and_keeps_what_came(links, fake_dropbox, monkeypatch):
    api = links
    url = fake_dropbox.add_shared_folder("Unshared", [(f"u{i}.jpg", images.jpeg(seed=90 + i)) for i in range(4)])
    serve_file = fake_dropbox._get_file

    def serve_then_unshare(*args):
        response = serve_file(*args)
        fake_dropbox.revoke(url)  # the owner stops sharing after the first file went out
        return response

    monkeypatch.setattr(fake_dropbox, "_get_file", serve_then_unshare)
    job = finished(api, start(api, "dropbox", url))
    assert job["status"] == "failed" and "Dropbox does not share this folder" in job["error"]
    assert [p["filename"] for p in all_photos(api, "dropbox")] == ["u0.jpg"]


def test_drive_rate_limits_given_as_403_are_waited_out(links, fake_drive):
    """Drive says "slow down" with 403 userRateLimitExceeded as well as 429 (the contract: back off)."""
    folder = fake_drive.add_folder("Limited")
    ids = [fake_drive.add_file(folder, f"p{i}.jpg", images.jpeg(seed=60 + i), "image/jpeg") for i in range(3)]
    fake_drive.fail_next(f"/files/{ids[1]}", 403, retry_after=1, reason="userRateLimitExceeded")
    job = finished(links, start(links, "google_drive", fake_drive.folder_url(folder)))
    assert job["status"] == "done" and (job["done"], job["failed"]) == (3, 0), job


def test_an_answer_that_is_not_json_is_tried_again_then_given_up_with_a_reason(links, fake_dropbox, monkeypatch):
    """A proxy's HTML page where the listing should be, for good: the import gave up after its tries, but the
    giving up escaped its handler, so the job said "running" with no error for as long as the server ran."""
    monkeypatch.setattr(retry, "FIRST_BACKOFF_SECONDS", 0.01)  # the back-off's shape, in a test's time
    url = fake_dropbox.fill_shared_folder("Garbled", 3, extras=False)
    garbled = "<html><body>Gateway says hello</body></html>"
    fake_dropbox.fail_next("/files/list_folder", 200, body=garbled)
    job = finished(links, start(links, "dropbox", url), timeout=30)
    assert job["status"] == "done" and job["done"] == 3, job  # once: tried again
    fake_dropbox.fail_next("/files/list_folder", 200, times=50, body=garbled)
    job = finished(links, start(links, "dropbox", url), timeout=30)
    assert job["status"] == "failed" and job["error"] == (
        "Dropbox still failed after 6 tries. Dropbox sent an answer Classify cannot read."
    ), job


def test_a_listing_dropbox_resets_is_started_over(links, fake_dropbox):
    """list_folder/continue's `reset` (the contract: start over) was read as "this folder is not shared"."""
    fake_dropbox.page_size = 2
    url = fake_dropbox.fill_shared_folder("Reset", 5, extras=False)
    reset = '{"error_summary": "reset/..", "error": {".tag": "reset"}}'
    fake_dropbox.fail_next("/files/list_folder/continue", 409, body=reset)
    job = finished(links, start(links, "dropbox", url))
    assert job["status"] == "done" and job["done"] == 5, job
    assert len(all_photos(links, "dropbox")) == 5


@contextlib.contextmanager
def drive_by_token_only(tmp_path, database_url, fake_google, fake_drive) -> Iterator[Api]:
    """No GOOGLE_API_KEY: Drive is read with the person's own Google token, which Drive checks with Google."""
    fake_google.auto_consent = True
    fake_google.redirect_uris = [REDIRECT]
    fake_drive.token_validator = lambda t: (
        (tok := fake_google.tokens.get(t)) is not None and tok.live(fake_google.now())
    )
    settings = make_settings(
        tmp_path / "data",
        database_url,
        google_client_id=fake_google.client_id,
        google_client_secret=fake_google.client_secret,
        service_roots={**fake_google.service_roots(), "google_drive_api": fake_drive.api_root},
    )
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        yield api_sign_in(client, fake_google, (*SIGN_IN_SCOPES, DRIVE_SCOPE))


def test_a_drive_import_that_outlasts_its_google_token_goes_on_with_a_fresh_one(
    tmp_path, database_url, fake_google, fake_drive, monkeypatch
):
    """The token was read once per job: an import longer than the token's hour failed as "folder not shown"."""
    with drive_by_token_only(tmp_path, database_url, fake_google, fake_drive) as api:
        hours = [0]
        api.client.app.state.container.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours[0])
        serve_media = fake_drive._media

        def serve_then_an_hour_passes(*args):
            response = serve_media(*args)
            hours[0] += 1
            fake_google.advance(3600)
            return response

        monkeypatch.setattr(fake_drive, "_media", serve_then_an_hour_passes)
        folder = fake_drive.add_folder("Long")
        fake_drive.fill_folder(folder, 3, png_every=0, extras=False)
        job = finished(api, start(api, "google_drive", fake_drive.folder_url(folder)))
        assert job["status"] == "done" and job["done"] == 3, job
        bearers = {c.bearer for c in fake_drive.calls("/files/") if c.query.get("alt") == "media"}
        assert len(bearers) == 3  # a new token for each file, each hour


def test_a_drive_token_refused_before_its_time_is_renewed_once(tmp_path, database_url, fake_google, fake_drive):
    """Drive's 401 on the person's token read as "Drive does not show this folder"; Google asks for one
    refresh and another try."""
    with drive_by_token_only(tmp_path, database_url, fake_google, fake_drive) as api:
        folder = fake_drive.add_folder("Shared")
        fake_drive.fill_folder(folder, 2, png_every=0, extras=False)
        fake_google.expire_access_tokens()  # Google ends it early; Classify still counts on its hour
        job = finished(api, start(api, "google_drive", fake_drive.folder_url(folder)))
        assert job["status"] == "done" and job["done"] == 2, job


def test_a_revoked_google_grant_asks_to_reconnect(tmp_path, database_url, fake_google, fake_drive):
    """The person took Classify's access back at Google: the import said the folder was not shared, and the
    account still showed as connected."""
    with drive_by_token_only(tmp_path, database_url, fake_google, fake_drive) as api:
        folder = fake_drive.add_folder("Shared")
        fake_drive.fill_folder(folder, 2, png_every=0, extras=False)
        fake_google.revoke_all()
        refused = api.post("/api/v1/imports", json={"source": "google_drive", "url": fake_drive.folder_url(folder)})
        assert refused.status_code == 409 and "reconnect" in refused.json()["detail"], refused.text
        assert run_sql(database_url, "SELECT status FROM oauth_tokens") == [("reconnect",)]
        # asked again, once the account is known to need it: the same advice (it read as no grant at all, and
        # said to connect Google, or with an API key that the folder was not shared)
        again = api.post("/api/v1/imports", json={"source": "google_drive", "url": fake_drive.folder_url(folder)})
        assert again.status_code == 409 and "Reconnect Google" in again.json()["detail"], again.text


def test_the_system_check_asks_drive_and_dropbox_whether_they_take_the_servers_keys(links, fake_dropbox, fake_drive):
    """They said "ok · configured" without asking: a wrong key was found by the first import that failed."""
    from app.adapters import kept_check

    looks = [links.get("/health/services").json()["services"] for _ in range(5)]
    for name, said in (("dropbox", "the app key and secret are accepted"), ("google_drive", "the API key is accepted")):
        assert looks[0][name]["status"] == "ok" and looks[0][name]["detail"] == said, looks[0][name]
        assert looks[0][name]["latency_ms"] > 0
    # anyone may look; each service is asked once a minute at most
    assert len(fake_dropbox.calls("/api/2/check/app")) == 1 and len(fake_drive.calls("/files/classify-health")) == 1

    kept_check.KEEP_SECONDS, kept = 0.0, kept_check.KEEP_SECONDS
    try:
        fake_dropbox.app_secret, fake_drive.api_key = "another-secret", "another-key"
        services = links.get("/health/services").json()
        assert services["status"] == "degraded"
        dropbox, drive = services["services"]["dropbox"], services["services"]["google_drive"]
        assert dropbox["status"] == "error" and "DROPBOX_APP_KEY" in dropbox["detail"]
        assert drive["status"] == "error" and "GOOGLE_API_KEY" in drive["detail"]
        assert "API key not valid" in drive["detail"]
    finally:
        kept_check.KEEP_SECONDS = kept


def test_two_dropbox_folders_with_the_same_file_names_bring_in_both_sets_of_photos(links, fake_dropbox):
    """A Dropbox photo was known by its path inside the link: a second folder's IMG_0000.jpg..., other pictures,
    were all "imported from here before", and never downloaded (imports review). A file's id knows it."""
    api = links
    names = [f"IMG_{i:04}.jpg" for i in range(3)]
    trip_a = fake_dropbox.add_shared_folder("Trip A", [(n, images.jpeg(seed=600 + i)) for i, n in enumerate(names)])
    trip_b = fake_dropbox.add_shared_folder("Trip B", [(n, images.jpeg(seed=700 + i)) for i, n in enumerate(names)])
    first = finished(api, start(api, "dropbox", trip_a))
    second = finished(api, start(api, "dropbox", trip_b))
    assert (first["done"], first["skipped"], second["done"], second["skipped"]) == (3, 0, 3, 0)
    assert len(all_photos(api, "dropbox")) == 6
    again = finished(api, start(api, "dropbox", trip_b))  # the same folder again adds nothing
    assert (again["done"], again["skipped"]) == (3, 3)
    items = api.get(f"/api/v1/blur/jobs/{again['id']}/items").json()
    assert {i["error"] for i in items} == {f"{name} was imported from here before; nothing to add." for name in names}


def test_a_drive_folder_in_the_bin_is_refused_not_imported_as_empty(links, fake_drive, database_url):
    """It was accepted, and its job ended "done" with nothing in it and no word why (imports review)."""
    folder = fake_drive.add_folder("Old trip", public=True)
    fake_drive.add_file(folder, "a.jpg", images.jpeg(seed=900), "image/jpeg")
    fake_drive.trash(folder)
    refused = links.post("/api/v1/imports", json={"source": "google_drive", "url": fake_drive.folder_url(folder)})
    assert refused.status_code == 422 and refused.json()["detail"] == (
        "That Drive folder is in the bin: restore it in Drive first."
    )
    assert run_sql(database_url, "SELECT count(*) FROM jobs") == [(0,)]
