"""Similar shots through the API and the page: a burst is one group, its sharpest photo marked, per owner."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import uuid
import zipfile

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain.cursors import encode_cursor
from app.jobs.tasks import sweep
from app.routes import similar as similar_routes
from tests import images
from tests.conftest import run_sql
from tests.integration.test_pages import _signed_in

T0 = dt.datetime(2026, 5, 1, 14, 3, 0)


def _upload_burst(api, seed: int, start: dt.datetime, sigmas: list[float]) -> list[dict]:
    files = [
        (f"burst{seed}_{i}.jpg", images.shot(seed, start + dt.timedelta(seconds=i), shift=2 * i, sigma=sigma))
        for i, sigma in enumerate(sigmas)
    ]
    response = api.upload(*files)
    assert response.status_code == 201, response.text
    return response.json()["photos"]


def test_a_burst_is_grouped_with_its_sharpest_photo_marked(api, other_api):
    burst = _upload_burst(api, 1, T0, [4.0, 0.0, 2.0])
    _upload_burst(api, 2, T0 + dt.timedelta(minutes=5), [0.0])  # another scene, on its own
    api.wait_scored()

    body = api.get("/api/v1/similar").json()
    assert body["total"] == 1 and body["pending"] == 0 and body["next_cursor"] is None
    [group] = body["items"]
    assert [p["id"] for p in group["photos"]] == [p["id"] for p in burst]  # in the order they were taken
    assert group["best_id"] == burst[1]["id"]  # the one frame without blur
    scores = {p["id"]: p["blur_score"] for p in group["photos"]}
    assert scores[group["best_id"]] == min(scores.values())

    assert other_api.get("/api/v1/similar").json() == {"items": [], "next_cursor": None, "total": 0, "pending": 0}


def test_a_score_written_by_a_worker_elsewhere_moves_the_best_shot_at_once(api, database_url):
    """The groups are kept in the web process between pages; a score is not part of them, so one written
    by a worker in another process (arq), straight into the database, shows on the next page all the same."""
    burst = _upload_burst(api, 3, T0, [4.0, 0.0, 2.0])
    api.wait_scored()
    assert api.get("/api/v1/similar").json()["items"][0]["best_id"] == burst[1]["id"]

    run_sql(database_url, "UPDATE photos SET blur_score = 0.99 WHERE filename = 'burst3_1.jpg'")
    run_sql(database_url, "UPDATE photos SET blur_score = 0.01 WHERE filename = 'burst3_2.jpg'")
    [group] = api.get("/api/v1/similar").json()["items"]
    assert group["best_id"] == burst[2]["id"]
    assert {p["id"]: p["blur_score"] for p in group["photos"]}[burst[1]["id"]] == 0.99


def test_the_pages_show_each_group_with_its_sharpest_photo_and_an_empty_state(client, api):
    _signed_in(client)
    empty = client.get("/similar")
    assert empty.status_code == 200 and "No similar shots" in empty.text
    burst = _upload_burst(api, 6, T0, [3.0, 0.0])
    api.wait_scored()
    page = client.get("/similar")
    assert "1 group of similar shots" in page.text and "2 shots" in page.text
    best = re.search(r'<li class="photo-card best-shot">\s*<a href="/photos/([0-9a-f-]+)"', page.text)
    assert best and best.group(1) == burst[1]["id"]
    assert page.text.count("Sharpest</span>") == 1

    after_all = encode_cursor(dt.datetime(2100, 1, 1, tzinfo=dt.UTC), uuid.UUID(int=0))  # before it: every group
    more = client.get(f"/similar?cursor={after_all}", headers={"hx-request": "true"})  # what "More groups…" loads
    assert "2 shots" in more.text and "<html" not in more.text and "More groups" not in more.text

    blurred = client.get(f"/photos/{burst[0]['id']}").text
    sharper = re.search(r'the sharpest: <a href="/photos/([0-9a-f-]+)" class="sharper-shot">([^<]+)</a>', blurred)
    assert "2 taken together" in blurred and sharper and sharper.groups() == (burst[1]["id"], "burst6_1.jpg")
    assert "this is the sharpest" in client.get(f"/photos/{burst[1]['id']}").text
    lone = _upload_burst(api, 9, T0 + dt.timedelta(seconds=5), [0.0])[0]  # taken meanwhile, of another scene
    assert "Similar shots</dt>" not in client.get(f"/photos/{lone['id']}").text

    # every shot blurred at the threshold: the one to keep is not called "the sharpest", which read as sharp
    assert api.patch("/api/v1/settings", json={"blur_threshold": 0.0001}).status_code == 200
    page = client.get("/similar").text
    assert "Least blurred</span>" in page and "Sharpest</span>" not in page
    assert "Keep the least blurred, remove the other shot" in page
    assert "this is the least blurred" in client.get(f"/photos/{burst[1]['id']}").text


def test_keep_the_sharpest_removes_the_other_shots_it_showed_and_nothing_else(client, api, other_api):
    token = _signed_in(client)
    burst = _upload_burst(api, 7, T0, [3.0, 0.0, 5.0])
    api.wait_scored()
    theirs = other_api.upload(("theirs.jpg", images.shot(8))).json()["photos"][0]
    page = client.get("/similar")
    keep = re.search(r'name="keep" value="([^"]+)"', page.text).group(1)
    remove = re.search(r'name="remove" value="([^"]+)"', page.text).group(1)
    assert keep == burst[1]["id"] and set(remove.split(",")) == {burst[0]["id"], burst[2]["id"]}
    assert "remove the other 2 shots" in page.text

    without_token = client.post("/similar/keep-best", data={"keep": keep, "remove": remove})
    assert without_token.status_code == 403 and len(api.get("/api/v1/photos").json()["items"]) == 3

    # someone else's photo slipped into the form is not theirs to remove: it is passed over like a gone one
    form = {"keep": keep, "remove": f"{remove},{theirs['id']}", "_csrf_token": token}
    done = client.post("/similar/keep-best", data=form, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/similar?removed=2&gone=")  # theirs not
    note = client.get(done.headers["location"]).text
    assert 'Removed 2 shots to <a href="/removed">Recently removed</a>; their sources are not touched.' in note
    undo = re.findall(r'name="photo_ids" value="([^"]+)"', note)
    assert sorted(undo) == sorted(remove.split(",")) and theirs["id"] not in undo  # the note's Undo: what went
    assert [p["id"] for p in api.get("/api/v1/photos").json()["items"]] == [keep]
    assert other_api.get(f"/api/v1/photos/{theirs['id']}").status_code == 200
    assert api.get("/api/v1/similar").json()["total"] == 0
    assert client.post("/similar/keep-best", data=form).status_code == 200  # again: nothing left to remove

    same = client.post("/similar/keep-best", data={"keep": keep, "remove": keep, "_csrf_token": token})
    assert same.status_code == 422 and api.get(f"/api/v1/photos/{keep}").status_code == 200
    garbage = client.post("/similar/keep-best", data={"keep": "x", "remove": "y", "_csrf_token": token})
    assert garbage.status_code == 404
    not_theirs = {"keep": theirs["id"], "remove": keep, "_csrf_token": token}  # keeping someone else's photo
    assert client.post("/similar/keep-best", data=not_theirs).status_code == 404
    assert api.get(f"/api/v1/photos/{keep}").status_code == 200
    assert other_api.get(f"/api/v1/photos/{theirs['id']}").status_code == 200


def test_with_several_sharp_shots_only_the_blurred_ones_can_go(client, api):
    token = _signed_in(client)
    burst = _upload_burst(api, 13, T0, [3.0, 0.0, 5.0, 0.5])  # two blurred frames, two sharp ones
    api.wait_scored()
    blurred = {p["id"] for p in api.get("/api/v1/photos?filter=blurred").json()["items"]}
    assert blurred == {burst[0]["id"], burst[2]["id"]}  # the premise
    page = client.get("/similar").text
    assert "Keep the sharpest, remove the other 3 shots" in page and "Remove only the 2 blurred" in page
    forms = re.findall(r'name="keep" value="([^"]+)">\s*<input type="hidden" name="remove" value="([^"]+)"', page)
    assert len(forms) == 2 and set(forms[1][1].split(",")) == blurred

    done = client.post("/similar/keep-best", data={"keep": forms[1][0], "remove": forms[1][1], "_csrf_token": token})
    assert done.status_code == 200
    left = {p["id"] for p in api.get("/api/v1/photos").json()["items"]}
    assert left == {burst[1]["id"], burst[3]["id"]}  # both sharp shots stay, still a group of two
    after = client.get("/similar").text
    assert "2 shots" in after and "Remove only" not in after and "Keep the sharpest, remove the other shot" in after


def test_an_export_can_keep_only_the_sharpest_of_each_moment(client, api, database_url):
    burst = _upload_burst(api, 10, T0, [0.0, 0.0, 4.0])
    _upload_burst(api, 11, T0 + dt.timedelta(minutes=5), [0.0])
    api.wait_scored()
    assert api.get(f"/api/v1/photos/{burst[2]['id']}").json()["is_blurred"]  # the premise: one frame is blurred

    def exported(query: str) -> list[str]:
        response = api.get(f"/api/v1/export?{query}")
        assert response.status_code == 200, response.text
        return sorted(zipfile.ZipFile(io.BytesIO(response.content)).namelist())

    keepers = exported("filter=not_blurred")
    assert keepers == ["burst10_0.jpg", "burst10_1.jpg", "burst11_0.jpg"]
    sharpest = exported("filter=not_blurred&similar=sharpest")
    assert len(sharpest) == 2 and "burst11_0.jpg" in sharpest and sharpest[0] in keepers[:2]
    assert exported("filter=all&similar=sharpest") == sharpest
    # A frame not scored yet is kept: it may be the sharpest of them.
    run_sql(database_url, "UPDATE photos SET blur_score = NULL WHERE filename = 'burst10_2.jpg'")
    assert exported("filter=all&similar=sharpest") == sorted([*sharpest, "burst10_2.jpg"])
    refused = api.get("/api/v1/export?similar=best")
    assert refused.status_code == 422 and "sharpest" in refused.json()["detail"]

    _signed_in(client)
    menu = client.get("/photos?filter=not_blurred").text
    link = re.search(r'href="(/export\?filter=not_blurred&amp;similar=sharpest)" download', menu)
    assert link and "ZIP of only the sharpest of similar shots" in menu
    page_zip = client.get(link.group(1).replace("&amp;", "&"))
    assert sorted(zipfile.ZipFile(io.BytesIO(page_zip.content)).namelist()) == sharpest


def test_groups_come_a_page_at_a_time_and_bad_paging_is_refused(api):
    _upload_burst(api, 3, T0, [0.0, 0.0])
    _upload_burst(api, 4, T0 + dt.timedelta(hours=1), [0.0, 0.0])
    api.wait_scored()

    first = api.get("/api/v1/similar?limit=1").json()
    assert first["total"] == 2 and first["next_cursor"]
    _upload_burst(api, 12, T0 + dt.timedelta(hours=2), [0.0, 0.0])  # a newer burst arrives while they page
    api.wait_scored()
    second = api.get(f"/api/v1/similar?limit=1&cursor={first['next_cursor']}").json()
    assert second["next_cursor"] is None and second["total"] == 3
    names = [g["photos"][0]["filename"] for g in (*first["items"], *second["items"])]
    assert names == ["burst4_0.jpg", "burst3_0.jpg"]  # the most recent first, none twice, none skipped

    naive = encode_cursor(dt.datetime(2026, 1, 1), uuid.UUID(int=0))  # a time without its zone
    for query in ("limit=0", "limit=101", "cursor=abc", "cursor=-1", "cursor=%C2%B2", "cursor=0", f"cursor={naive}"):
        refused = api.get(f"/api/v1/similar?{query}")
        assert refused.status_code in (400, 422), query
        assert refused.json()["detail"], query


def test_photos_stored_before_fingerprints_get_theirs_in_the_background(api, settings):
    _upload_burst(api, 5, T0, [0.0, 3.0])
    api.wait_scored()
    read = "SELECT id, fingerprint FROM photos ORDER BY id"
    taken_on_arrival = run_sql(settings.database_url, read)
    assert len(taken_on_arrival) == 2 and all(len(fp) == 16 for _, fp in taken_on_arrival)

    run_sql(settings.database_url, "UPDATE photos SET fingerprint = NULL")  # as photos stored before them
    waiting = api.get("/api/v1/similar").json()
    assert (waiting["total"], waiting["pending"]) == (0, 2)

    async def sweep_once() -> None:
        container = bootstrap(settings, offload=run_inline)
        try:
            await sweep({"container": container})
        finally:
            await container.close()

    asyncio.run(sweep_once())
    assert run_sql(settings.database_url, read) == taken_on_arrival  # the same thumbs give the same fingerprints
    body = api.get("/api/v1/similar").json()
    assert (body["total"], body["pending"]) == (1, 0) and len(body["items"][0]["photos"]) == 2


def test_a_photo_pages_group_link_opens_the_page_of_groups_at_its_group(client, api, other_api, monkeypatch):
    monkeypatch.setattr(similar_routes, "PAGE_GROUPS", 1)  # a page a group, so the oldest is on the third page
    _signed_in(client)
    oldest = _upload_burst(api, 11, T0, [0.0, 3.0])
    _upload_burst(api, 12, T0 + dt.timedelta(minutes=5), [0.0, 3.0])
    _upload_burst(api, 13, T0 + dt.timedelta(minutes=10), [0.0, 3.0])
    api.wait_scored()

    photo_page = client.get(f"/photos/{oldest[1]['id']}").text
    assert f'<a href="/similar/of/{oldest[1]["id"]}">2 taken together</a>' in photo_page
    link = client.get(f"/similar/of/{oldest[1]['id']}", follow_redirects=False)
    assert link.status_code == 303 and link.headers["location"].endswith(f"#group-{oldest[0]['id']}")
    shown = client.get(link.headers["location"].split("#")[0]).text
    assert f'id="group-{oldest[0]["id"]}"' in shown and "these are the later ones" in shown

    theirs = other_api.upload(("theirs.jpg", images.shot(8))).json()["photos"][0]
    assert client.get(f"/similar/of/{theirs['id']}", follow_redirects=False).status_code == 404  # not yours
    alone = api.upload(("alone.jpg", images.shot(9))).json()["photos"][0]
    assert client.get(f"/similar/of/{alone['id']}", follow_redirects=False).headers["location"] == "/similar"
    assert client.get("/similar/of/not-an-id").status_code == 404


def test_after_a_keep_the_page_goes_on_at_the_next_group_with_its_note_there(client, api):
    """The page came back at the next group (its anchor) while the note of what went stood at its top, out of
    sight and without the focus."""
    token = _signed_in(client)
    _upload_burst(api, 31, T0, [3.0, 0.0])
    _upload_burst(api, 32, T0 + dt.timedelta(minutes=5), [0.0, 4.0])
    api.wait_scored()
    page = client.get("/similar").text
    pairs = re.findall(r'name="keep" value="([^"]+)">\s*<input type="hidden" name="remove" value="([^"]+)"', page)
    keep, remove = pairs[0]
    after = re.search(r'name="next" value="(group-[0-9a-f-]+)"', page)[1]
    form = {"keep": keep, "remove": remove, "next": after, "_csrf_token": token}
    done = client.post("/similar/keep-best", data=form, follow_redirects=False)
    assert done.headers["location"].startswith(f"/similar?removed=1&at={after}&gone=")
    assert done.headers["location"].endswith("#removed-note")
    shown = client.get(done.headers["location"].split("#")[0]).text
    note = shown.index('id="removed-note"')
    assert shown.count('id="removed-note"') == 1 and note < shown.index(f'id="{after}"')
    assert "Removed 1 shot to" in shown


def test_a_keeps_undo_puts_the_shots_back_and_returns_to_the_page(client, api):
    """The other removals had an Undo where they were made; a keep on this page only pointed to Recently removed."""
    token = _signed_in(client)
    burst = _upload_burst(api, 33, T0, [0.0, 4.0, 5.0])
    api.wait_scored()
    page = client.get("/similar").text
    keep, remove = re.findall(
        r'name="keep" value="([^"]+)">\s*<input type="hidden" name="remove" value="([^"]+)"', page
    )[0]
    done = client.post("/similar/keep-best", data={"keep": keep, "remove": remove, "_csrf_token": token})
    assert len(api.get("/api/v1/photos").json()["items"]) == 1
    ids = re.findall(r'name="photo_ids" value="([^"]+)"', done.text)
    form = {"photo_ids": ids, "back": "similar", "_csrf_token": token}
    back = client.post("/removed/restore", data=form, follow_redirects=False)
    assert back.headers["location"] == "/similar?restored=2"
    assert "Put back 2 shots, as they were." in client.get(back.headers["location"]).text
    assert len(api.get("/api/v1/photos").json()["items"]) == 3 and api.get("/api/v1/similar").json()["total"] == 1
    assert {p["id"] for p in api.get("/api/v1/photos").json()["items"]} == {p["id"] for p in burst}
