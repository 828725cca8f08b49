"""The browser side without a browser: first run, sign in, CSRF on forms, and pages behind sign-in."""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterator

import httpx
import pytest

from app.cli.serve import listens_here_only
from app.routes.pages_auth import asked_from_this_machine
from tests import images
from tests.support.live_server import live_server


def _csrf(client) -> str:
    client.get("/login")
    return client.cookies.get("csrftoken")


@pytest.fixture
def first_run(tmp_path, database_url) -> Iterator[httpx.Client]:
    """A real server with no account yet, asked from this machine as `bash scripts/run` is opened: the page
    judges the request's peer address, which only a server on a socket has."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    with live_server(env) as server, httpx.Client(base_url=server.url.replace("127.0.0.1", "localhost")) as browser:
        yield browser


def _form_token(browser: httpx.Client, path: str = "/setup") -> str:
    browser.get(path)
    return browser.cookies.get("csrftoken")


def test_first_run_creates_the_owner_then_setup_closes(first_run):
    browser = first_run
    assert browser.get("/").headers["location"] == "/setup"
    form = {"email": "me@example.com", "password": "long enough", "password_again": "long enough"}
    created = browser.post("/setup", data={**form, "_csrf_token": _form_token(browser)})
    assert created.status_code == 303 and created.headers["location"] == "/"
    home = browser.get("/")
    assert home.status_code == 200 and "me@example.com" in home.text and "No photos yet" in home.text
    browser.post("/logout", data={"_csrf_token": browser.cookies.get("csrftoken")})
    assert browser.get("/setup").headers["location"] == "/login"
    again = browser.post("/setup", data={**form, "_csrf_token": _form_token(browser, "/login")})
    assert again.status_code == 422 and "already has an owner" in again.text


def test_setup_explains_bad_input(first_run):
    browser = first_run
    form = {"email": "not-an-email", "password": "long enough", "password_again": "long enough"}
    response = browser.post("/setup", data={**form, "_csrf_token": _form_token(browser)})
    assert response.status_code == 422 and "valid email" in response.text
    form.update(email="me@example.com", password_again="different!")
    assert "not the same" in browser.post("/setup", data={**form, "_csrf_token": _form_token(browser)}).text


def test_the_first_run_page_makes_no_account_through_a_proxy_on_this_machine(first_run):
    """A proxy that sends the request on as 127.0.0.1, with Host rewritten (nginx's and Apache's default): its
    own headers give it away. And a Host no browser sends is refused, not a 500."""
    browser = first_run
    form = {"email": "me@example.com", "password": "long enough", "password_again": "long enough"}
    for header in ({"X-Real-IP": "203.0.113.5"}, {"Via": "1.1 proxy"}, {"X-Forwarded-Proto": "https"}):
        page = browser.get("/setup", headers=header)
        assert 'data-setup="closed"' in page.text and "opened from another machine" in page.text, header
        refused = browser.post("/setup", data={**form, "_csrf_token": _form_token(browser)}, headers=header)
        assert refused.status_code == 403, header
    odd = browser.get("/setup", headers={"Host": "[::1"})
    assert odd.status_code == 200 and 'data-setup="closed"' in odd.text
    assert browser.get("/").headers["location"] == "/setup"  # still no account


def test_a_server_reachable_from_elsewhere_makes_its_first_account_on_the_server_not_on_the_page(client):
    """On a public address (`serve --host 0.0.0.0`, as the container and Fly run it) the first visitor, anyone,
    could take the server through the first-run page, in the time between `fly deploy` and its owner's visit."""
    client.app.state.container.first_run_page = False
    page = client.get("/setup")
    assert page.status_code == 200 and 'data-setup="closed"' in page.text
    assert "classify users create you@example.com" in page.text and "<form" not in page.text.split("<main")[-1]
    form = {"email": "me@example.com", "password": "long enough", "password_again": "long enough"}
    refused = client.post("/setup", data={**form, "_csrf_token": _csrf(client)}, follow_redirects=False)
    assert refused.status_code == 403 and 'data-setup="closed"' in refused.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/setup"  # still no account


