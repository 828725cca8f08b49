"""A person's own call on a photo: "sharp" or "blurred" decides where it belongs, whatever its score says."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from tests import images
from tests.integration.test_pages import _signed_in
from tests.integration.test_similar import T0, _upload_burst

SOFTER = (0.9, 1.1, 1.3, 1.5)  # Gaussian sigmas


def _two_photos(api) -> tuple[dict, dict]:
    blurry = api.upload(("blurry.jpg", images.blurred_jpeg(1000, 750, sigma=8, seed=3))).json()["photos"][0]
    sharp = api.upload(("sharp.jpg", images.jpeg(1000, 750, seed=4))).json()["photos"][0]
    api.wait_scored()
    return blurry, sharp


def _names(api, category: str) -> set[str]:
    return {p["filename"] for p in api.get(f"/api/v1/photos?filter={category}").json()["items"]}


def test_a_mark_moves_a_photo_whatever_its_score_and_the_threshold(api):
    blurry, sharp = _two_photos(api)
    assert _names(api, "blurred") == {"blurry.jpg"} and _names(api, "not_blurred") == {"sharp.jpg"}  # the premise

    marked = api.patch(f"/api/v1/photos/{blurry['id']}", json={"marked_as": "sharp"})
    assert marked.status_code == 200
    body = marked.json()
    assert body["marked_as"] == "sharp" and body["is_blurred"] is False and body["category"] == "not_blurred"
    assert body["blur_kind"] == "sharp" and body["blur_score"] > 0.9  # the score itself is kept as it was
    assert _names(api, "blurred") == set() and _names(api, "not_blurred") == {"blurry.jpg", "sharp.jpg"}
    counts = api.get("/api/v1/photos").json()["counts"]
    assert counts == {"all": 2, "blurred": 0, "not_blurred": 2, "unprocessed": 0}
    result = api.get(f"/api/v1/photos/{blurry['id']}/result").json()
    assert result["is_blurred"] is False and result["marked_as"] == "sharp"

    # the threshold no longer moves a marked photo; the unmarked one still follows it
    api.patch("/api/v1/settings", json={"blur_threshold": 0.0})
    assert _names(api, "blurred") == {"sharp.jpg"} and _names(api, "not_blurred") == {"blurry.jpg"}
    api.patch("/api/v1/settings", json={"blur_threshold": 0.5})

    # what leaves Classify as keepers follows the mark too
    archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export?filter=not_blurred").content))
    assert sorted(archive.namelist()) == ["blurry.jpg", "sharp.jpg"]

    api.patch(f"/api/v1/photos/{sharp['id']}", json={"marked_as": "blurred"})
    assert _names(api, "blurred") == {"sharp.jpg"}
    # both marks say otherwise than the score: the statistics count how often the scorer was overruled
    assert api.get("/api/v1/stats").json()["marks"] == {"sharp": 1, "blurred": 1, "overruled": 2}
    cleared = api.patch(f"/api/v1/photos/{blurry['id']}", json={"marked_as": None}).json()
    assert cleared["marked_as"] is None and cleared["is_blurred"] is True and cleared["blur_kind"] != "sharp"
    assert _names(api, "blurred") == {"blurry.jpg", "sharp.jpg"} and _names(api, "not_blurred") == set()


def test_a_mark_stays_through_a_re_score(api):
    blurry, _ = _two_photos(api)
    api.patch(f"/api/v1/photos/{blurry['id']}", json={"marked_as": "sharp"})
    job_id = api.post(f"/api/v1/photos/{blurry['id']}/analyze").json()["job_id"]
    for _ in range(200):
        if api.get(f"/api/v1/blur/jobs/{job_id}").json()["status"] == "done":
            break
    shown = api.get(f"/api/v1/photos/{blurry['id']}").json()
    assert shown["marked_as"] == "sharp" and shown["category"] == "not_blurred"


def test_bad_marks_and_other_peoples_photos_are_refused_and_change_nothing(api, other_api):
    blurry, _ = _two_photos(api)
    url = f"/api/v1/photos/{blurry['id']}"
    fuzzy = api.patch(url, json={"marked_as": "fuzzy"})
    assert fuzzy.status_code == 422 and '"sharp", "blurred"' in fuzzy.json()["detail"]
    assert api.patch(url, json={}).status_code == 400  # say what you want: a mark, or null
    assert other_api.patch(url, json={"marked_as": "sharp"}).status_code == 404  # not yours: as if it did not exist
    unknown = "/api/v1/photos/00000000-0000-0000-0000-000000000000"
    assert api.patch(unknown, json={"marked_as": "sharp"}).status_code == 404
    shown = api.get(url).json()
    assert shown["marked_as"] is None and shown["category"] == "blurred"


def test_the_photo_page_marks_with_a_form_and_the_gallery_says_whose_call_it_is(client, api):
    blurry, _ = _two_photos(api)
    token = _signed_in(client)
    page = client.get(f"/photos/{blurry['id']}?filter=blurred").text
    assert re.search(r'id="mark-score"[^>]*aria-pressed="true"', page)  # unmarked: the score decides
    assert "(your threshold 0.50)" in page

    refused = client.post(f"/photos/{blurry['id']}/mark", data={"marked_as": "sharp"})
    assert refused.status_code == 403  # no CSRF token
    done = client.post(
        f"/photos/{blurry['id']}/mark?filter=blurred",
        data={"marked_as": "sharp", "_csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/photos/{blurry['id']}?filter=blurred&marked=true"
    page = client.get(done.headers["location"]).text
    assert "Your call is saved: sharp." in page  # where the page puts the focus, after a reload
    assert re.search(r'id="mark-sharp"[^>]*aria-pressed="true"', page)
    assert re.search(r'data-verdict="sharp">\s*Not blurred — your call \(score [01]\.\d{3}\)', page)
    gallery = client.get("/photos?filter=not_blurred").text
    assert re.search(r"[01]\.\d\d · sharp · your call", gallery)
    assert re.search(r"<p class=\"stat-value\">1</p><p>your calls, 1 against the score</p>", client.get("/stats").text)

    bad = client.post(f"/photos/{blurry['id']}/mark", data={"marked_as": "fuzzy", "_csrf_token": token})
    assert bad.status_code == 422 and "A mark is" in bad.text
    client.post(f"/photos/{blurry['id']}/mark", data={"marked_as": "", "_csrf_token": token})
    assert api.get(f"/api/v1/photos/{blurry['id']}").json()["marked_as"] is None


def test_remove_only_the_blurred_spares_a_shot_marked_sharp(client, api):
    token = _signed_in(client)
    burst = _upload_burst(api, 21, T0 + dt.timedelta(hours=1), [3.0, 0.0, 5.0, 0.5])  # two blurred, two sharp
    api.wait_scored()
    api.patch(f"/api/v1/photos/{burst[0]['id']}", json={"marked_as": "sharp"})  # "I like that one"
    page = client.get("/similar").text
    assert "Remove only the 1 blurred" in page
    forms = re.findall(r'name="keep" value="([^"]+)">\s*<input type="hidden" name="remove" value="([^"]+)"', page)
    assert forms[1][1] == burst[2]["id"]
    client.post("/similar/keep-best", data={"keep": forms[1][0], "remove": forms[1][1], "_csrf_token": token})
    left = {p["id"] for p in api.get("/api/v1/photos").json()["items"]}
    assert left == {burst[0]["id"], burst[1]["id"], burst[3]["id"]}


def test_a_shot_marked_sharp_is_the_one_a_group_keeps(client, api):
    _signed_in(client)
    burst = _upload_burst(api, 22, T0 + dt.timedelta(hours=2), [0.0, 0.5, 3.0])
    api.wait_scored()
    [group] = api.get("/api/v1/similar").json()["items"]
    assert group["best_id"] == burst[0]["id"]  # the premise: the lowest score
    page = client.get("/similar").text
    assert "Keep the sharpest, remove the other 2 shots" in page and "Your pick" not in page

    api.patch(f"/api/v1/photos/{burst[1]['id']}", json={"marked_as": "sharp"})  # "I like this one better"
    [group] = api.get("/api/v1/similar").json()["items"]
    assert group["best_id"] == burst[1]["id"]
    page = client.get("/similar").text
    assert "Your pick" in page and "Keep your pick, remove the other 2 shots" in page
    photo_page = client.get(f"/photos/{burst[0]['id']}").text
    assert re.search(r"your pick: <a [^>]*>burst22_1\.jpg</a>", photo_page)
    archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export?filter=all&similar=sharpest").content))
    assert archive.namelist() == ["burst22_1.jpg"]

    # two picks: keeping one never removes the other
    api.patch(f"/api/v1/photos/{burst[0]['id']}", json={"marked_as": "sharp"})
    page = client.get("/similar").text
    assert "Keep your 2 picks, remove the other shot" in page
    forms = re.findall(r'name="keep" value="([^"]+)">\s*<input type="hidden" name="remove" value="([^"]+)"', page)
    assert forms[0][1] == burst[2]["id"]
    archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export?filter=all&similar=sharpest").content))
    assert sorted(archive.namelist()) == ["burst22_0.jpg", "burst22_1.jpg"]  # both picks, as the page keeps them

    # a page from before a shot was marked sharp (in another window): keeping another does not remove the pick
    api.patch(f"/api/v1/photos/{burst[2]['id']}", json={"marked_as": "sharp"})
    token = client.cookies.get("csrftoken")
    others = f"{burst[0]['id']},{burst[2]['id']}"
    kept = client.post("/similar/keep-best", data={"keep": burst[1]["id"], "remove": others, "_csrf_token": token})
    assert kept.status_code == 200 and "removed=0" in str(kept.url)
    assert {p["id"] for p in api.get("/api/v1/photos").json()["items"]} >= {burst[0]["id"], burst[2]["id"]}


def test_marks_point_to_a_threshold_and_the_gallery_offers_to_use_it(client, api):
    # a little softer each: scores from about 0.001 to 0.2, all sharp at the default threshold
    files = [(f"soft{i}.jpg", images.blurred_jpeg(1000, 750, sigma=sigma, seed=40)) for i, sigma in enumerate(SOFTER)]
    api.upload(*files)
    api.wait_scored()
    token = _signed_in(client)
    scored = sorted((p["blur_score"], p["id"]) for p in api.get("/api/v1/photos").json()["items"])
    (low, keep), (middle, soft), (high, softer) = scored[0], scored[2], scored[3]
    assert low < middle < high < 0.5  # the premise: all four are sharp at 0.5, with distinct scores
    assert api.get("/api/v1/settings").json()["suggested_threshold"] is None  # no marks, nothing to say
    assert "Your calls on photos point to" not in client.get("/threshold/suggestion").text

    # "these two look soft to me", "this one is fine": a stricter line than 0.5 fits the marks
    api.patch(f"/api/v1/photos/{soft}", json={"marked_as": "blurred"})
    api.patch(f"/api/v1/photos/{softer}", json={"marked_as": "blurred"})
    api.patch(f"/api/v1/photos/{keep}", json={"marked_as": "sharp"})
    suggested = api.get("/api/v1/settings").json()["suggested_threshold"]
    assert suggested["marks"] == 3 and suggested["agree"] == 3 and suggested["agree_now"] == 1
    assert low < suggested["threshold"] <= middle

    fragment = client.get("/threshold/suggestion?filter=blurred").text
    assert re.search(r"It agrees with 3 of your\s+3\s+calls; your threshold, 0\.50, agrees with 1\.", fragment)
    assert re.search(rf"At 0\.\d+, {suggested['counts']['blurred']} of your 4 photos would be blurred", fragment)
    used = client.post("/threshold/suggested?filter=blurred", data={"_csrf_token": token}, follow_redirects=False)
    assert used.status_code == 303 and used.headers["location"] == "/photos?filter=blurred&took=1"
    assert re.search(
        r"Your threshold is now 0\.\d\d, where your calls on photos point\.", client.get(used.headers["location"]).text
    )
    settings = api.get("/api/v1/settings").json()
    assert settings["blur_threshold"] == suggested["threshold"] and settings["suggested_threshold"] is None
    assert api.get("/api/v1/photos").json()["counts"] == suggested["counts"]  # the offer said what taking it does
    assert client.get("/threshold/suggestion").text.strip() == ""
    again = client.post("/threshold/suggested", data={"_csrf_token": token})
    assert again.status_code == 409 and "as well as any" in again.text
    assert client.post("/threshold/suggested", data={}).status_code == 403  # no CSRF token

    # "Use X" pressed on a page from before more marks (in another window) sets X, the value it offered
    offered = re.search(r'name="threshold" value="([^"]+)"', fragment)[1]
    assert float(offered) == suggested["threshold"]
    api.patch("/api/v1/settings", json={"blur_threshold": 0.5})
    api.patch(f"/api/v1/photos/{keep}", json={"marked_as": "blurred"})  # the marks point elsewhere now
    client.post("/threshold/suggested", data={"threshold": offered, "_csrf_token": token})
    assert api.get("/api/v1/settings").json()["blur_threshold"] == suggested["threshold"]


def test_a_threshold_between_the_sliders_steps_is_shown_as_it_is(client, api):
    """0.2559 (a suggestion taken, or set by the API) read "0.26" on every page, and the slider was given steps
    it could not stand on (the keys are tried in tests/browser/test_keyboard_focus.py)."""
    _signed_in(client)
    api.upload(("sharp.jpg", images.jpeg(1000, 750, seed=4)))
    api.wait_scored()
    api.patch("/api/v1/settings", json={"blur_threshold": 0.2559})
    gallery = client.get("/photos").text
    assert '<output id="threshold-value" for="threshold" aria-live="off">0.2559</output>' in gallery
    assert 'step="any" value="0.2559"' in gallery  # the arrows step from it; a drag goes back to the 0.01 steps
    assert "At 0.2559:" in client.get("/threshold/preview?threshold=0.2559").text
    assert "Your threshold is <strong>0.2559</strong>" in client.get("/settings").text
    stats = client.get("/stats").text
    assert "threshold 0.2559" in stats
    assert stats.count("bar-split") == 1 and "--split: " in stats  # the bar it runs through: part sharp, part blurred
    api.patch("/api/v1/settings", json={"blur_threshold": 0.26})
    assert 'step="0.01" value="0.26"' in client.get("/photos").text
