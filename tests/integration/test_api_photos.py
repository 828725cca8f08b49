"""Photos in, scored, sorted by the owner's threshold, and taken out, through the JSON API."""

from __future__ import annotations

import base64
import io
import resource
import uuid
import zipfile

import pytest
from litestar.testing import TestClient
from PIL import Image

from app.adapters.offload import run_inline
from app.adapters.scorer import score_image
from app.bootstrap import bootstrap
from app.domain.units import megabytes
from app.main import create_app
from tests import images
from tests.conftest import PASSWORD, create_account, login, make_settings


def test_upload_then_duplicate_returns_the_same_photo(api):
    data = images.jpeg(900, 600)
    first = api.upload(("beach.jpg", data))
    assert first.status_code == 201
    photo = first.json()["photos"][0]
    assert photo["filename"] == "beach.jpg" and photo["mime_type"] == "image/jpeg"
    assert photo["width"] == 900 and photo["height"] == 600
    again = api.upload(("copy-of-beach.jpg", data))
    assert again.status_code == 200
    assert again.json()["photos"][0]["id"] == photo["id"]
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 1


def test_rejected_files_get_their_status_and_leave_nothing_behind(api, settings):
    cases = {
        "truncated.jpg": (images.truncated_jpeg(), 422),
        "page.jpg": (images.html_as_bytes(), 415),
        "bomb.png": (images.png_bomb(50000, 50000), 413),
    }
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for name, (data, status) in cases.items():
        response = api.upload((name, data))
        assert response.status_code == status, (name, response.text)
        body = response.json()
        assert body["status_code"] == status and name in body["rejected"][0]["filename"]
        assert len(body["detail"]) > 10
    # The 2,500-megapixel PNG was refused from its header: nothing close to its size was ever allocated.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 0
    stored = [p for p in (settings.data_dir / "originals").rglob("*") if p.is_file()]
    assert stored == []
    jobs = api.get("/api/v1/blur/jobs").json()
    assert jobs == []


def test_a_mixed_batch_keeps_the_good_files_and_reports_each_bad_one(api):
    response = api.upload(("good.jpg", images.jpeg()), ("bad.jpg", images.html_as_bytes()), ("good.png", images.png()))
    assert response.status_code == 201
    body = response.json()
    assert body["created"] == 2 and len(body["photos"]) == 2
    assert [(r["filename"], r["status_code"]) for r in body["rejected"]] == [("bad.jpg", 415)]


def test_no_files_is_a_clear_400(api):
    response = api.post("/api/v1/photos", files=[("other", ("a.jpg", b"x"))])
    assert response.status_code == 400 and "files" in response.json()["detail"]