def test_the_first_run_page_makes_no_account_for_a_request_from_elsewhere(client):
    """A server on 127.0.0.1 behind a reverse proxy on the same machine, or reached by a page elsewhere that
    rebinds its own name to 127.0.0.1: the request names another host, and whoever came first took the server."""
    for host in ("rebind.attacker.example", "photos.example.org:443", "10.0.0.5:8000"):
        client.base_url = f"http://{host}"
        client.cookies.clear()
        page = client.get("/setup")
        assert page.status_code == 200 and 'data-setup="closed"' in page.text
        assert "opened from another machine" in page.text and "<form" not in page.text.split("<main")[-1]
        form = {"email": "me@example.com", "password": "long enough", "password_again": "long enough"}
        refused = client.post("/setup", data={**form, "_csrf_token": _csrf(client)}, follow_redirects=False)
        assert refused.status_code == 403 and 'data-setup="closed"' in refused.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/setup"  # still no account


@pytest.mark.parametrize(
    ("host", "client", "here"),
    [
        ("localhost:8000", "127.0.0.1", True),
        ("127.0.0.1:8000", "127.0.0.1", True),
        ("[::1]:8000", "::1", True),
        ("app.localhost", "127.0.0.1", True),
        ("localhost:8000", "203.0.113.5", False),  # a proxy on this machine, naming the real client
        ("photos.example.org", "127.0.0.1", False),  # a proxy that names no client, but the site
        ("rebind.attacker.example:8000", "127.0.0.1", False),  # a page elsewhere, its name rebound to 127.0.0.1
        ("localhost.attacker.example", "127.0.0.1", False),
        (None, "127.0.0.1", False),
        ("localhost:8000", "unknown", False),  # what a proxy may forward for a client it hides
        ("localhost:8000", None, False),
        ("[::1", "::1", False),
    ],
)
def test_the_first_run_page_takes_requests_from_this_machine_only(host, client, here):
    assert asked_from_this_machine(host, client) is here


@pytest.mark.parametrize(
    ("host", "here_only"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False), ("::", False), ("10.1.2.3", False)],
)
def test_the_first_run_page_is_open_only_on_a_server_listening_on_loopback(host, here_only):
    assert listens_here_only(host) is here_only


def test_forms_without_the_csrf_token_are_refused(client, api):
    response = client.post("/login", data={"email": "owner@example.com", "password": "x"})
    assert response.status_code == 403 and "reload the page and try again. Nothing was changed." in response.text
    by_htmx = client.post("/login", data={"email": "owner@example.com"}, headers={"hx-request": "true"})
    assert by_htmx.status_code == 403 and "CSRF token verification" not in by_htmx.text


