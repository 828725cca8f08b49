"""A tab as a CSV list: a row a photo, with its verdict, the person's own call and where it came from."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

from app.domain.services import export
from app.domain.services.export import LIST_COLUMNS
from tests import images
from tests.conftest import run_sql
from tests.integration.test_marks import _two_photos
from tests.integration.test_pages import _signed_in
from tests.integration.test_similar import T0, _upload_burst


def _listed(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"  # once: it used to say its charset twice
    assert response.content.startswith("\ufeff".encode())  # so that Excel reads it as UTF-8
    lines = response.content.decode("utf-8-sig").splitlines()
    assert tuple(next(csv.reader(lines[:1]))) == LIST_COLUMNS
    return list(csv.DictReader(lines))


def test_the_list_holds_the_tab_at_the_persons_threshold_and_their_calls(api, other_api):
    blurry, sharp = _two_photos(api)
    response = api.get("/api/v1/export/csv?filter=all")
    stamp = dt.date.today().isoformat()
    assert response.headers["content-disposition"] == f'attachment; filename="classify-all-{stamp}.csv"'
    rows = {row["filename"]: row for row in _listed(response)}
    assert set(rows) == {"blurry.jpg", "sharp.jpg"}
    assert rows["blurry.jpg"]["category"] == "blurred" and rows["blurry.jpg"]["blur_kind"] in ("defocus", "motion")
    assert float(rows["blurry.jpg"]["blur_score"]) == round(blurry["blur_score"], 4)
    assert rows["sharp.jpg"]["category"] == "not_blurred" and rows["sharp.jpg"]["blur_kind"] == "sharp"
    assert rows["sharp.jpg"]["source"] == "upload" and rows["sharp.jpg"]["source_link"] == ""
    assert rows["sharp.jpg"]["id"] == sharp["id"] and rows["sharp.jpg"]["width"] == "1000"

    # the list is the tab: the person's own call and threshold decide what is in it
    api.patch(f"/api/v1/photos/{blurry['id']}", json={"marked_as": "sharp"})
    keepers = _listed(api.get("/api/v1/export/csv?filter=not_blurred"))
    assert {row["filename"]: row["your_call"] for row in keepers} == {"blurry.jpg": "sharp", "sharp.jpg": ""}
    api.patch("/api/v1/settings", json={"blur_threshold": 0.0})
    assert [row["filename"] for row in _listed(api.get("/api/v1/export/csv?filter=blurred"))] == ["sharp.jpg"]

    # another person's list has only the header
    assert _listed(other_api.get("/api/v1/export/csv?filter=all")) == []


def test_a_name_a_spreadsheet_would_run_is_written_as_text(api):
    name = "=HYPERLINK(x).jpg"
    api.upload((name, images.jpeg(400, 300, seed=5)), ("@sum.jpg", images.jpeg(400, 300, seed=6)))
    api.wait_scored()
    names = {row["filename"] for row in _listed(api.get("/api/v1/export/csv?filter=all"))}
    assert names == {"'=HYPERLINK(x).jpg", "'@sum.jpg"}


def test_a_drive_photo_says_where_to_open_it(api, database_url):
    _, sharp = _two_photos(api)
    run_sql(  # as a Drive import stores it (tests/integration/test_link_imports.py imports from the fake)
        database_url,
        "UPDATE photos SET source = 'google_drive', source_id = '1AbCdEfGhIjKlMnOp' WHERE filename = 'sharp.jpg'",
    )
    [row] = _listed(api.get("/api/v1/export/csv?filter=all&source=google_drive"))
    assert row["id"] == sharp["id"] and row["source_id"] == "1AbCdEfGhIjKlMnOp"
    assert row["source_link"] == "https://drive.google.com/file/d/1AbCdEfGhIjKlMnOp/view"


def test_bad_queries_are_refused_and_the_page_menu_offers_the_list(client, api):
    _two_photos(api)
    assert api.get("/api/v1/export/csv?filter=sharpish").status_code == 422
    refused = api.get("/api/v1/export/csv?similar=best")
    assert refused.status_code == 422 and "sharpest" in refused.json()["detail"]
    assert client.get("/api/v1/export/csv").status_code == 401

    assert client.get("/export/csv?filter=all", follow_redirects=False).status_code in (302, 303)
    _signed_in(client)
    menu = client.get("/photos?filter=blurred").text
    assert 'href="/export/csv?filter=blurred" download' in menu and "List as CSV, for a spreadsheet" in menu
    from_page = client.get("/export/csv?filter=blurred")
    assert [row["filename"] for row in _listed(from_page)] == ["blurry.jpg"]


def test_exports_read_a_library_a_batch_at_a_time_and_lose_nothing(api, monkeypatch):
    """Exports read the photos a batch at a time (export.BATCH, 500), so that a library of any size starts
    downloading at once and holds one batch in memory; here batches of 2 over 5 photos. File names stay
    unique across batches, and the order is the tab's (newest first)."""
    monkeypatch.setattr(export, "BATCH", 2)
    for i, name in enumerate(["a.jpg", "b.jpg", "c.jpg", "A.jpg", "a.jpg"]):
        assert api.upload((name, images.jpeg(400, 300, seed=20 + i))).status_code == 201
    api.wait_scored()

    archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export?filter=all").content))
    assert archive.namelist() == ["a.jpg", "A-2.jpg", "c.jpg", "b.jpg", "a-3.jpg"]
    listed = _listed(api.get("/api/v1/export/csv?filter=all"))
    assert [row["filename"] for row in listed] == ["a.jpg", "A.jpg", "c.jpg", "b.jpg", "a.jpg"]
    assert len({row["id"] for row in listed}) == 5
    # the list says which file of the ZIP each row is, for either naming
    assert [row["zip_name"] for row in listed] == archive.namelist()
    ai_archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export?filter=all&names=ai").content))
    assert [row["zip_name_ai"] for row in listed] == ai_archive.namelist()


