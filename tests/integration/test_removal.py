"""Removing a tab's photos (or chosen ones) from Classify as a job: only those, only the owner's, files too,
and nothing at any source. And the same call on many photos at once, from the API and from the grid's ticks."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain.categories import Category
from app.domain.services import jobs, photos, removal
from tests import images
from tests.conftest import run_sql
from tests.integration.test_google import wait_job
from tests.integration.test_pages import _signed_in
from tests.support.jobs import HeldQueue


def _upload(api, name: str, data: bytes) -> str:
    response = api.upload((name, data))
    assert response.status_code == 201, response.text
    return response.json()["photos"][0]["id"]


def _library(api) -> dict[str, list[str]]:
    sharp = [_upload(api, f"sharp{seed}.jpg", images.jpeg(seed=seed)) for seed in (1, 2)]
    blurred = [_upload(api, f"soft{seed}.jpg", images.blurred_jpeg(sigma=9, seed=seed)) for seed in (3, 4)]
    api.wait_scored()
    return {"sharp": sharp, "blurred": blurred}


def _files(settings) -> set[str]:
    return {path.name for path in Path(settings.data_dir).rglob("*") if path.is_file() and "originals" in path.parts}


def test_the_api_removes_the_blurred_tab_and_nothing_else(api, other_api, settings):
    mine = _library(api)
    theirs = _upload(other_api, "theirs.jpg", images.blurred_jpeg(sigma=9, seed=5))
    other_api.wait_scored()
    assert len(_files(settings)) == 5

    started = api.post("/api/v1/photos/remove-batch", json={"filter": "blurred"})
    assert started.status_code == 202 and started.json()["total"] == 2
    job = wait_job(api, started.json()["job_id"])
    assert (job["kind"], job["status"], job["done"], job["failed"]) == ("remove_photos", "done", 2, 0)

    listed = api.get("/api/v1/photos").json()
    assert {p["id"] for p in listed["items"]} == set(mine["sharp"])
    assert listed["counts"] == {"all": 2, "blurred": 0, "not_blurred": 2, "unprocessed": 0}
    assert all(api.get(f"/api/v1/photos/{photo}").status_code == 404 for photo in mine["blurred"])
    assert other_api.get(f"/api/v1/photos/{theirs}").status_code == 200  # the same tab of another account
    assert len(_files(settings)) == 5  # in Recently removed, files and all
    removed = api.get("/api/v1/removed").json()
    assert {item["photo"]["id"] for item in removed["items"]} == set(mine["blurred"]) and removed["total"] == 2
    assert other_api.get("/api/v1/removed").json()["total"] == 0
    assert api.post("/api/v1/removed/discard", json={"all": True}).json() == {"discarded": 2}
    assert len(_files(settings)) == 3


def test_chosen_photos_are_removed_and_someone_elses_are_not_found(api, other_api, settings):
    mine = _library(api)
    theirs = _upload(other_api, "theirs.jpg", images.jpeg(seed=6))

    refused = api.post("/api/v1/photos/remove-batch", json={"photo_ids": [mine["sharp"][0], theirs]})
    assert refused.status_code == 404 and theirs in refused.json()["detail"]
    assert run_sql(settings.database_url, "SELECT count(*) FROM jobs") == [(0,)]  # nothing started
    assert other_api.get(f"/api/v1/photos/{theirs}").status_code == 200

    started = api.post("/api/v1/photos/remove-batch", json={"photo_ids": [mine["sharp"][0], mine["blurred"][0]]})
    assert started.status_code == 202 and started.json()["total"] == 2
    assert wait_job(api, started.json()["job_id"])["done"] == 2
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 2


def test_a_removal_must_say_what_it_removes(api):
    _library(api)
    for body, words in (
        ({}, "Say which photos to remove"),
        ({"filter": "blurred", "photo_ids": []}, "not both"),
        ({"filter": "fuzzy"}, "filter must be one of"),
    ):
        refused = api.post("/api/v1/photos/remove-batch", json=body)
        assert refused.status_code == 422 and words in refused.json()["detail"], refused.text
    jobs = len(api.get("/api/v1/blur/jobs").json())
    for path, body in (  # an empty list names no photo: a job of nothing, or "marked 0", would say it was done
        ("/api/v1/photos/remove-batch", {"photo_ids": []}),
        ("/api/v1/blur/analyze-batch", {"photo_ids": []}),
        ("/api/v1/photos/mark-batch", {"photo_ids": [], "marked_as": "sharp"}),
        ("/api/v1/removed/restore", {"photo_ids": []}),
        ("/api/v1/removed/discard", {"photo_ids": []}),
    ):
        refused = api.post(path, json=body)
        assert refused.status_code == 422 and "photo_ids is empty" in refused.json()["detail"], (path, refused.text)
    assert len(api.get("/api/v1/blur/jobs").json()) == jobs
    empty = api.post("/api/v1/photos/remove-batch", json={"filter": "blurred", "tag": "no-such-tag"})
    assert empty.status_code == 202 and empty.json()["total"] == 0
    assert wait_job(api, empty.json()["job_id"])["status"] == "done"
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 4


def test_the_gallery_offers_removing_the_tab_as_filtered_and_asks_first(client, api):
    _signed_in(client)
    api.upload(("sharp.jpg", images.jpeg(seed=7)))
    api.upload(("soft.jpg", images.blurred_jpeg(sigma=9, seed=8)))
    api.wait_scored()
    page = client.get("/photos?filter=blurred").text
    asked = "/jobs/remove?filter=blurred&amp;threshold=0.5&amp;shown=1"  # what the page showed comes along
    assert f'hx-post="{asked}"' in page and "Remove Blurred (1)" in page
    assert 'hx-confirm="Remove this photo (Blurred) from Classify?' in page
    asked = asked.replace("&amp;", "&")

    assert client.post(asked).status_code == 403  # no CSRF token
    headers = {"x-csrftoken": client.cookies.get("csrftoken"), "hx-request": "true"}
    # the tab changed in another window since the page was shown: nothing is removed, and the page says why
    for moved, detail in (
        (0.0, "Your threshold is 0.00 now, not 0.50, so the Blurred tab changed: 2 photos now, not 1."),
        (0.5, None),
    ):
        api.patch("/api/v1/settings", json={"blur_threshold": moved})
        if detail:
            refused = client.post(asked, headers=headers)
            assert refused.status_code == 409 and detail in refused.text and "Nothing was removed" in refused.text
    more = api.upload(("soft-2.jpg", images.blurred_jpeg(sigma=9, seed=9))).json()["photos"][0]["id"]
    api.wait_scored()
    refused = client.post(asked, headers=headers)
    assert refused.status_code == 409
    assert "The Blurred tab changed since the page was shown: 2 photos now, not 1." in refused.text
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 3 and len(api.get("/api/v1/blur/jobs").json()) == 0
    api.delete(f"/api/v1/photos/{more}")
    started = client.post(asked, headers=headers)
    assert started.status_code == 200 and "Remove photos" in started.text
    job_id = started.text.split('id="job-', 1)[1].split('"', 1)[0]
    assert wait_job(api, job_id)["done"] == 1
    finished = client.get(f"/jobs/{job_id}", headers=headers)
    assert finished.headers["hx-trigger"] == "photos-scored"  # the gallery reloads its grid
    assert api.get("/api/v1/photos").json()["counts"] == {"all": 1, "blurred": 0, "not_blurred": 1, "unprocessed": 0}


def test_a_cancel_stops_a_removal_between_batches_and_running_it_again_removes_nothing_more(api, settings, monkeypatch):
    _library(api)
    monkeypatch.setattr(removal, "BATCH", 1)

    async def run() -> tuple[int, int, int]:
        queue = HeldQueue()
        container = bootstrap(settings, offload=run_inline, queue=queue)
        try:
            async with container.uow() as tx:
                user = await tx.users.by_email("owner@example.com")
            job = await removal.start_removal(user, Category.ALL, uow=container.uow, queue=queue)
            assert queue.queued == [("remove_photos", (str(job.id),))]
            cancelled: list[bool] = []

            @contextlib.asynccontextmanager
            async def cancel_after_first_batch() -> Any:  # the person presses Cancel as the first batch is in
                async with container.uow() as tx:
                    yield tx
                async with container.uow() as tx:
                    moved = (await tx.removed.summary(user.id))[0]
                if moved and not cancelled:
                    cancelled.append(True)
                    await jobs.cancel_job(user.id, job.id, uow=container.uow, now=container.clock())

            first = await removal.run_removal(job.id, uow=cancel_after_first_batch, clock=container.clock)
            run = dict(uow=container.uow, clock=container.clock)
            again = await removal.run_removal(job.id, **run)
            rest = await removal.start_removal(user, Category.ALL, uow=container.uow, queue=queue)
            whole = await removal.run_removal(rest.id, **run)
            return first, again, whole + await removal.run_removal(rest.id, **run)
        finally:
            await container.close()

    assert asyncio.run(run()) == (1, 0, 3)
    assert api.get("/api/v1/removed").json()["total"] == 4 and len(_files(settings)) == 4


def test_a_batch_names_at_most_so_many_photos_each_counted_once(api, monkeypatch):
    mine = _library(api)
    monkeypatch.setattr(photos, "MAX_CHOSEN", 2)
    for path in ("/api/v1/photos/remove-batch", "/api/v1/blur/analyze-batch"):
        refused = api.post(path, json={"photo_ids": mine["sharp"] + mine["blurred"][:1]})
        assert refused.status_code == 422 and "at most 2 photos" in refused.json()["detail"], refused.text
    twice = api.post("/api/v1/photos/remove-batch", json={"photo_ids": [mine["sharp"][0]] * 3})
    assert twice.status_code == 202 and twice.json()["total"] == 1


def test_the_photos_ticked_in_the_grid_are_removed_and_only_those(client, api, other_api):
    mine = _library(api)
    theirs = _upload(other_api, "theirs.jpg", images.jpeg(seed=9))
    _signed_in(client)
    grid = client.get("/photos").text
    assert grid.count('form="picked"') == 4 and 'hx-post="/jobs/remove-selected"' in grid
    headers = {"x-csrftoken": client.cookies.get("csrftoken"), "hx-request": "true"}
    form = "&".join(f"photo_ids={photo}" for photo in (mine["sharp"][0], mine["blurred"][1]))
    form_headers = {**headers, "content-type": "application/x-www-form-urlencoded"}

    unprotected = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post("/jobs/remove-selected", content=form, headers=unprotected).status_code == 403  # no CSRF
    none = client.post("/jobs/remove-selected", content="", headers=form_headers)
    assert none.status_code == 422 and "Tick the photos to remove first." in none.text
    stranger = client.post("/jobs/remove-selected", content=f"photo_ids={theirs}", headers=form_headers)
    assert stranger.status_code == 404 and other_api.get(f"/api/v1/photos/{theirs}").status_code == 200
    assert "1 of the 1 chosen photos is not in your library" in stranger.text and "nothing was changed" in stranger.text

    started = client.post("/jobs/remove-selected", content=form, headers=form_headers)
    assert started.status_code == 200 and "Remove photos" in started.text
    job_id = started.text.split('id="job-', 1)[1].split('"', 1)[0]
    assert wait_job(api, job_id)["done"] == 2
    left = {p["id"] for p in api.get("/api/v1/photos").json()["items"]}
    assert left == {mine["sharp"][1], mine["blurred"][0]}
    one = client.post("/jobs/remove-selected", content=f"photo_ids={mine['sharp'][1]}", headers=form_headers)
    assert one.status_code == 200 and wait_job(api, one.text.split('id="job-', 1)[1].split('"', 1)[0])["done"] == 1


def test_many_photos_get_the_same_call_at_once_from_the_api_and_the_grid(client, api, other_api):
    mine = _library(api)
    theirs = _upload(other_api, "theirs.jpg", images.jpeg(seed=10))

    def counts() -> dict:
        return api.get("/api/v1/photos").json()["counts"]

    assert counts() == {"all": 4, "blurred": 2, "not_blurred": 2, "unprocessed": 0}
    marked = api.post("/api/v1/photos/mark-batch", json={"photo_ids": mine["blurred"], "marked_as": "sharp"})
    assert marked.status_code == 200 and marked.json() == {"marked": 2}
    assert counts()["not_blurred"] == 4
    refused = api.post(
        "/api/v1/photos/mark-batch", json={"photo_ids": [mine["sharp"][0], theirs], "marked_as": "blurred"}
    )
    assert refused.status_code == 404 and counts()["blurred"] == 0  # all or none
    assert (
        api.post("/api/v1/photos/mark-batch", json={"photo_ids": mine["sharp"], "marked_as": "meh"}).status_code == 422
    )
    back = api.post("/api/v1/photos/mark-batch", json={"photo_ids": mine["blurred"], "marked_as": None})
    assert back.json() == {"marked": 2} and counts()["blurred"] == 2

    _signed_in(client)
    headers = {
        "x-csrftoken": client.cookies.get("csrftoken"),
        "hx-request": "true",
        "content-type": "application/x-www-form-urlencoded",
    }
    form = f"marked_as=blurred&photo_ids={mine['sharp'][0]}&photo_ids={mine['sharp'][1]}"
    done = client.post("/photos/mark-selected", content=form, headers=headers)
    assert done.status_code == 200 and "Marked 2 photos blurred." in done.text
    assert done.headers["hx-trigger"] == "photos-scored" and counts()["blurred"] == 4
    none = client.post("/photos/mark-selected", content="marked_as=sharp", headers=headers)
    assert none.status_code == 422 and "Tick the photos to mark first." in none.text
    odd = client.post("/photos/mark-selected", content=f"marked_as=<b>&photo_ids={mine['sharp'][0]}", headers=headers)
    assert odd.status_code == 422 and "<b>" not in odd.text


def test_a_removals_undo_is_offered_while_its_photos_are_in_the_bin(client, api):
    """Undo stayed on the Jobs page once its photos were back, and led to "Nothing was put back" (browser
    review). It goes when the last of them is put back, by the Undo or from Recently removed."""
    mine = _library(api)
    first = api.post("/api/v1/photos/remove-batch", json={"photo_ids": mine["blurred"]}).json()["job_id"]
    wait_job(api, first)
    second = api.post("/api/v1/photos/remove-batch", json={"photo_ids": mine["sharp"][:1]}).json()["job_id"]
    wait_job(api, second)
    _signed_in(client)

    def undo_offered() -> set[str]:
        page = client.get("/jobs").text
        return {job for job in (first, second) if f'name="job_id" value="{job}"' in page}

    assert undo_offered() == {first, second}
    assert api.post("/api/v1/removed/restore", json={"job_id": second}).json()["restored"] == 1
    assert undo_offered() == {first}
    api.post("/api/v1/removed/restore", json={"photo_ids": mine["blurred"][:1]})
    assert undo_offered() == {first}  # one of its photos still waits
    api.post("/api/v1/removed/restore", json={"photo_ids": mine["blurred"][1:]})
    assert undo_offered() == set()
    card = client.get(f"/jobs/{first}", headers={"hx-request": "true"}).text
    assert "Undo: put them back" not in card and "done" in card