def test_sign_in_sign_out_and_redirect_back(client, api):
    assert client.get("/stats", follow_redirects=False).headers["location"] == "/login?next=/stats"
    token = _csrf(client)
    wrong = client.post("/login", data={"email": "owner@example.com", "password": "wrong", "_csrf_token": token})
    assert wrong.status_code == 401 and "not right" in wrong.text
    ok = client.post(
        "/login",
        data={
            "email": "owner@example.com",
            "password": "correct horse battery",
            "next": "/stats",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert ok.headers["location"] == "/stats"
    assert "Statistics" in client.get("/stats").text
    evil = client.post(
        "/login",
        data={
            "email": "owner@example.com",
            "password": "correct horse battery",
            "next": "//evil.example/x",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/"
    out = client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken")})
    assert "You are signed out." in out.text and "classify users set-password" in out.text  # said, and the way back
    assert client.get("/stats", follow_redirects=False).status_code == 302


def test_signing_in_gives_the_session_a_new_id(client, api):
    """Session fixation: the backend kept the id the browser came with, so an id planted in a browser before
    its owner signed in became their session, usable by whoever planted it."""
    _signed_in(client)
    planted = client.cookies.get("classify_session")
    assert planted and client.get("/settings").status_code == 200
    _signed_in(client)  # signing in again, in a browser that already carries an id
    fresh = client.cookies.get("classify_session")
    assert fresh and fresh != planted and client.get("/settings").status_code == 200
    client.cookies.set("classify_session", planted)
    assert client.get("/settings", follow_redirects=False).status_code == 302  # the old id signs nobody in
    client.cookies.set("classify_session", fresh)
    out = client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False)
    cleared = [c for c in out.headers.get_list("set-cookie") if c.startswith("classify_session=")]
    assert len(cleared) == 1 and "Max-Age=0" in cleared[0]  # dropped by the browser, not kept for 14 days


def test_pages_may_not_be_framed_and_the_sign_in_limit_says_when_to_come_back(client, api):
    page = client.get("/login")
    for response in (page, client.get("/no-such-page"), client.get("/photos", follow_redirects=False)):
        assert response.headers["x-frame-options"] == "DENY", response.status_code  # error pages, redirects too
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "script-src 'self'" in response.headers["content-security-policy"]  # no script it did not serve
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers  # plain http: a browser would ignore it
    token = _csrf(client)
    wrong = {"email": "owner@example.com", "password": "wrong", "_csrf_token": token}
    answers = [client.post("/login", data=wrong) for _ in range(6)]
    assert answers[-1].status_code == 429 and int(answers[-1].headers["retry-after"]) > 0


def test_a_search_longer_than_anyone_types_is_refused_not_failed(client, api):
    _signed_in(client)
    long = "a" * 50_001
    assert api.get("/api/v1/photos", params={"q": long}).status_code == 422
    assert api.get("/api/v1/photos", params={"tag": long}).status_code == 422
    refused = client.get("/photos", params={"q": long})
    assert refused.status_code == 422 and "too long" in refused.text
    assert client.get("/export/csv", params={"q": long}).status_code == 422


def _signed_in(client) -> str:
    token = _csrf(client)
    client.post(
        "/login", data={"email": "owner@example.com", "password": "correct horse battery", "_csrf_token": token}
    )
    return client.cookies.get("csrftoken")


def test_upload_page_flow_gallery_photo_page_and_threshold(client, api):
    token = _signed_in(client)
    headers = {"x-csrftoken": token}
    upload = client.post("/upload", files=[("files", ("sharp.jpg", images.jpeg()))], headers=headers)
    assert upload.status_code == 201
    bad = client.post("/upload", files=[("files", ("x.jpg", images.html_as_bytes()))], headers=headers)
    assert bad.status_code == 415 and "HTML" in bad.json()["rejected"][0]["detail"]
    api.wait_scored()
    photo_id = upload.json()["photos"][0]["id"]
    gallery = client.get("/photos?filter=not_blurred")
    assert f"/photos/{photo_id}" in gallery.text
    page = client.get(f"/photos/{photo_id}")
    assert page.status_code == 200 and 'data-verdict="sharp"' in page.text
    assert re.search(r"<dt>Noise</dt><dd>low \(σ \d+\.\d grey levels\)</dd>", page.text)
    preview = client.get("/threshold/preview?threshold=0.0", headers={"hx-request": "true"})
    assert re.search(r'data-preview="blurred">1<', preview.text)
    saved = client.post("/threshold", data={"threshold": "0.0"}, headers=headers)
    assert saved.status_code == 200 and saved.headers["hx-trigger"] == "threshold-changed"
    assert api.get("/api/v1/settings").json()["blur_threshold"] == 0.0
    card = client.get("/photos?filter=blurred").text  # the card names the kind as the photo page does
    assert re.search(r"· blurred · (out of focus|shake)</span>", card) and "· defocus" not in card
    assert client.post("/threshold", data={"threshold": "x"}, headers=headers).status_code == 422
    assert client.get("/photos/00000000-0000-0000-0000-000000000000").status_code == 404
    for path in ("/stats", "/jobs", "/system"):
        assert client.get(path).status_code == 200, path
    stats = client.get("/stats").text
    assert "could not be scored" not in stats  # none failed: nothing to say
    assert "<summary>The counts, score by score</summary>" in stats and '<p class="stat-value">' in stats


def test_job_progress_streams_as_server_sent_events_until_done(client, api):
    token = _signed_in(client)
    api.upload(("a.jpg", images.jpeg()))
    api.wait_scored()
    job_id = api.post("/api/v1/blur/analyze-batch").json()["job_id"]  # nothing unprocessed: done at once
    started = client.post("/jobs/score", headers={"x-csrftoken": token})
    assert started.status_code == 200 and "sse-connect" not in started.text  # a finished job needs no stream
    stream = client.get(f"/jobs/{job_id}/events")
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert "event: progress" in stream.text and "event: done" in stream.text
    assert client.get("/jobs/00000000-0000-0000-0000-000000000000/events").status_code == 404


def test_page_endpoints_answer_bad_input_with_4xx(client, api):
    _signed_in(client)
    for url in (
        "/threshold/preview?threshold=nan",
        "/threshold/preview?threshold=2",
        "/threshold/preview",
        "/photos?filter=nope",
        "/photos?cursor=%%%",
        "/photos/x/image?size=../../etc",
        "/jobs/x",
        "/export?filter=all&names=../x",
    ):
        response = client.get(url, headers={"hx-request": "true"})
        assert 400 <= response.status_code < 500, (url, response.status_code, response.text)


def test_tab_counts_follow_the_search_and_an_unmatched_filter_says_so(client, api):
    for name, data in (
        ("cat-1.jpg", images.jpeg(seed=1)),
        ("cat-2.jpg", images.jpeg(seed=2)),
        ("dog.jpg", images.jpeg(seed=3)),
    ):
        assert api.upload((name, data)).status_code == 201
    api.wait_scored()
    assert api.get("/api/v1/photos?q=cat").json()["counts"]["all"] == 2
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 3
    _signed_in(client)

    page = client.get("/photos?filter=all&q=cat").text
    assert page.count('class="photo-card"') == 2 and 'data-count="all">2<' in page
    tabs = client.get("/photos/counts?filter=all&q=cat", headers={"hx-request": "true"}).text
    assert 'data-count="all">2<' in tabs
    home = client.get("/?q=cat", follow_redirects=False)  # the home page's address with filters: the gallery's
    assert home.status_code in (302, 303) and home.headers["location"] == "/photos?q=cat"
    unmatched = client.get("/photos?filter=all&q=zebra").text
    assert "No photos match" in unmatched and "No photos yet" not in unmatched and 'data-count="all">0<' in unmatched
    assert "No photo matches this tag, search or source." in unmatched
    assert "No photo in Not blurred matches" in client.get("/photos?filter=not_blurred&q=zebra").text


def test_a_server_with_nothing_set_up_offers_only_what_works_there(client, api):
    """No Google, Dropbox, AI or import folder: no link that would end on "not set up"."""
    assert api.upload(("one.jpg", images.jpeg(seed=1))).status_code == 201
    api.wait_scored()
    _signed_in(client)
    gallery = client.get("/photos").text
    assert "Export All" in gallery and "ZIP, original names" in gallery
    for offered in ("/google/album", "Import a shared", "Import from a link", "names=ai", "Pick from Google Photos"):
        assert offered not in gallery, offered
    sources = re.findall(r'<option value="([a-z_]*)"', gallery.split('name="source"')[1].split("</select>")[0])
    assert sources == ["", "upload"]  # all sources, uploads
    assert "Import from a link" not in client.get("/jobs").text
    settings = client.get("/settings").text
    assert "AI tagging is not set up on this server" in settings and "vision_monthly_limit" not in settings


def test_a_photo_opened_from_a_search_steps_through_the_search_only(client, api):
    ids = {}
    for name, seed in (("cat-1.jpg", 1), ("dog.jpg", 2), ("cat-2.jpg", 3)):
        ids[name] = api.upload((name, images.jpeg(seed=seed))).json()["photos"][0]["id"]
    api.wait_scored()
    token = _signed_in(client)
    gallery = client.get("/photos?filter=all&q=cat").text
    assert f'href="/photos/{ids["cat-2.jpg"]}?filter=all&q=cat"' in gallery

    newest = client.get(f"/photos/{ids['cat-2.jpg']}?filter=all&q=cat").text
    assert f'href="/photos/{ids["cat-1.jpg"]}?filter=all&amp;q=cat" id="photo-next"' in newest  # not the dog
    assert 'id="photo-previous"' not in newest
    assert '<a href="/photos?filter=all&amp;q=cat">All (filtered)</a>' in newest  # back to the search
    last = client.get(f"/photos/{ids['cat-1.jpg']}?filter=all&q=cat").text
    assert 'id="photo-next"' not in last

    marked = client.post(
        f"/photos/{ids['cat-1.jpg']}/mark?filter=all&q=cat",
        data={"_csrf_token": token, "marked_as": "blurred"},
        follow_redirects=False,
    )
    assert marked.headers["location"] == f"/photos/{ids['cat-1.jpg']}?filter=all&q=cat&marked=true"
    removed = client.post(
        f"/photos/{ids['cat-2.jpg']}/delete?filter=all&q=cat", data={"_csrf_token": token}, follow_redirects=False
    )
    assert removed.headers["location"] == (
        f"/photos/{ids['cat-1.jpg']}?filter=all&q=cat&removed=cat-2.jpg&removed_id={ids['cat-2.jpg']}"
    )


def test_a_percent_sign_or_underscore_in_the_search_is_that_character(client, api):
    for name, seed in (("100%_sharp.jpg", 1), ("dog.jpg", 2), ("cat.jpg", 3)):
        assert api.upload((name, images.jpeg(seed=seed))).status_code == 201
    api.wait_scored()
    for q, found in (("%", ["100%_sharp.jpg"]), ("_", ["100%_sharp.jpg"]), ("0%_s", ["100%_sharp.jpg"]), ("c_t", [])):
        items = api.get("/api/v1/photos", params={"q": q}).json()["items"]
        assert [p["filename"] for p in items] == found, q


def test_photo_page_steps_through_its_tab_and_removing_shows_the_next_one(client, api):
    ids = [api.upload((f"p{i}.jpg", images.jpeg(seed=10 + i))).json()["photos"][0]["id"] for i in range(3)]
    blurry = api.upload(("blurry.jpg", images.blurred_jpeg(sigma=6))).json()["photos"][0]["id"]
    api.wait_scored()
    token = _signed_in(client)
    newest_first = api.get("/api/v1/photos?filter=not_blurred").json()["items"]
    order = [p["id"] for p in newest_first]
    assert sorted(order) == sorted(ids)

    middle = client.get(f"/photos/{order[1]}?filter=not_blurred").text
    assert f'href="/photos/{order[0]}?filter=not_blurred" id="photo-previous"' in middle
    assert f'href="/photos/{order[2]}?filter=not_blurred" id="photo-next"' in middle
    assert blurry not in middle  # the blurred photo is not in this tab
    first = client.get(f"/photos/{order[0]}?filter=not_blurred").text
    assert 'id="photo-previous"' not in first and 'id="photo-next"' in first
    assert client.get(f"/photos/{order[0]}?filter=nonsense").status_code == 200  # a stale link: the All tab

    removed = client.post(
        f"/photos/{order[1]}/delete?filter=not_blurred", data={"_csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert removed.headers["location"] == f"/photos/{order[2]}?filter=not_blurred&removed=p1.jpg&removed_id={order[1]}"
    assert 'Removed “p1.jpg” to <a href="/removed">Recently removed</a>' in client.get(removed.headers["location"]).text
    last = client.post(
        f"/photos/{order[2]}/delete?filter=not_blurred", data={"_csrf_token": token}, follow_redirects=False
    )
    assert last.headers["location"].startswith(f"/photos/{order[0]}?filter=not_blurred&")  # no next: the previous
    before = client.get(last.headers["location"]).text  # and says so (it said "This is the next photo.")
    assert "That was the last photo here; this is the one before it." in before and "the next photo" not in before
    only = client.post(
        f"/photos/{order[0]}/delete?filter=not_blurred", data={"_csrf_token": token}, follow_redirects=False
    )
    assert only.headers["location"] == f"/photos?filter=not_blurred&removed=p2.jpg&removed_id={order[0]}"  # the newest
    emptied = client.get(only.headers["location"]).text
    assert "It was the last photo here." in emptied  # the tab is empty now
    assert 'name="view" value="filter=not_blurred"' in emptied  # its Undo brings the photo back in this tab


def test_export_follows_the_filter_in_the_api_and_from_the_gallery_menu(client, api):
    for name, seed in (("cat-1.jpg", 1), ("cat-2.jpg", 2), ("dog.jpg", 3)):
        assert api.upload((name, images.jpeg(seed=seed))).status_code == 201
    api.wait_scored()
    archive = zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export?filter=all&q=CAT").content))
    assert sorted(archive.namelist()) == ["cat-1.jpg", "cat-2.jpg"]
    assert len(zipfile.ZipFile(io.BytesIO(api.get("/api/v1/export?filter=all").content)).namelist()) == 3

    _signed_in(client)
    gallery = client.get("/photos?filter=all&q=cat").text
    assert "Export All (these 2)</summary>" in gallery
    assert 'href="/export?filter=all&amp;q=cat" download' in gallery
    archive = zipfile.ZipFile(io.BytesIO(client.get("/export?filter=all&q=cat").content))
    assert sorted(archive.namelist()) == ["cat-1.jpg", "cat-2.jpg"]


def test_photo_page_names_the_kind_of_blur_in_words(client, api):
    _signed_in(client)
    blurred = api.upload(("soft.jpg", images.blurred_jpeg(800, 600, sigma=8, seed=20))).json()["photos"][0]["id"]
    api.wait_scored()
    page = client.get(f"/photos/{blurred}").text
    assert 'data-verdict="blurred"' in page and "<li>out of focus</li>" in page
    assert '<dt>Kind</dt><dd data-kind="defocus">out of focus</dd>' in page
    api.patch(f"/api/v1/photos/{blurred}", json={"marked_as": "sharp"})  # the person's call, and the score's
    called = client.get(f"/photos/{blurred}").text
    said = '<dd data-kind="sharp">sharp <span class="muted">(your call; the score says out of focus)</span></dd>'
    assert said in called


def test_the_reasons_follow_the_persons_threshold_on_the_page_and_in_the_api(client, api):
    """A sharp photo under a threshold of 0 is Blurred: its reasons name its blur, not "sharp"."""
    _signed_in(client)
    sharp = api.upload(("crisp.jpg", images.jpeg(800, 600, seed=21))).json()["photos"][0]["id"]
    api.wait_scored()

    def shown() -> tuple[str, list[str], list[str]]:
        page = client.get(f"/photos/{sharp}").text
        verdict = re.search(r'data-verdict="(\w+)"', page)[1]
        listed = re.findall(r"<li>([^<]+)</li>", page.split('<ul class="reasons">')[1].split("</ul>")[0])
        return verdict, listed, api.get(f"/api/v1/photos/{sharp}").json()["details"]["reasons"]

    verdict, listed, in_api = shown()
    assert verdict == "sharp" and listed[0] in ("sharp", "subject sharp, background soft") and in_api == listed
    api.patch("/api/v1/settings", json={"blur_threshold": 0.0})
    verdict, listed, in_api = shown()
    assert verdict == "blurred" and in_api == listed
    assert listed[0] == "out of focus" or listed[0].startswith("camera shake"), listed
    assert api.get(f"/api/v1/photos/{sharp}/result").json()["details"]["reasons"] == listed
    body = api.get(f"/api/v1/photos/{sharp}").json()
    assert "reasons_by_verdict" not in body["details"]
    assert body["details"]["blur_kind"] == body["blur_kind"] in ("defocus", "motion")  # the kind at 0 too
    api.patch("/api/v1/settings", json={"blur_threshold": 0.5})
    details = api.get(f"/api/v1/photos/{sharp}").json()["details"]
    assert details["blur_kind"] == "sharp" and details["motion_angle"] is None and details["shake_path"] is None


def test_a_progress_stream_ends_quietly_when_the_database_goes_away(client, api, settings, monkeypatch, capfd):
    """The stream's answer has started, so an unreachable database mid-stream was an unhandled error in the
    log ("Exception caught after response started"); it ends, and the browser's reconnect asks again."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from app.routes import events
    from tests.support.jobs import job_with_items

    _signed_in(client)
    job_id = job_with_items(settings, "owner@example.com", ["a", "b"], [])  # queued: the stream would go on
    real, calls = events.jobs.get_job, []

    async def away_after_the_first_poll(*args, **kwargs):
        calls.append(1)
        if len(calls) > 2:  # the route's own look-up, the first poll, then the database is away
            raise OperationalError("SELECT", {}, sqlite3.OperationalError("database is locked"))
        return await real(*args, **kwargs)

    monkeypatch.setattr(events.jobs, "get_job", away_after_the_first_poll)
    stream = client.get(f"/jobs/{job_id}/events")
    assert stream.status_code == 200 and stream.text.count("event: progress") == 1 and "event: done" not in stream.text
    assert "Traceback" not in capfd.readouterr().err


def test_a_wrong_address_says_so_in_words(client, api):
    """A photo link to nothing said "No such photo in Recently removed" (the bin was looked in last); an unknown
    address said "Not Found", the framework's phrase."""
    _signed_in(client)
    photo = client.get(f"/photos/{uuid.uuid4()}")
    assert photo.status_code == 404
    assert "This photo is not in Classify: it was deleted for good, or the link is wrong." in photo.text
    nowhere = client.get("/nowhere")
    assert nowhere.status_code == 404 and "There is nothing at this address" in nowhere.text
    assert api.get("/api/v1/nowhere").json()["detail"].startswith("There is nothing at this address")
    # an edited or old link to a page: in the page's words, not the parameters' names
    for address, said in (
        ("/photos?filter=bogus", "There is no such tab: the tabs are All, Blurred, Not blurred and Unprocessed."),
        ("/photos?sort=oldest", "There is no such order"),
        ("/jobs?before=xyz", "This link to older jobs is not valid; start again from the newest jobs."),
        ("/photos?cursor=abc", "This link to more photos is out of date"),
    ):
        page = client.get(address)
        assert page.status_code == 422 and said in page.text, address
    assert "filter must be one of" in api.get("/api/v1/photos?filter=bogus").json()["detail"]  # the API's own


def test_a_photos_notes_and_source_are_in_words(client, api):
    """The photo page said "Notes: extension mismatch, too small" and "Source: upload"."""
    _signed_in(client)
    odd = api.upload(("small.jpg", images.png(60, 40))).json()["photos"][0]
    assert set(odd["flags"]) == {"extension_mismatch", "too_small"}
    page = client.get(f"/photos/{odd['id']}").text
    said = "<dt>Notes</dt><dd>named as another type: it is a PNG file; very small: its score is less sure</dd>"
    assert said in page and "<dt>Source</dt><dd>Uploaded</dd>" in page


def test_behind_https_browsers_are_told_to_keep_to_it(tmp_path, database_url):
    from litestar.testing import TestClient

    from app.bootstrap import bootstrap
    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data", database_url, public_url="https://photos.example.org")
    with TestClient(app=create_app(settings, bootstrap(settings)), base_url="https://photos.example.org") as https:
        for response in (https.get("/login"), https.get("/no-such-page"), https.get("/health")):
            assert response.headers["strict-transport-security"] == "max-age=31536000", response.status_code
