"""Recently removed: every removal can be undone for 30 days, photos come back as they were, and only the
owner's; then, or when asked, they go for good with their files."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from litestar.testing import TestClient

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain.services import photos, recently_removed, stray_files
from app.main import create_app
from tests import images
from tests.conftest import PASSWORD, create_account, login, make_settings
from tests.integration.test_api_photos import bring_in
from tests.integration.test_google import wait_job
from tests.integration.test_pages import _signed_in
from tests.integration.test_removal import _library, _upload


def _originals(settings) -> int:
    return sum(1 for p in Path(settings.data_dir, "originals").rglob("*") if p.is_file())


async def _owner_with_a_photo(container, email: str, name: str, seed: int):
    async with container.uow() as tx:
        user = await tx.users.add(email, container.passwords.hash("x" * 12), None)
        await tx.commit()
    return user, (await bring_in(container, user.id, name, images.jpeg(seed=seed))).photo


def _removed_ids(api) -> list[str]:
    return [item["photo"]["id"] for item in api.get("/api/v1/removed").json()["items"]]


def test_a_removal_is_undone_and_the_photos_come_back_as_they_were(api):
    mine = _library(api)
    marked = mine["blurred"][0]
    assert api.post("/api/v1/photos/mark-batch", json={"photo_ids": [marked], "marked_as": "sharp"}).status_code == 200
    before = {p["id"]: p for p in api.get("/api/v1/photos?limit=10").json()["items"]}
    counts = api.get("/api/v1/photos").json()["counts"]

    started = api.post("/api/v1/photos/remove-batch", json={"filter": "all"}).json()
    assert wait_job(api, started["job_id"])["done"] == 4
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 0
    removed = api.get("/api/v1/removed").json()
    assert removed["total"] == 4 and removed["keep_days"] == 30
    item = removed["items"][0]
    assert item["removal_job_id"] == started["job_id"]
    assert dt.datetime.fromisoformat(item["expires_at"]) - dt.datetime.fromisoformat(item["removed_at"]) == (
        dt.timedelta(days=30)
    )
    thumb = api.get(item["photo"]["thumbnail_url"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"

    undone = api.post("/api/v1/removed/restore", json={"job_id": started["job_id"]}).json()
    assert undone["restored"] == 4 and sorted(undone["photo_ids"]) == sorted(before) and undone["not_restored"] == []
    after = {p["id"]: p for p in api.get("/api/v1/photos?limit=10").json()["items"]}
    assert list(after) == list(before)  # in their places, newest first
    for photo_id, photo in before.items():  # scores, kinds, the person's own call, times: all as they were
        assert after[photo_id] == photo
    assert api.get("/api/v1/photos").json()["counts"] == counts
    assert api.get("/api/v1/removed").json()["total"] == 0


def test_a_removal_still_going_is_not_undone_under_it(api, settings):
    """After a crash a removal resumes where it stopped; an Undo in between put back what it had taken, then
    the removal took the rest, and the Undo's 200 said the photos were back."""
    from tests.conftest import run_sql
    from tests.integration.test_gallery_order import _db_id

    _library(api)
    started = api.post("/api/v1/photos/remove-batch", json={"filter": "all"}).json()
    assert wait_job(api, started["job_id"])["done"] == 4
    job = _db_id(started["job_id"], settings)
    run_sql(settings.database_url, "UPDATE jobs SET status = 'running' WHERE id = :id", id=job)  # as a crash leaves it
    refused = api.post("/api/v1/removed/restore", json={"job_id": started["job_id"]})
    assert refused.status_code == 409 and "still going (4 of 4 done)" in refused.json()["detail"]
    assert api.get("/api/v1/removed").json()["total"] == 4  # nothing put back
    run_sql(settings.database_url, "UPDATE jobs SET status = 'done' WHERE id = :id", id=job)
    assert api.post("/api/v1/removed/restore", json={"job_id": started["job_id"]}).json()["restored"] == 4


def test_a_photo_imported_again_since_stays_removed_and_says_why(api):
    data = images.jpeg(seed=21)
    first = _upload(api, "twice.jpg", data)
    other = _upload(api, "other.jpg", images.jpeg(seed=22))
    assert api.delete(f"/api/v1/photos/{first}").status_code == 204
    assert api.delete(f"/api/v1/photos/{other}").status_code == 204
    again = _upload(api, "twice-again.jpg", data)  # the same picture, a new photo

    result = api.post("/api/v1/removed/restore", json={"all": True}).json()
    assert result["restored"] == 1 and result["photo_ids"] == [other]
    (left,) = result["not_restored"]
    assert left["id"] == first and left["filename"] == "twice.jpg" and "in your library again" in left["detail"]
    assert _removed_ids(api) == [first]
    assert {p["id"] for p in api.get("/api/v1/photos").json()["items"]} == {again, other}