def test_only_the_sharpest_of_a_burst_split_over_batches(api, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 2)
    burst = _upload_burst(api, 30, T0, [0.0, 3.0, 0.0, 4.0])
    api.wait_scored()
    best = api.get("/api/v1/similar").json()["items"][0]["best_id"]
    sharpest = _listed(api.get("/api/v1/export/csv?filter=all&similar=sharpest"))
    assert [row["id"] for row in sharpest] == [best] and best in {burst[0]["id"], burst[2]["id"]}
    archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export?filter=all&similar=sharpest").content))
    assert archive.namelist() == [sharpest[0]["filename"]]


def test_a_download_follows_the_tabs_order_and_names_what_narrowed_it(api):
    _two_photos(api)  # blurry.jpg, then sharp.jpg: the newest first is sharp.jpg
    stamp = dt.date.today().isoformat()
    newest = _listed(api.get("/api/v1/export/csv?filter=all"))
    assert [row["filename"] for row in newest] == ["sharp.jpg", "blurry.jpg"]  # as the tab shows it
    shown = [p["filename"] for p in api.get("/api/v1/photos?filter=all&sort=blurriest").json()["items"]]
    blurriest = _listed(api.get("/api/v1/export/csv?filter=all&sort=blurriest"))
    assert [row["filename"] for row in blurriest] == shown == ["blurry.jpg", "sharp.jpg"]
    archive = api.get("/api/v1/export?filter=all&sort=sharpest")
    assert zipfile.ZipFile(io.BytesIO(archive.content)).namelist() == ["sharp.jpg", "blurry.jpg"]
    assert archive.headers["content-disposition"] == f'attachment; filename="classify-all-{stamp}.zip"'
    narrowed = api.get("/api/v1/export/csv?filter=not_blurred&q=Sharp%20ph%C3%B6to&source=upload&similar=sharpest")
    expected = f"classify-not_blurred-search-sharp-ph-to-upload-sharpest-{stamp}.csv"
    assert narrowed.headers["content-disposition"] == f'attachment; filename="{expected}"'
    assert api.get("/api/v1/export/csv?filter=all&sort=sideways").status_code == 422
