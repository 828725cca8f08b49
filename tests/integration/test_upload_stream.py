"""Uploads are read from the request as it streams in: photos arrive intact whether they stay in memory or
spill to disk, the memory is given back after every request, and broken or oversized requests are refused
clearly with nothing stored."""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterator

import numpy as np
import pytest
from litestar.testing import TestClient
from PIL import Image

from app.bootstrap import bootstrap
from app.main import create_app
from app.routes import upload_stream
from tests import images
from tests.conftest import Api, create_account, login, make_settings


@contextlib.contextmanager
def signed_in(tmp_path, database_url, **changes) -> Iterator[Api]:
    """A fresh app with these settings changed, and the owner's API session on it."""
    settings = make_settings(tmp_path / "data", database_url, **changes)
    with TestClient(app=create_app(settings, bootstrap(settings))) as client:
        create_account(settings, "owner@example.com")
        yield login(client, "owner@example.com")


def _original(api, photo: dict) -> bytes:
    response = api.get(f"/api/v1/photos/{photo['id']}/image?size=original")
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize("budget", [64 * 1024 * 1024, 200_000], ids=["in memory", "spilled to disk"])
def test_every_photo_arrives_byte_for_byte_and_the_memory_is_given_back(api, monkeypatch, budget):
    monkeypatch.setattr(upload_stream, "UPLOAD_MEMORY", upload_stream.MemoryBudget(budget))
    monkeypatch.setattr(upload_stream, "SPILL_PIECE", 64 * 1024)  # several pieces per file when spilled
    files = [(f"p{i}.jpg", images.jpeg(1200, 900, seed=i)) for i in range(4)]
    assert all(len(data) > 150_000 for _, data in files)  # together well past the small budget

    response = api.upload(*files)

    assert response.status_code == 201, response.text
    stored = response.json()["photos"]
    assert [p["filename"] for p in stored] == [name for name, _ in files]
    for photo, (_, data) in zip(stored, files, strict=True):
        assert photo["sha256"] == hashlib.sha256(data).hexdigest()
        assert _original(api, photo) == data
    assert upload_stream.UPLOAD_MEMORY.used == 0


def test_a_file_over_the_limit_is_refused_alone_and_its_neighbours_are_kept(tmp_path, database_url):
    with signed_in(tmp_path, database_url, max_upload_mb=0.2) as api:
        small, big = images.jpeg(300, 200, seed=1), images.jpeg(2000, 1500, seed=2)
        assert len(big) > 0.2 * 1024 * 1024

        response = api.upload(("small.jpg", small), ("big.jpg", big), ("small2.jpg", images.jpeg(300, 200, seed=3)))

        assert response.status_code == 201, response.text
        assert [p["filename"] for p in response.json()["photos"]] == ["small.jpg", "small2.jpg"]
        (refused,) = response.json()["rejected"]
        assert refused["filename"] == "big.jpg" and refused["status_code"] == 413
        assert "the limit is 0 MB" not in refused["detail"] and "big.jpg" in refused["detail"]
        assert api.get("/api/v1/photos").json()["counts"]["all"] == 2
        assert upload_stream.UPLOAD_MEMORY.used == 0


def test_more_files_than_a_request_may_carry_is_a_413_and_nothing_is_kept(tmp_path, database_url):
    with signed_in(tmp_path, database_url, max_files_per_request=3) as api:
        response = api.upload(*[(f"p{i}.jpg", images.jpeg(200, 150, seed=i)) for i in range(4)])

        assert response.status_code == 413
        assert response.json()["detail"] == "More than 3 files in one request; send at most 3 at a time."
        assert api.get("/api/v1/photos").json()["counts"]["all"] == 0
        assert upload_stream.UPLOAD_MEMORY.used == 0