def test_only_the_owner_sees_puts_back_or_deletes_their_removed_photos(api, other_api, settings):
    mine = _upload(api, "mine.jpg", images.jpeg(seed=31))
    assert api.delete(f"/api/v1/photos/{mine}").status_code == 204

    assert other_api.get("/api/v1/removed").json() == {
        "items": [],
        "next_cursor": None,
        "total": 0,
        "total_bytes": 0,
        "keep_days": 30,
    }
    assert other_api.get(f"/api/v1/removed/{mine}/image?size=original").status_code == 404
    assert other_api.post("/api/v1/removed/restore", json={"photo_ids": [mine]}).json()["restored"] == 0
    assert other_api.post("/api/v1/removed/discard", json={"photo_ids": [mine]}).json() == {"discarded": 0}
    assert other_api.post("/api/v1/removed/discard", json={"all": True}).json() == {"discarded": 0}
    assert _removed_ids(api) == [mine] and _originals(settings) == 1
    original = api.get(f"/api/v1/removed/{mine}/image?size=original")
    assert original.status_code == 200 and original.content == images.jpeg(seed=31)


def test_saying_which_photos_is_required_and_one_way_only(api):
    photo = _upload(api, "a.jpg", images.jpeg(seed=41))
    for body in ({}, {"photo_ids": [photo], "all": True}, {"job_id": photo, "photo_ids": [photo]}):
        refused = api.post("/api/v1/removed/restore", json=body)
        assert refused.status_code == 422 and "Say which photos" in refused.json()["detail"]
    for body in ({}, {"photo_ids": [photo], "all": True}):
        assert api.post("/api/v1/removed/discard", json=body).status_code == 422
    assert api.get("/api/v1/removed/not-an-id/image").status_code == 404
    assert api.get(f"/api/v1/removed/{photo}/image").status_code == 404  # in the library, not removed
    assert api.get("/api/v1/removed?cursor=nonsense").status_code == 422
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 1  # nothing changed