def test_exif_rotated_jpeg_gets_an_upright_thumbnail(api):
    photo = api.upload(("turned.jpg", images.two_tone_oriented_jpeg(6))).json()["photos"][0]
    thumb = api.get(photo["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["x-content-type-options"] == "nosniff"
    image = Image.open(io.BytesIO(thumb.content)).convert("RGB")
    assert image.height > image.width
    top, bottom = image.getpixel((image.width // 2, 5)), image.getpixel((image.width // 2, image.height - 5))
    assert top[0] > 200 and top[2] < 60  # red on top
    assert bottom[2] > 200 and bottom[0] < 60  # blue at the bottom


def test_heic_is_accepted_scored_and_served_with_its_type(api):
    response = api.upload(("phone.heic", images.heic()))
    assert response.status_code == 201
    photo = response.json()["photos"][0]
    assert photo["mime_type"] in ("image/heic", "image/heif")
    api.wait_scored()
    result = api.get(f"/api/v1/photos/{photo['id']}/result").json()
    assert 0 <= result["blur_score"] <= 1 and result["blur_kind"] in ("sharp", "defocus", "motion")
    original = api.get(photo["image_url"])
    assert original.headers["content-type"] == photo["mime_type"] and original.content[4:8] == b"ftyp"


def _mixed_set(api):
    files = [(f"sharp{i}.jpg", images.jpeg(1000, 750, seed=i)) for i in range(4)]
    files += [(f"blurry{i}.jpg", images.blurred_jpeg(1000, 750, sigma=8, seed=10 + i)) for i in range(3)]
    assert api.upload(*files).status_code == 201
    return api.wait_scored()


def test_every_photo_leaves_unprocessed_and_the_threshold_re_sorts_without_re_scoring(api):
    _mixed_set(api)
    items = api.get("/api/v1/photos?limit=50").json()["items"]
    scored_at = {p["id"]: p["scored_at"] for p in items}
    assert all(p["blur_score"] is not None and p["scored_at"] for p in items)
    scores = sorted(p["blur_score"] for p in items)

    low = api.patch("/api/v1/settings", json={"blur_threshold": 0.0})
    assert low.status_code == 200 and low.json()["blur_threshold"] == 0.0
    counts = api.get("/api/v1/photos").json()["counts"]
    assert counts == {"all": 7, "blurred": 7, "not_blurred": 0, "unprocessed": 0}

    middle = (scores[2] + scores[3]) / 2
    api.patch("/api/v1/settings", json={"blur_threshold": middle})
    body = api.get("/api/v1/photos").json()
    assert body["threshold"] == round(middle, 4)
    assert body["counts"]["blurred"] + body["counts"]["not_blurred"] == body["counts"]["all"] == 7
    assert body["counts"]["blurred"] == sum(s >= round(middle, 4) for s in scores)

    blurred = api.get("/api/v1/photos?filter=blurred").json()["items"]
    assert all(p["is_blurred"] and p["blur_score"] >= body["threshold"] for p in blurred)
    assert {p["id"]: p["scored_at"] for p in api.get("/api/v1/photos?limit=50").json()["items"]} == scored_at


def test_blurred_photos_score_higher_than_sharp_ones(api):
    _mixed_set(api)
    items = api.get("/api/v1/photos?limit=50").json()["items"]
    sharp = [p["blur_score"] for p in items if p["filename"].startswith("sharp")]
    blurry = [p["blur_score"] for p in items if p["filename"].startswith("blurry")]
    assert max(sharp) < min(blurry)
    api.patch("/api/v1/settings", json={"blur_threshold": 0.5})
    assert {p["filename"] for p in api.get("/api/v1/photos?filter=blurred").json()["items"]} == {
        f"blurry{i}.jpg" for i in range(3)
    }


def test_bad_threshold_and_filter_are_422(api):
    assert api.patch("/api/v1/settings", json={"blur_threshold": 1.5}).status_code == 422
    assert api.patch("/api/v1/settings", json={"blur_threshold": "high"}).status_code == 400
    assert api.get("/api/v1/photos?filter=fuzzy").status_code == 422
    assert api.get("/api/v1/photos?limit=0").status_code == 422
    assert api.get("/api/v1/photos?cursor=@@@").status_code == 422
    naive = base64.urlsafe_b64encode(f"2026-01-01T00:00:00|{uuid.uuid4()}".encode()).decode()  # no time zone
    refused = api.get(f"/api/v1/photos?cursor={naive}")
    assert refused.status_code == 422 and "first page" in refused.json()["detail"]
    assert api.get("/api/v1/settings").json()["blur_threshold"] == 0.5
    wordy = api.get("/api/v1/photos?q=holiday&limit=" + "x" * 30_000)  # the answer names the parameter, not the value
    assert wordy.status_code == 400 and len(wordy.text) < 300
    assert wordy.json()["detail"] == "Validation failed for GET /api/v1/photos: limit: Expected `int`, got `str`"


def test_cursor_pagination_walks_every_photo_once(api):
    api.upload(*[(f"p{i}.jpg", images.jpeg(160, 120, seed=i)) for i in range(7)])
    seen, cursor = [], None
    while True:
        url = "/api/v1/photos?limit=3" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).json()
        seen += [p["id"] for p in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7


def test_detail_result_analyze_and_delete(api, settings):
    photo = api.upload(("one.jpg", images.jpeg())).json()["photos"][0]
    api.wait_scored()
    detail = api.get(f"/api/v1/photos/{photo['id']}").json()
    assert detail["details"]["blur_score"] == detail["blur_score"]
    result = api.get(f"/api/v1/photos/{photo['id']}/result").json()
    assert set(result) >= {"photo_id", "blur_score", "is_blurred", "blur_kind", "threshold", "processing_time_ms"}
    assert result["processing_time_ms"] > 0

    accepted = api.post(f"/api/v1/photos/{photo['id']}/analyze")
    assert accepted.status_code == 202
    job_id = accepted.json()["job_id"]
    for _ in range(100):
        job = api.get(f"/api/v1/blur/jobs/{job_id}").json()
        if job["status"] == "done":
            break
    assert job["status"] == "done" and job["done"] == 1 and job["total"] == 1
    assert api.get(f"/api/v1/photos/{photo['id']}/result").json()["blur_score"] == result["blur_score"]

    assert api.delete(f"/api/v1/photos/{photo['id']}").status_code == 204
    assert api.get(f"/api/v1/photos/{photo['id']}").status_code == 404
    # in Recently removed, with its file, until it is deleted for good
    assert [item["photo"]["id"] for item in api.get("/api/v1/removed").json()["items"]] == [photo["id"]]
    assert api.post("/api/v1/removed/discard", json={"photo_ids": [photo["id"]]}).json() == {"discarded": 1}
    assert [p for p in (settings.data_dir / "originals").rglob("*") if p.is_file()] == []
    assert api.get("/api/v1/photos/not-a-uuid").status_code == 404


def test_image_sizes_and_types(api):
    photo = api.upload(("pic.png", images.png(2000, 1000))).json()["photos"][0]
    base = f"/api/v1/photos/{photo['id']}/image"
    thumb = Image.open(io.BytesIO(api.get(f"{base}?size=thumb").content))
    medium = Image.open(io.BytesIO(api.get(f"{base}?size=medium").content))
    assert max(thumb.size) == 320 and max(medium.size) == 1600
    original = api.get(f"{base}?size=original")
    assert original.headers["content-type"] == "image/png" and original.headers["x-content-type-options"] == "nosniff"
    assert api.get(f"{base}?size=huge").status_code == 422


def test_the_medium_is_made_on_first_view_then_served_from_its_file(api, settings):
    photo = api.upload(("pic.jpg", images.jpeg(2400, 1800))).json()["photos"][0]
    renditions = settings.data_dir / "renditions"
    assert [p.name.split(".")[1] for p in renditions.rglob("*.jpg")] == ["thumb"]  # the upload makes the thumb only

    base = f"/api/v1/photos/{photo['id']}/image?size=medium"
    first = api.get(base)
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(first.content)).size == (1600, 1200)
    (medium,) = renditions.rglob("*.medium.jpg")
    made = medium.stat().st_mtime_ns
    assert api.get(base).content == first.content and medium.stat().st_mtime_ns == made  # not made twice

    assert api.delete(f"/api/v1/photos/{photo['id']}").status_code == 204
    assert len([p for p in renditions.rglob("*") if p.is_file()]) == 2  # kept in Recently removed
    assert api.get(f"/api/v1/removed/{photo['id']}/image?size=medium").content == first.content
    api.post("/api/v1/removed/discard", json={"all": True})
    assert [p for p in renditions.rglob("*") if p.is_file()] == []


def test_a_photo_stored_with_webp_renditions_gets_a_jpeg_thumb_and_loses_both_on_delete(api, settings):
    photo = api.upload(("pic.jpg", images.jpeg(800, 600))).json()["photos"][0]
    (thumb,) = (settings.data_dir / "renditions").rglob("*.thumb.jpg")
    legacy = thumb.with_suffix(".webp")
    thumb.rename(legacy)  # as Classify stored it before renditions were JPEG

    shown = api.get(f"/api/v1/photos/{photo['id']}/image?size=thumb")
    assert shown.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(shown.content)).format == "JPEG"

    assert api.delete(f"/api/v1/photos/{photo['id']}").status_code == 204
    api.post("/api/v1/removed/discard", json={"photo_ids": [photo["id"]]})
    assert not legacy.exists() and not thumb.exists()


def test_a_lost_thumb_is_made_again_and_a_lost_original_is_a_clear_404(api, settings):
    photo = api.upload(("pic.jpg", images.jpeg(800, 600))).json()["photos"][0]
    (thumb,) = (settings.data_dir / "renditions").rglob("*.thumb.jpg")
    thumb.unlink()
    base = f"/api/v1/photos/{photo['id']}/image"
    assert Image.open(io.BytesIO(api.get(f"{base}?size=thumb").content)).size == (320, 240)

    (original,) = (p for p in (settings.data_dir / "originals").rglob("*") if p.is_file())
    original.unlink()
    response = api.get(f"{base}?size=medium")
    assert response.status_code == 404 and "original could not be read" in response.json()["detail"]


def test_export_streams_a_zip_of_the_category(api):
    _mixed_set(api)
    api.patch("/api/v1/settings", json={"blur_threshold": 0.5})
    api.upload(("sharp0.jpg", images.jpeg(300, 200, seed=99)))  # same name as another photo, other bytes
    api.wait_scored()
    expected = api.get("/api/v1/photos?filter=not_blurred&limit=50").json()["items"]
    response = api.get("/api/v1/export?filter=not_blurred")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert len(names) == len(expected) and len(set(n.lower() for n in names)) == len(names)
    assert all(n.endswith(".jpg") for n in names) and "sharp0.jpg" in names and "sharp0-2.jpg" in names
    assert archive.testzip() is None
    assert api.get("/api/v1/export?filter=not_blurred&names=weird").status_code == 422


def test_stats(api):
    _mixed_set(api)
    stats = api.get("/api/v1/stats").json()
    assert stats["counts"]["all"] == 7 and stats["scored_today"] == 7
    assert sum(stats["histogram"]["counts"]) == 7 and stats["average_processing_ms"] > 0
    assert stats["total_bytes"] > 0 and stats["quota_bytes"] is None  # no CLASSIFY_QUOTA_MB: no quota


def test_batch_scoring_of_chosen_and_unknown_photos(api):
    photo = api.upload(("x.jpg", images.jpeg())).json()["photos"][0]
    accepted = api.post("/api/v1/blur/analyze-batch", json={"photo_ids": [photo["id"]]})
    assert accepted.status_code == 202 and accepted.json()["total"] == 1
    missing = api.post("/api/v1/blur/analyze-batch", json={"photo_ids": ["00000000-0000-0000-0000-000000000000"]})
    assert missing.status_code == 404
    everything = api.post("/api/v1/blur/analyze-batch")
    assert everything.status_code == 202


def test_the_blur_kind_follows_the_persons_threshold(api):
    blurry = api.upload(("blurry.jpg", images.blurred_jpeg(sigma=2))).json()["photos"][0]  # scores ~0.97
    sharp = api.upload(("sharp.jpg", images.jpeg(seed=5))).json()["photos"][0]
    api.wait_scored()
    assert api.get(f"/api/v1/photos/{blurry['id']}").json()["blur_kind"] in ("defocus", "motion")
    for threshold, photo_id, blurred in ((0.999, blurry["id"], False), (0.0, sharp["id"], True)):
        assert api.patch("/api/v1/settings", json={"blur_threshold": threshold}).status_code == 200
        shown = api.get(f"/api/v1/photos/{photo_id}").json()
        result = api.get(f"/api/v1/photos/{photo_id}/result").json()
        assert shown["is_blurred"] is blurred and result["is_blurred"] is blurred
        # never "blurred" and "sharp" at once: the kind is sharp exactly when the photo is not blurred
        assert (shown["blur_kind"] == "sharp") is (not blurred) and result["blur_kind"] == shown["blur_kind"]
        assert shown["blur_kind"] in ("sharp", "defocus", "motion")


def test_a_full_batch_of_large_files_fits_in_one_request_and_a_bigger_one_is_a_clear_413(tmp_path, database_url):
    settings = make_settings(tmp_path / "data", database_url, max_upload_mb=0.2, max_files_per_request=10)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        files = [(f"p{i}.jpg", images.jpeg(900, 700, seed=i)) for i in range(8)]
        assert all(100_000 < len(data) < 0.2 * 1024 * 1024 for _, data in files)
        assert sum(len(data) for _, data in files) > 4 * 0.2 * 1024 * 1024  # the old cap was four files' worth
        response = api.upload(*files)
        assert response.status_code == 201 and len(response.json()["photos"]) == 8, response.text

        too_big = api.upload(("huge.jpg", b"\xff\xd8\xff" + b"0" * 3_300_000))  # over 10 x 0.2 MB + 1 MB
        assert too_big.status_code == 413
        assert "at most 10 files of 0.2 MB" in too_big.json()["detail"]
        assert "smaller batches" in too_big.json()["detail"]
        assert api.get("/api/v1/photos").json()["counts"]["all"] == 8


async def bring_in(container, owner, name: str, data: bytes):
    """One photo imported the way an upload does it, with the container's own settings (quota included)."""
    from app.domain.services import photos

    return await photos.import_photo(
        data,
        name,
        owner=owner,
        source="upload",
        uow=container.uow,
        storage=container.storage,
        images=container.images,
        queue=container.queue,
        max_bytes=container.settings.max_upload_bytes,
        quota_bytes=container.settings.quota_bytes,
    )


async def test_a_medium_made_while_its_photo_is_removed_leaves_no_file(settings):
    from app.domain.errors import NotFound
    from app.domain.services import photos

    container = bootstrap(settings, offload=run_inline)
    try:
        password_hash = container.passwords.hash("x" * 12)
        async with container.uow() as tx:
            user = await tx.users.add("race@example.com", password_hash, None)
            await tx.commit()
        photo = (await bring_in(container, user.id, "race.jpg", images.jpeg(2000, 1500))).photo
        async with container.uow() as tx:  # removed and let go of for good while the medium is being made
            await tx.removed.put(user.id, [photo.id], container.clock(), None)
            await tx.removed.discard(user.id, [photo.id])
            await tx.commit()
        with pytest.raises(NotFound):
            await photos.rendition_file(
                photo, "medium", storage=container.storage, images=container.images, uow=container.uow
            )
        assert [p for p in settings.data_dir.rglob("*") if p.is_file() and photo.storage_key in p.name] == []
    finally:
        await container.close()


def test_a_photo_is_scored_as_it_arrives_where_the_process_runs_tasks(api):
    data = images.blurred_jpeg(2400, 1800, sigma=6)
    photo = api.upload(("soft.jpg", data)).json()["photos"][0]
    # No trip through the queue: the upload's answer already carries the score `classify score` gives.
    assert photo["blur_score"] == pytest.approx(score_image(data).blur_score, abs=1e-4)
    assert photo["scored_at"] and photo["is_blurred"] and photo["blur_kind"] in ("defocus", "motion")
    assert api.get("/api/v1/photos").json()["counts"] == {"all": 1, "blurred": 1, "not_blurred": 0, "unprocessed": 0}
    assert api.get(f"/api/v1/photos/{photo['id']}/result").json()["blur_score"] == photo["blur_score"]


def test_a_web_process_that_leaves_tasks_to_workers_only_makes_thumbs(tmp_path, database_url):
    settings = make_settings(tmp_path / "data", database_url, run_worker=False)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        photo = api.upload(("sharp.jpg", images.jpeg(1600, 1200))).json()["photos"][0]
        assert photo["blur_score"] is None and photo["scored_at"] is None
        assert api.get("/api/v1/photos").json()["counts"]["unprocessed"] == 1
        thumb = api.get(f"/api/v1/photos/{photo['id']}/image?size=thumb")
        assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (320, 240)
        # without Redis no other process can take its tasks: the system page says nothing will score it
        workers = client.get("/health/services").json()["services"]["workers"]
        assert workers["status"] == "error" and "CLASSIFY_RUN_WORKER is off and REDIS_URL" in workers["detail"]


def test_a_storage_quota_refuses_what_does_not_fit_and_keeps_nothing_of_it(tmp_path, database_url):
    first, second = images.jpeg(900, 700, seed=1), images.jpeg(900, 700, seed=2)
    quota_mb = (len(first) + len(second) // 2) / 1024 / 1024  # room for the first photo, not for both
    settings = make_settings(tmp_path / "data", database_url, quota_mb=quota_mb)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        assert api.upload(("first.jpg", first)).status_code == 201
        refused = api.upload(("second.jpg", second))
        assert refused.status_code == 413
        detail = refused.json()["rejected"][0]["detail"]
        assert "second.jpg" in detail and "storage quota" in detail and "Remove photos" in detail
        assert api.get("/api/v1/photos").json()["counts"]["all"] == 1
        assert len(list((settings.data_dir / "originals").rglob("*"))) == 2  # one folder, one original
        assert api.upload(("first-again.jpg", first)).status_code == 200  # what is already there still answers
        stats = api.get("/api/v1/stats").json()
        assert stats["total_bytes"] == len(first) and stats["quota_bytes"] == settings.quota_bytes
        client.get("/login")
        signed_in = client.post(
            "/login",
            data={"email": "owner@example.com", "password": PASSWORD, "_csrf_token": client.cookies.get("csrftoken")},
        )
        assert signed_in.status_code == 200
        page = client.get("/stats").text
        used, quota = megabytes(len(first)), megabytes(settings.quota_bytes)  # the unit of the settings
        assert f"{used} of {quota} are used" in detail  # the refusal and the Statistics page say the same
        assert f'<p class="stat-value">{used}</p>' in page and f"of your {quota} quota" in page
        other_account = "other@example.com"  # the quota is each person's own
        create_account(settings, other_account)
        assert login(client, other_account).upload(("second.jpg", second)).status_code == 201


async def test_photos_arriving_side_by_side_cannot_overfill_the_quota(tmp_path, database_url):
    import asyncio

    from app.domain.errors import PayloadRejected

    batch = [images.jpeg(700, 500, seed=seed) for seed in range(6)]
    sizes = sorted(map(len, batch))
    quota_mb = (sizes[-1] + sizes[-2] + 100) / 1024 / 1024  # room for any two
    assert sum(sizes[:3]) > quota_mb * 1024 * 1024  # and for no three
    settings = make_settings(tmp_path / "data", database_url, quota_mb=quota_mb)
    container = bootstrap(settings, offload=run_inline)
    try:
        async with container.uow() as tx:
            user = await tx.users.add("many@example.com", container.passwords.hash("x" * 12), None)
            await tx.commit()

        async def kept(n: int, data: bytes) -> bool:
            try:
                await bring_in(container, user.id, f"p{n}.jpg", data)
            except PayloadRejected as refused:
                assert refused.status_code == 413 and "storage quota" in refused.detail
                return False
            return True

        outcomes = await asyncio.gather(*(kept(n, data) for n, data in enumerate(batch)))
        async with container.uow() as tx:
            stored = await tx.photos.bytes_stored(user.id)
        assert sum(outcomes) == 2 and stored <= settings.quota_bytes
        assert len(list((settings.data_dir / "originals").rglob("*.*"))) == 0  # no temporary file left
        assert sum(1 for p in (settings.data_dir / "originals").rglob("*") if p.is_file()) == sum(outcomes)
    finally:
        await container.close()


def test_width_and_height_are_the_photo_as_shown(api):
    """A phone photo held upright is stored sideways with an EXIF orientation: its size was the stored one."""
    turned = [(f"o{o}.jpg", images.jpeg(1200, 900, orientation=o, seed=o)) for o in (1, 3, 6, 8)]
    assert api.upload(*turned).status_code == 201
    sizes = {p["filename"]: (p["width"], p["height"]) for p in api.get("/api/v1/photos").json()["items"]}
    assert sizes == {"o1.jpg": (1200, 900), "o3.jpg": (1200, 900), "o6.jpg": (900, 1200), "o8.jpg": (900, 1200)}


async def test_a_photo_removed_twice_at_once_is_removed_once(tmp_path, database_url):
    """Five DELETEs of one photo side by side all answered 204: each found the photo before any removed it.
    Now only the removal that deleted the row says so; the others find it gone (404)."""
    from app.domain.errors import NotFound
    from app.domain.services.photos import delete_photo

    settings = make_settings(tmp_path / "data", database_url)
    container = bootstrap(settings, offload=run_inline)
    try:
        async with container.uow() as tx:
            user = await tx.users.add("twice@example.com", container.passwords.hash("x" * 12), None)
            await tx.commit()
        photo = (await bring_in(container, user.id, "once.jpg", images.jpeg(seed=5))).photo
        async with container.uow() as tx:
            assert await tx.photos.get(user.id, photo.id) is not None  # seen by the second removal...
            await delete_photo(user.id, photo.id, uow=container.uow, clock=container.clock)  # ...as the first ends
            assert await tx.removed.put(user.id, [photo.id], container.clock(), None) == []
        with pytest.raises(NotFound):
            await delete_photo(user.id, photo.id, uow=container.uow, clock=container.clock)
        async with container.uow() as tx:
            assert await tx.removed.summary(user.id) == (1, photo.file_size)  # in Recently removed, once
    finally:
        await container.close()


def test_an_original_is_served_under_the_extension_of_what_it_is(api):
    """A JPEG uploaded as page.html was served inline as "page.html": saved from the browser, a file that opens
    as a web page. Its own name is kept, with the extension of its type."""
    lying = api.upload(("page.html", images.jpeg(seed=3))).json()["photos"][0]
    honest = api.upload(("holiday.jpeg", images.jpeg(seed=4))).json()["photos"][0]
    assert "extension_mismatch" in lying["flags"]
    served = api.get(f"/api/v1/photos/{lying['id']}/image?size=original")
    assert served.headers["content-type"] == "image/jpeg" and served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"] == 'inline; filename="page.jpg"'
    kept = api.get(f"/api/v1/photos/{honest['id']}/image?size=original")
    assert kept.headers["content-disposition"] == 'inline; filename="holiday.jpeg"'