def test_a_form_cut_short_is_a_clear_400_and_nothing_is_kept(api):
    boundary = "classify-test-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + images.jpeg()[:5000]  # no closing boundary: the connection ended mid-file
    headers = {**api.headers, "content-type": f"multipart/form-data; boundary={boundary}"}

    response = api.client.post("/api/v1/photos", content=body, headers=headers)

    assert response.status_code == 400
    assert response.json()["detail"] == "The multipart form could not be read: it is malformed or cut short."
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 0
    assert upload_stream.UPLOAD_MEMORY.used == 0


def test_a_file_name_too_long_for_the_form_parser_says_so_not_too_many_files(api):
    """The parser's limit on a part's headers was reported as "Too many parts in one request"."""
    response = api.upload(("a" * 4500 + ".jpg", images.jpeg()))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("A file's name is too long to read")
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 0
    assert upload_stream.UPLOAD_MEMORY.used == 0


@pytest.mark.parametrize(
    "files",
    [
        [("files", ("", b""))],  # a file input left empty: browsers send a part with no file name
        [("other", ("a.jpg", images.jpeg()))],  # the photo under another field name
    ],
    ids=["empty file input", "other field"],
)
def test_a_form_without_photos_in_its_files_field_says_so(api, files):
    response = api.client.post("/api/v1/photos", files=files, headers=api.headers)
    assert response.status_code == 400
    assert response.json()["detail"] == "Send one or more images in the multipart form field 'files'."


def test_a_one_pixel_wide_photo_neither_fails_the_request_nor_its_neighbours(api):
    """A 1 x 5000 PNG made OpenCV's resize fail in the worker: a 500 for the whole request, the photo after it
    never imported, the one before kept without a word."""
    strip = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (5000, 1, 3), dtype=np.uint8)).save(strip, "PNG")
    answer = api.upload(
        ("before.jpg", images.jpeg(seed=71)), ("strip.png", strip.getvalue()), ("after.jpg", images.jpeg(seed=72))
    )
    assert answer.status_code == 201, answer.text
    kept = {p["filename"]: p for p in answer.json()["photos"]}
    assert {"before.jpg", "after.jpg"} <= set(kept)
    assert kept["strip.png"]["width"] == 1 and kept["strip.png"]["height"] == 5000


def test_a_damaged_file_found_while_decoding_is_named_in_its_refusal(api):
    """The header was whole, the data was not: the refusal said "The file is damaged", where every other
    refusal names the file."""
    refused = api.upload(("half.jpg", images.truncated_jpeg()))
    assert refused.status_code == 422 and refused.json()["detail"].startswith("half.jpg "), refused.text


def test_files_past_the_memory_budget_go_to_the_data_disk(tmp_path, database_url, monkeypatch):
    """They went to the system's /tmp, which the server's reserve (CLASSIFY_MIN_FREE_MB) does not watch."""
    monkeypatch.setattr(upload_stream, "UPLOAD_MEMORY", upload_stream.MemoryBudget(100_000))
    folders: list[str] = []
    real = upload_stream.tempfile.TemporaryFile
    monkeypatch.setattr(upload_stream.tempfile, "TemporaryFile", lambda dir: folders.append(str(dir)) or real(dir=dir))
    files = [(f"p{i}.jpg", images.jpeg(1200, 900, seed=i)) for i in range(2)]
    with signed_in(tmp_path, database_url) as api:
        assert api.upload(*files).status_code == 201
    assert folders and set(folders) == {str(tmp_path / "data" / "uploading")}


def test_a_file_past_the_memory_budget_is_refused_when_the_data_disk_is_at_its_reserve(
    tmp_path, database_url, monkeypatch
):
    monkeypatch.setattr(upload_stream, "UPLOAD_MEMORY", upload_stream.MemoryBudget(100_000))
    files = [(f"p{i}.jpg", images.jpeg(1200, 900, seed=i)) for i in range(2)]
    with signed_in(tmp_path, database_url, min_free_mb=10**9) as api:
        response = api.upload(*files)
        assert response.status_code == 507 and "so this upload was not received" in response.json()["detail"]
        assert api.get("/api/v1/photos").json()["counts"]["all"] == 0
    assert upload_stream.UPLOAD_MEMORY.used == 0