def _all_pages(api, limit: int) -> list[str]:
    seen, cursor = [], None
    while True:
        page = api.get("/api/v1/removed", params={"limit": limit, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["photo"]["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            return seen


def test_the_list_pages_the_most_recently_removed_first(api):
    ids = [_upload(api, f"p{seed}.jpg", images.jpeg(seed=50 + seed)) for seed in range(5)]
    for photo_id in ids:
        assert api.delete(f"/api/v1/photos/{photo_id}").status_code == 204
    assert _all_pages(api, 2) == ids[::-1]
    for limit in (0, -1, 201):
        refused = api.get("/api/v1/removed", params={"limit": limit})
        assert refused.status_code == 422 and "limit must be between 1 and 200" in refused.json()["detail"]


def test_the_photos_of_one_removal_page_through_whole(api):
    """They share one removal time: the cursor goes on by id (on SQLite it once compared a text id with the
    stored bytes, and the list ended after its first page)."""
    ids = [_upload(api, f"b{seed}.jpg", images.jpeg(seed=110 + seed)) for seed in range(5)]
    started = api.post("/api/v1/photos/remove-batch", json={"photo_ids": ids}).json()
    assert wait_job(api, started["job_id"])["done"] == 5
    assert sorted(_all_pages(api, 2)) == sorted(ids)


def test_the_same_picture_removed_twice_goes_back_once(api):
    data = images.jpeg(seed=121)
    first = _upload(api, "a.jpg", data)
    assert api.delete(f"/api/v1/photos/{first}").status_code == 204
    second = _upload(api, "a-again.jpg", data)
    assert api.delete(f"/api/v1/photos/{second}").status_code == 204
    result = api.post("/api/v1/removed/restore", json={"all": True})
    assert result.status_code == 200
    assert result.json()["photo_ids"] == [second]  # the most recently removed
    assert [left["id"] for left in result.json()["not_restored"]] == [first]
    assert _removed_ids(api) == [first]


def test_the_copy_removed_last_goes_back_whichever_batch_it_falls_in(api, monkeypatch):
    monkeypatch.setattr(recently_removed, "RESTORE_BATCH", 1)  # as past 500 photos
    data = images.jpeg(seed=131)
    first = _upload(api, "a.jpg", data)
    assert api.delete(f"/api/v1/photos/{first}").status_code == 204
    second = _upload(api, "a-again.jpg", data)
    assert api.delete(f"/api/v1/photos/{second}").status_code == 204
    assert api.post("/api/v1/removed/restore", json={"all": True}).json()["photo_ids"] == [second]


def test_similar_shots_follow_a_removal_and_a_put_back(api):
    from tests.integration.test_similar import T0, _upload_burst

    kept = _upload_burst(api, 7, T0, [0.0, 2.0])
    other = _upload_burst(api, 8, T0 + dt.timedelta(hours=2), [0.0, 2.0])
    assert api.delete(f"/api/v1/photos/{kept[0]['id']}").status_code == 204
    assert [len(group["photos"]) for group in api.get("/api/v1/similar").json()["items"]] == [2]
    assert api.delete(f"/api/v1/photos/{other[0]['id']}").status_code == 204
    assert api.post("/api/v1/removed/restore", json={"photo_ids": [kept[0]["id"]]}).json()["restored"] == 1
    groups = api.get("/api/v1/similar").json()["items"]  # one photo out, another back: the groups are made again
    assert [sorted(p["id"] for p in group["photos"]) for group in groups] == [sorted(p["id"] for p in kept)]


def test_removed_photos_go_for_good_after_30_days_and_not_before(settings):
    async def run() -> None:
        container = bootstrap(settings, offload=run_inline)
        try:
            user, photo = await _owner_with_a_photo(container, "bin@example.com", "old.jpg", seed=61)
            now = dt.datetime.now(dt.UTC)
            async with container.uow() as tx:
                await tx.removed.put(user.id, [photo.id], now, None)
                await tx.commit()
            # a stray-file sweep keeps the removed photo's files
            assert await stray_files.remove_stray_files(uow=container.uow, storage=container.storage, older_than=0) == 0
            assert _originals(settings) == 1

            def days_later(days: int):
                return lambda: now + dt.timedelta(days=days)

            purge = {"uow": container.uow, "storage": container.storage}
            assert await recently_removed.discard_expired(**purge, clock=days_later(29)) == 0
            assert _originals(settings) == 1
            assert await recently_removed.discard_expired(**purge, clock=days_later(31)) == 1
            assert _originals(settings) == 0
            assert not any(p.is_file() for p in Path(settings.data_dir, "renditions").rglob("*"))
            async with container.uow() as tx:
                assert await tx.removed.summary(user.id) == (0, 0)
        finally:
            await container.close()

    asyncio.run(run())


def test_deleting_the_account_takes_its_removed_photos_files_too(client, api, settings):
    kept = _upload(api, "kept.jpg", images.jpeg(seed=71))
    gone = _upload(api, "gone.jpg", images.jpeg(seed=72))
    assert api.delete(f"/api/v1/photos/{gone}").status_code == 204
    assert _originals(settings) == 2 and kept
    token = _signed_in(client)
    done = client.post("/settings/delete", data={"confirm": PASSWORD, "_csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert _originals(settings) == 0


def test_the_pages_undo_a_removal_and_put_back_or_delete_from_the_bin(client, api, settings):
    mine = _library(api)
    token = _signed_in(client)
    headers = {"x-csrftoken": token, "hx-request": "true"}
    assert "Put back" not in client.get("/").text  # the home page is the gallery, with no note of its own

    # a photo page's removal says so, with an Undo that brings the photo back to its page
    removed = client.post(f"/photos/{mine['sharp'][0]}/delete", data={"_csrf_token": token}, follow_redirects=False)
    note = client.get(removed.headers["location"]).text
    assert "Recently removed" in note and "Undo" in note
    assert 'name="view" value="filter=all"' in note  # the Undo brings the photo back in its tab
    undo = {"photo_ids": mine["sharp"][0], "back": "photo", "_csrf_token": token}
    assert client.post("/removed/restore", data={**undo, "_csrf_token": ""}).status_code == 403
    view = "filter=not_blurred&sort=blurriest&evil=x\r\nSet-Cookie:+a"
    back = client.post("/removed/restore", data={**undo, "view": view}, follow_redirects=False)
    assert back.headers["location"] == f"/photos/{mine['sharp'][0]}?filter=not_blurred&sort=blurriest&restored=1"
    assert "Put back, as it was." in client.get(back.headers["location"]).text
    # the same Undo again (on the page Back shows, or Z pressed there): the photo is back, and so is the person
    again = client.post("/removed/restore", data={**undo, "view": view}, follow_redirects=False)
    assert again.headers["location"] == back.headers["location"]
    stale = client.get(removed.headers["location"]).text  # the page of the note, as Back asks for it again
    assert "Removed “" not in stale and "Undo" not in stale
    # a removed photo's own page (Back after its removal) says where it is, with its way back; not yours: not found
    assert client.post(f"/photos/{mine['sharp'][0]}/delete", data={"_csrf_token": token}).status_code == 200
    gone = client.get(f"/photos/{mine['sharp'][0]}?filter=all")
    assert gone.status_code == 404 and "is in Recently removed" in gone.text and "Put it back" in gone.text
    assert 'name="view" value="filter=all"' in gone.text
    assert client.post("/removed/restore", data={**undo, "view": "filter=all"}).status_code == 200
    # the bin's buttons with nothing ticked, or a form that names no photo
    nothing = client.post("/removed/restore", data={"_csrf_token": token}, follow_redirects=False)
    assert "Tick the photos to put back first." in client.get(nothing.headers["location"]).text
    nothing = client.post("/removed/discard", data={"_csrf_token": token}, follow_redirects=False)
    assert "Tick the photos to delete first." in client.get(nothing.headers["location"]).text
    for form in ({"photo_ids": "xx"}, {"job_id": "zz"}):
        assert client.post("/removed/restore", data={**form, "_csrf_token": token}).status_code == 422
    assert client.post("/jobs/remove-selected", data={"photo_ids": "xx"}, headers=headers).status_code == 422  # alike

    # a tab's removal job: its card offers the Undo
    started = client.post("/jobs/remove?filter=blurred", headers=headers)
    job_id = started.text.split('id="job-', 1)[1].split('"', 1)[0]
    assert wait_job(api, job_id)["done"] == 2
    card = client.get(f"/jobs/{job_id}", headers=headers).text
    assert 'name="job_id"' in card and "Undo" in card
    empty_tab = client.get("/photos?filter=blurred").text  # the emptied tab says where its photos went
    assert "No blurred photos at this threshold" in empty_tab
    assert '2 photos you removed wait in <a href="/removed">Recently removed</a>' in empty_tab
    bin_page = client.get("/removed").text
    assert bin_page.count('name="photo_ids"') == 2 and "2 photos" in bin_page

    undone = client.post(
        "/removed/restore", data={"job_id": job_id, "back": "gallery", "_csrf_token": token}, follow_redirects=False
    )
    assert undone.headers["location"] == "/photos?restored=2"
    assert "Put back 2 photos" in client.get(undone.headers["location"]).text
    tab = "filter=blurred&q=img&evil=x"  # the tab the job's Undo was pressed on; only a view's keys go along
    again = client.post(
        "/removed/restore",
        data={"job_id": job_id, "back": "gallery", "view": tab, "_csrf_token": token},
        follow_redirects=False,
    )
    assert again.headers["location"] == "/photos?filter=blurred&q=img&restored=0"
    assert "Nothing was put back: those photos are back already" in client.get(again.headers["location"]).text
    assert "Nothing removed lately" in client.get("/removed").text

    # from the bin: the ticked photos go for good, and an empty bin says so
    assert api.delete(f"/api/v1/photos/{mine['blurred'][0]}").status_code == 204
    assert "Recently removed</a> (1 photo)" in client.get("/stats").text
    gone = client.post(
        "/removed/discard", data={"photo_ids": mine["blurred"][0], "_csrf_token": token}, follow_redirects=False
    )
    assert gone.headers["location"] == "/removed?discarded=1"
    assert "Deleted 1 photo for good" in client.get(gone.headers["location"]).text
    assert _originals(settings) == 3


def test_the_quota_counts_recently_removed_until_it_is_deleted_for_good(tmp_path, database_url):
    first, second = images.jpeg(900, 700, seed=81), images.jpeg(900, 700, seed=82)
    quota_mb = (len(first) + len(second) // 2) / 1024 / 1024  # room for one photo, not for both
    settings = make_settings(tmp_path / "data", database_url, quota_mb=quota_mb)
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        photo = _upload(api, "first.jpg", first)
        assert api.delete(f"/api/v1/photos/{photo}").status_code == 204
        refused = api.upload(("second.jpg", second))
        assert refused.status_code == 413 and "Recently removed" in refused.json()["rejected"][0]["detail"]
        stats = api.get("/api/v1/stats").json()
        assert stats["total_bytes"] == 0 and stats["removed"] == {"count": 1, "bytes": len(first)}
        assert api.post("/api/v1/removed/discard", json={"all": True}).json() == {"discarded": 1}
        assert api.upload(("second.jpg", second)).status_code == 201


def test_an_account_deleted_while_its_photos_move_to_the_bin_waits_for_them_and_takes_them(settings):
    """A removal's batch holds the account's row from its first statement, as deleting the account takes it
    first: the deletion waits for the batch, then takes its photos from the bin, files and all."""
    from app.domain.services.accounts import remove_account

    async def run() -> None:
        container = bootstrap(settings, offload=run_inline)
        try:
            user, photo = await _owner_with_a_photo(container, "race@example.com", "race.jpg", seed=91)
            async with container.uow() as tx:
                job = await tx.jobs.add(user.id, "remove_photos", 1, {}, [str(photo.id)])
                await tx.commit()
            async with container.uow() as batch:
                await batch.removed.put(user.id, [photo.id], container.clock(), job.id)
                await batch.jobs.mark_items(job.id, [str(photo.id)], "done", None, container.clock())
                deletion = asyncio.create_task(
                    remove_account(user.id, uow=container.uow, storage=container.storage, google=container.google)
                )
                await asyncio.sleep(0.5)
                assert not deletion.done()  # it waits for the batch
                await batch.commit()
            assert await deletion == 1
            assert _originals(settings) == 0
        finally:
            await container.close()

    asyncio.run(run())


def test_many_ids_are_taken_in_chunks_and_too_many_are_refused(api, monkeypatch):
    from app.adapters.sql import removed_repositories

    monkeypatch.setattr(removed_repositories, "ID_CHUNK", 2)
    monkeypatch.setattr(recently_removed, "RESTORE_BATCH", 3)
    ids = [_upload(api, f"c{seed}.jpg", images.jpeg(seed=100 + seed)) for seed in range(5)]
    started = api.post("/api/v1/photos/remove-batch", json={"photo_ids": ids}).json()
    assert wait_job(api, started["job_id"])["done"] == 5
    monkeypatch.setattr(photos, "MAX_CHOSEN", 4)
    refused = api.post("/api/v1/removed/restore", json={"photo_ids": ids})
    assert refused.status_code == 422 and "at most 4 photos; to take them all, say all" in refused.json()["detail"]
    assert api.post("/api/v1/removed/discard", json={"photo_ids": ids}).status_code == 422
    restored = api.post("/api/v1/removed/restore", json={"photo_ids": ids[:4]}).json()
    assert restored["restored"] == 4 and sorted(restored["photo_ids"]) == sorted(ids[:4])
    assert api.post("/api/v1/removed/discard", json={"all": True}).json() == {"discarded": 1}


def test_all_on_the_bins_page_is_the_bin_as_the_page_showed_it(client, api):
    """ "Delete all 1 photo … for good?" from a page loaded before another window removed more deleted those too,
    unseen and for good; "Put all back (1)" undid the other window's removal."""
    import re
    import time

    mine = _library(api)
    token = _signed_in(client)
    api.delete(f"/api/v1/photos/{mine['sharp'][0]}")
    page = client.get("/removed").text
    up_to = re.findall(r'name="removed_up_to" value="([^"]+)"', page)
    assert len(up_to) == 2 and up_to[0] == up_to[1] and "Put all back (1)" in page
    time.sleep(0.01)  # the other window's removal comes after
    api.delete(f"/api/v1/photos/{mine['blurred'][0]}")
    for action, said in (("discard", "discarded=1"), ("restore", "restored=0")):
        done = client.post(
            f"/removed/{action}",
            data={"all": "1", "removed_up_to": up_to[0], "_csrf_token": token},
            follow_redirects=False,
        )
        assert said in done.headers["location"], (action, done.headers["location"])
    assert _removed_ids(api) == [mine["blurred"][0]]  # the other window's removal is still there to see
    stale = client.post("/removed/discard", data={"all": "1", "removed_up_to": "yesterday", "_csrf_token": token})
    assert (
        stale.status_code == 422 and "Nothing was changed" in stale.text and _removed_ids(api) == [mine["blurred"][0]]
    )
    # the API's all, with the same bound: what a client saw
    seen = api.get("/api/v1/removed").json()["items"][0]["removed_at"]
    api.delete(f"/api/v1/photos/{mine['blurred'][1]}")
    assert api.post("/api/v1/removed/restore", json={"all": True, "removed_up_to": seen}).json()["restored"] == 1
    assert _removed_ids(api) == [mine["blurred"][1]]
