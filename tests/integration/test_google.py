"""Google end to end through the JSON API against the local fake: sign-in, pick, import, album, faults."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
from litestar.testing import TestClient

from app.adapters.crypto import TokenCipher
from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain import retry
from app.domain.google import APPEND_SCOPE, SIGN_IN_SCOPES
from app.main import create_app
from tests import images
from tests.conftest import TEST_DB, Api, create_account, login, make_settings, run_sql
from tests.fakes.google_models import FakePhoto, GoogleUser

REDIRECT = "http://testserver.local/auth/google/callback"


@pytest.fixture
def google_client(tmp_path, database_url, fake_google):
    fake_google.auto_consent = True
    fake_google.redirect_uris = [REDIRECT]
    fake_google.fill_library(130)
    settings = make_settings(
        tmp_path / "data",
        database_url,
        google_client_id=fake_google.client_id,
        google_client_secret=fake_google.client_secret,
        service_roots=fake_google.service_roots(),
    )
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        yield client, fake_google, settings


def google_code(fake, scopes, redirect_uri=REDIRECT) -> tuple[str, str]:
    """What an API client does itself: PKCE, the consent redirect, and the code it brings back."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode(
        {
            "client_id": fake.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": " ".join(scopes),
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
        }
    )
    answer = httpx.get(f"{fake.service_roots()['google_auth_url']}?{query}", follow_redirects=False)
    return parse_qs(urlparse(answer.headers["location"]).query)["code"][0], verifier


def api_sign_in(client, fake, scopes=SIGN_IN_SCOPES) -> Api:
    code, verifier = google_code(fake, scopes)
    response = client.post(
        "/api/v1/auth/token", json={"code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    )
    assert response.status_code == 200, response.text
    return Api(client, response.json()["access_token"])


def wait_job(api: Api, job_id: str, statuses=("done", "failed", "cancelled", "paused"), timeout=90) -> dict:
    deadline = time.monotonic() + timeout
    while (job := api.get(f"/api/v1/blur/jobs/{job_id}").json())["status"] not in statuses:
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job


def pick(api: Api, fake, items) -> str:
    session = api.post("/api/v1/google/picker/sessions")
    assert session.status_code == 201, session.text
    session_id = session.json()["session_id"]
    assert api.get(f"/api/v1/google/picker/sessions/{session_id}").json() == {"media_items_set": False, "job_id": None}
    fake.pick(session_id, items)
    state = api.get(f"/api/v1/google/picker/sessions/{session_id}").json()
    assert state["media_items_set"] is True and state["job_id"]
    return state["job_id"]


def test_sign_in_pick_import_and_album_end_to_end(google_client):
    client, fake, settings = google_client
    api = api_sign_in(client, fake)
    me = api.get("/api/v1/auth/me").json()
    assert me["email"] == fake.next_user.email and me["google_connected"] is True
    assert fake.last_authorization.code_challenge_method == "S256"

    job = wait_job(api, pick(api, fake, 120))
    assert job["status"] == "done" and job["done"] == 120 and job["total"] == 120, job
    listing = [c for c in fake.calls("/picker/v1/mediaItems")]
    assert {c.query.get("pageSize") for c in listing} == {"100"} and len(listing) == 2
    downloads = fake.calls("/media")
    assert len(downloads) == 120 and all(c.path.endswith("=d") and c.bearer for c in downloads)
    for _ in range(50):  # the session is deleted right after the last item is recorded
        if any(c.method == "DELETE" for c in fake.calls("/picker/v1/sessions/")):
            break
        time.sleep(0.1)
    assert any(c.method == "DELETE" for c in fake.calls("/picker/v1/sessions/"))
    photos = api.get("/api/v1/photos?source=google_photos&limit=200").json()
    assert photos["counts"]["all"] == 120
    assert any(p["mime_type"] in ("image/heic", "image/heif") for p in photos["items"])

    again = wait_job(api, pick(api, fake, 120))  # the same items picked again: nothing new
    assert again["status"] == "done" and api.get("/api/v1/photos").json()["counts"]["all"] == 120

    assert api.post("/api/v1/albums/google", json={}).status_code == 409  # no album permission yet
    api = api_sign_in(client, fake, (*SIGN_IN_SCOPES, APPEND_SCOPE))  # incremental consent
    api.wait_scored()
    keepers = api.get("/api/v1/photos?filter=not_blurred&limit=200").json()["items"]
    accepted = api.post("/api/v1/albums/google", json={"title": "Best of the fake"})
    assert accepted.status_code == 202 and accepted.json()["total"] == len(keepers)
    album_job = wait_job(api, accepted.json()["job_id"])
    assert album_job["status"] == "done" and album_job["done"] == len(keepers), album_job
    assert album_job["result"]["product_url"].startswith(fake.base_url)
    album = fake.albums[album_job["result"]["album_id"]]
    assert album.title == "Best of the fake" and len(album.items) == len(keepers)
    batches = fake.calls("/library/v1/mediaItems:batchCreate")
    assert batches and all(len(c.json["newMediaItems"]) <= 50 for c in batches)
    uploads = fake.calls("/library/v1/uploads")
    assert all(
        c.headers["x-goog-upload-protocol"] == "raw"
        and c.headers["content-type"] == "application/octet-stream"
        and c.headers["x-goog-upload-content-type"].startswith("image/")
        for c in uploads
    )
    assert all(c.bearer for c in fake.requests if c.path.startswith(("/picker", "/library", "/media")))

    if TEST_DB == "sqlite":  # the database holds no token Google issued, in any form we could read
        dump = "\n".join(sqlite3.connect(settings.database_url.split("///", 1)[1]).iterdump())
        for token in fake.tokens:
            assert token not in dump


def test_a_401_refreshes_once_and_retries(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    refreshes = len(fake.calls("/token"))
    fake.fail_next("/picker/v1/sessions", 401)
    assert api.post("/api/v1/google/picker/sessions").status_code == 201
    assert len(fake.calls("/token")) == refreshes + 1


def test_server_errors_back_off_and_the_import_finishes(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    fake.fail_next("/picker/v1/mediaItems", 503, times=2)
    job = wait_job(api, pick(api, fake, 5))
    assert job["status"] == "done" and job["done"] == 5


def test_an_answer_that_is_not_json_is_tried_again_then_given_up_with_a_reason(google_client, monkeypatch):
    """An HTML page for the Picker's list (a proxy, a captive portal) crashed the task: the job said "running"
    with no error, and its task was queued again and again, for as long as the server ran."""
    client, fake, _ = google_client
    monkeypatch.setattr(retry, "FIRST_BACKOFF_SECONDS", 0.01)  # the back-off's shape, in a test's time
    api = api_sign_in(client, fake)
    fake.fail_next("/picker/v1/mediaItems", 200)
    job = wait_job(api, pick(api, fake, 3), timeout=30)  # once: tried again, and done
    assert job["status"] == "done" and job["done"] == 3
    fake.fail_next("/picker/v1/mediaItems", 200, times=50)
    job = wait_job(api, pick(api, fake, 3), timeout=30)  # for good: given up on, saying why
    assert job["status"] == "failed" and "Google sent an answer Classify cannot read" in job["error"], job
    assert len(fake.calls("/picker/v1/mediaItems")) < 15


def test_an_import_that_fails_still_deletes_its_picking_session(google_client):
    """Only a finished import deleted its session; Google refuses new sessions to a person who leaves too many
    (RESOURCE_EXHAUSTED), so each failed or cancelled import brought that closer."""
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    fake.fail_next("/picker/v1/mediaItems", 400, message="Request contains an invalid argument.")
    job = wait_job(api, pick(api, fake, 3))
    assert job["status"] == "failed"
    for _ in range(50):  # deleted right after the job is marked failed
        if any(c.method == "DELETE" for c in fake.calls("/picker/v1/sessions/")):
            break
        time.sleep(0.05)
    assert [c.method for c in fake.calls("/picker/v1/sessions/") if c.method == "DELETE"] == ["DELETE"]


def test_a_picked_video_is_said_to_be_left_out(google_client):
    """The Picker lets people pick videos; they were dropped without a word, and the job counted 2 of 3."""
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    clip = FakePhoto(
        "video0001", "PXL_clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42", width=1920, height=1080, kind="VIDEO"
    )
    fake.library.append(clip)
    job = wait_job(api, pick(api, fake, [fake.library[0].id, clip.id, fake.library[1].id]))
    assert job["status"] == "done" and (job["total"], job["done"], job["skipped"]) == (3, 3, 1), job
    [left] = api.get(f"/api/v1/blur/jobs/{job['id']}/items").json()
    assert left["status"] == "skipped" and left["error"].startswith("PXL_clip.mp4 is a video")
    assert not any(c.path.startswith("/media/video0001") for c in fake.calls("/media/"))  # not downloaded


def test_rate_limit_defers_the_import_instead_of_failing_it(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    fake.fail_next("/picker/v1/mediaItems", 429, retry_after=1)
    job_id = pick(api, fake, 5)
    time.sleep(1.5)
    job = api.get(f"/api/v1/blur/jobs/{job_id}").json()
    assert job["status"] in ("queued", "running") and job["failed"] == 0  # waiting ≥ 30 s, as Google asks
    assert job["waiting"] == "Google Photos asked Classify to slow down"
    assert (dt.datetime.fromisoformat(job["waiting_until"]) - dt.datetime.now(dt.UTC)).total_seconds() > 25
    assert len(fake.calls("/picker/v1/mediaItems")) == 1


def test_an_expired_download_address_is_listed_again(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    fake.fail_next("/media", 403)
    job = wait_job(api, pick(api, fake, 3))
    assert job["status"] == "done" and job["done"] == 3
    assert len(fake.calls("/picker/v1/mediaItems")) >= 2  # the second listing brought fresh addresses


def test_an_expired_selection_asks_to_pick_again(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    session_id = api.post("/api/v1/google/picker/sessions").json()["session_id"]
    fake.expire_session(session_id)
    response = api.get(f"/api/v1/google/picker/sessions/{session_id}")
    assert response.status_code == 409 and "pick" in response.json()["detail"]


def test_invalid_grant_pauses_then_reconnecting_resumes_without_duplicates(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    session_id = api.post("/api/v1/google/picker/sessions").json()["session_id"]
    fake.pick(session_id, 8)
    fake.revoke_all()
    fake.expire_access_tokens()
    fake.fail_next("/picker/v1/mediaItems", 401)  # Google refuses the old access token...
    state = api.get(f"/api/v1/google/picker/sessions/{session_id}")
    assert state.status_code == 409 and "reconnect" in state.json()["detail"].lower()  # ...and the refresh
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 0

    api = api_sign_in(client, fake)  # reconnect
    job_id = api.get(f"/api/v1/google/picker/sessions/{session_id}").json()["job_id"]
    job = wait_job(api, job_id)
    assert job["status"] == "done" and job["done"] == 8
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 8


def _follow_google(client, start: str, fake) -> httpx.Response:
    """Browser-like hops: our redirect to Google, the fake's consent redirect, our callback."""
    to_google = client.get(start, follow_redirects=False)
    assert to_google.status_code in (302, 303, 307), to_google.text
    back = httpx.get(to_google.headers["location"], follow_redirects=False)
    callback = urlparse(back.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_a_signed_in_local_account_links_google_then_disconnects(google_client):
    client, fake, settings = google_client
    from tests.conftest import create_account
    from tests.integration.test_pages import _signed_in

    create_account(settings, "owner@example.com")
    token = _signed_in(client)
    done = _follow_google(client, "/auth/google/connect?next=/settings", fake)
    assert done.headers["location"] == "/settings"
    page = client.get("/settings").text
    assert 'data-google="connected"' in page
    assert fake.last_authorization.pkce_verified
    me = client.get("/api/v1/auth/me")  # pages and API are separate: the API needs its own token
    assert me.status_code == 401

    fake.revoke_all()
    fake.expire_access_tokens()
    fake.fail_next("/picker/v1/sessions", 401)
    refused = client.post("/google/pick", headers={"x-csrftoken": token, "hx-request": "true"})
    assert refused.status_code == 409 and "reconnect" in refused.text.lower()
    assert (
        'data-google="reconnect"' in client.get("/settings").text and "Reconnect Google" in client.get("/settings").text
    )

    gone = client.post("/auth/google/disconnect", data={"_csrf_token": token}, follow_redirects=False)
    assert gone.status_code == 303
    assert fake.calls("/revoke") and 'data-google="not_connected"' in client.get("/settings").text


def test_stale_or_foreign_callbacks_are_refused(google_client):
    client, _, settings = google_client
    assert client.get("/auth/google/callback?code=x&state=forged").status_code == 400
    to_google = client.get("/auth/google/login", follow_redirects=False)
    state = parse_qs(urlparse(to_google.headers["location"]).query)["state"][0]
    # the sign-in under way is a sealed cookie for the callback alone: an anonymous visit keeps no session file
    sessions = settings.data_dir / "sessions"
    assert not sessions.exists() or not any(sessions.iterdir())
    denied = client.get(f"/auth/google/callback?error=access_denied&state={state}")
    assert denied.status_code == 400 and "cancelled" in denied.text
    again = client.get(f"/auth/google/callback?error=access_denied&state={state}")
    assert again.status_code == 400 and "stale" in again.text  # used once


def test_reconnect_state_is_shown_and_nothing_is_lost(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    job = wait_job(api, pick(api, fake, 4))
    assert job["done"] == 4
    fake.revoke_all()
    fake.expire_access_tokens()
    fake.fail_next("/picker/v1/sessions", 401)
    assert api.post("/api/v1/google/picker/sessions").status_code == 409
    page = _follow_google(client, "/auth/google/login", fake)  # the browser signs in as the same Google user
    assert page.status_code in (302, 303)
    assert 'data-google="connected"' in client.get("/settings").text  # signing in again reconnected it
    assert api.get("/api/v1/photos").json()["counts"]["all"] == 4


def test_google_out_of_reach_or_failing_is_a_clear_502_not_a_500(tmp_path, database_url):
    settings = make_settings(
        tmp_path / "data",
        database_url,
        google_client_id="id",
        google_client_secret="secret",
        service_roots={"google_token_url": "http://127.0.0.1:9/token"},  # nothing listens there
    )
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        body = {"code": "c", "redirect_uri": REDIRECT, "code_verifier": "v" * 43}
        response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 502, response.text
    assert "Google cannot be reached" in response.json()["detail"]


def test_an_album_that_google_refused_half_of_goes_on_into_the_same_album(google_client):
    """Google refused the second batchCreate: the job failed with 50 added and the rest never tried, and
    nothing could go on with it (no failed items to retry); making the album again duplicated the 50."""
    client, fake, _ = google_client
    api = api_sign_in(client, fake, (*SIGN_IN_SCOPES, APPEND_SCOPE))
    wait_job(api, pick(api, fake, 80))
    api.wait_scored()
    keepers = api.get("/api/v1/photos?filter=not_blurred&limit=200").json()["items"]
    assert len(keepers) > 50
    fake.fail_next("/library/v1/mediaItems:batchCreate", 400, message="Request contains an invalid argument.", after=1)
    job = wait_job(api, api.post("/api/v1/albums/google", json={"title": "Keepers"}).json()["job_id"])
    assert (job["status"], job["done"], job["failed"]) == ("failed", 50, 0), job
    assert "invalid argument" in job["error"]

    _follow_google(client, "/auth/google/login", fake)  # the browser, as the same Google user
    page = client.get("/jobs").text
    assert f"{len(keepers) - 50}</span> not reached" in page and "Go on with the rest" in page

    again = api.post(f"/api/v1/blur/jobs/{job['id']}/retry")
    assert again.status_code == 202, again.text
    job = wait_job(api, job["id"])
    assert (job["status"], job["done"], job["failed"], job["error"]) == ("done", len(keepers), 0, None), job
    assert len(fake.albums) == 1 and len(fake.albums[job["result"]["album_id"]].items) == len(keepers)


def test_not_connected_is_409_for_picking_and_albums_and_the_album_body_is_optional(google_client):
    client, _, google_settings = google_client
    create_account(google_settings, "local@example.com")
    api = login(client, "local@example.com")
    picking = api.post("/api/v1/google/picker/sessions")
    album = api.post("/api/v1/albums/google")  # no body: the title is optional
    for response in (picking, album):
        assert response.status_code == 409, response.text
        assert "Connect Google first" in response.json()["detail"]


def test_an_album_can_take_only_the_sharpest_of_similar_shots(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake, (*SIGN_IN_SCOPES, APPEND_SCOPE))
    taken = dt.datetime(2026, 5, 1, 14, 3)
    burst = [
        (f"b{i}.jpg", images.shot(12, taken + dt.timedelta(seconds=i), sigma=sigma))
        for i, sigma in enumerate((0, 0, 4))
    ]
    assert api.upload(*burst, ("lone.jpg", images.shot(13, taken + dt.timedelta(hours=1)))).status_code == 201
    api.wait_scored()
    assert (
        len(api.get("/api/v1/photos?filter=not_blurred").json()["items"]) == 3
    )  # two frames of the burst, and the lone one

    refused = api.post("/api/v1/albums/google", json={"similar": "most"})
    assert refused.status_code == 422 and "sharpest" in refused.json()["detail"]
    _follow_google(client, "/auth/google/login", fake)  # the browser, as the same Google user
    page = client.get("/google/album").text
    assert 'name="similar" value="sharpest"' in page and "2 photos instead of 3" in page
    assert 'name="shown" value="3"' in page and 'name="shown_sharpest" value="2"' in page
    # the page's count, when the keepers changed in another window since: nothing goes to Google's storage
    token = client.cookies.get("csrftoken")
    stale = client.post("/google/album", data={"title": "T", "threshold": "0.5", "shown": "4", "_csrf_token": token})
    assert stale.status_code == 409 and "Nothing was uploaded" in stale.text
    assert "Your keepers changed since the page was shown: 3 photos now, not 4." in stale.text
    assert not fake.albums

    accepted = api.post("/api/v1/albums/google", json={"similar": "sharpest"})
    assert accepted.status_code == 202 and accepted.json()["total"] == 2
    album = fake.albums[wait_job(api, accepted.json()["job_id"])["result"]["album_id"]]
    assert len(album.items) == 2


def test_deleting_a_google_only_account_takes_its_email_and_revokes_the_grant(google_client):
    """An account made by signing in with Google has no password: its email address confirms the deletion."""
    from tests.integration.test_pages import _signed_in

    client, fake, settings = google_client
    create_account(settings, "owner@example.com")
    _signed_in(client)
    _follow_google(client, "/auth/google/connect?next=/settings", fake)
    run_sql(settings.database_url, "UPDATE users SET password_hash = NULL")  # as if made by signing in with Google
    _follow_google(client, "/auth/google/login?next=/settings", fake)  # its stamp was of the password now gone
    assert "Your email address (owner@example.com), to confirm" in client.get("/settings").text

    token = client.cookies.get("csrftoken")
    wrong = client.post("/settings/delete", data={"confirm": "someone@example.com", "_csrf_token": token})
    assert wrong.status_code == 422 and "email address" in wrong.text and not fake.calls("/revoke")
    confirm = {"confirm": "Owner@Example.com", "_csrf_token": token}
    assert client.post("/settings/delete", data=confirm, follow_redirects=False).status_code == 303
    assert fake.calls("/revoke")
    assert run_sql(settings.database_url, "SELECT count(*) FROM oauth_tokens") == [(0,)]
    assert run_sql(settings.database_url, "SELECT count(*) FROM users") == [(0,)]


def test_a_google_only_account_can_add_a_password_after_a_fresh_google_sign_in(google_client):
    """Without a password there is no API token by email; a password needs a recent Google sign-in instead of
    the current password it does not have."""
    from tests.integration.test_pages import _signed_in

    client, fake, settings = google_client
    container = client.app.state.container
    earlier = [dt.timedelta(minutes=20)]
    container.clock = lambda: dt.datetime.now(dt.UTC) - earlier[0]
    create_account(settings, "owner@example.com")
    _signed_in(client)
    _follow_google(client, "/auth/google/connect?next=/settings", fake)
    run_sql(settings.database_url, "UPDATE users SET password_hash = NULL")  # as if made by signing in with Google
    _follow_google(client, "/auth/google/login?next=/settings", fake)
    earlier[0] = dt.timedelta(0)  # this browser signed in 20 minutes ago; the account, elsewhere, just now
    moment = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
    run_sql(settings.database_url, f"UPDATE users SET last_login_at = '{moment}'")
    page = client.get("/settings").text
    assert 'data-password="reauthenticate"' in page and 'action="/settings/add-password"' not in page
    token = client.cookies.get("csrftoken")
    form = {"new_password": "a new password", "new_password_again": "a new password", "_csrf_token": token}
    stale = client.post("/settings/add-password", data=form)
    assert stale.status_code == 403 and "Sign in with Google again first" in stale.text
    assert run_sql(settings.database_url, "SELECT password_hash FROM users") == [(None,)]

    _follow_google(client, "/auth/google/login?next=/settings", fake)
    assert 'action="/settings/add-password"' in client.get("/settings").text
    token = client.cookies.get("csrftoken")
    differ = client.post("/settings/add-password", data={**form, "new_password_again": "another", "_csrf_token": token})
    assert differ.status_code == 422 and "not the same" in differ.text
    short = client.post("/settings/add-password", data={**form, "new_password": "short", "new_password_again": "short",
                                                         "_csrf_token": token})  # fmt: skip
    assert short.status_code == 422 and "at least 8 characters" in short.text
    added = client.post("/settings/add-password", data={**form, "_csrf_token": token}, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/settings?password=added"
    page = client.get("/settings?password=added").text  # this browser goes on
    assert "Your password is set" in page and "Change password" in page
    api = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "a new password"})
    assert api.status_code == 200 and api.json()["access_token"]
    again = client.post("/settings/add-password", data={**form, "_csrf_token": client.cookies.get("csrftoken")})
    assert again.status_code == 409 and "has a password already" in again.text


def test_a_permission_taken_back_is_not_still_claimed_after_reconnecting(google_client):
    """Albums granted, the grant revoked, Google connected again without them: Classify asks for the
    permission again instead of starting an album that Google refuses ("insufficient authentication scopes")."""
    client, fake, _ = google_client
    api = api_sign_in(client, fake, (*SIGN_IN_SCOPES, APPEND_SCOPE))
    fake.revoke_all()
    api = api_sign_in(client, fake)  # reconnected, the album permission not given this time
    album = api.post("/api/v1/albums/google", json={"title": "Keepers"})
    assert album.status_code == 409, album.text
    assert "may not create albums yet" in album.json()["detail"]


def test_the_system_check_asks_google_whether_it_takes_the_servers_client(google_client):
    """It said "ok · configured" without asking: a wrong client secret was found at the first sign-in."""
    from app.adapters import kept_check

    client, fake, _ = google_client
    google = client.get("/health/services").json()["services"]["google"]
    assert google["status"] == "ok" and google["detail"] == "the client id and secret are accepted"
    assert google["latency_ms"] > 0
    kept_check.KEEP_SECONDS, kept = 0.0, kept_check.KEEP_SECONDS
    try:
        fake.client_secret = "another-secret"
        google = client.get("/health/services").json()["services"]["google"]
        assert google["status"] == "error" and "GOOGLE_CLIENT_SECRET" in google["detail"]
    finally:
        kept_check.KEEP_SECONDS = kept


def test_google_sign_in_makes_no_account_for_an_email_google_has_not_confirmed(google_client):
    """An account here is its email address: one Google has not confirmed could be someone else's, who would
    then find their address taken."""
    client, fake, settings = google_client
    fake.next_user = GoogleUser(sub="100000000000000000077", email="someone@example.com", email_verified=False)
    refused = _follow_google(client, "/auth/google/login", fake)
    assert refused.status_code == 409 and "has not confirmed that someone@example.com" in refused.text
    assert run_sql(settings.database_url, "SELECT count(*) FROM users") == [(0,)]
    fake.next_user = GoogleUser(sub="100000000000000000078", email="alice@example.com")
    assert _follow_google(client, "/auth/google/login", fake).status_code in (302, 303)
    assert run_sql(settings.database_url, "SELECT email FROM users") == [("alice@example.com",)]


def test_a_server_that_names_its_people_makes_accounts_for_them_only(tmp_path, database_url, fake_google):
    """With Google set up, anyone with a Google account could make an account, and spend the server's disk and
    its AI allowance. CLASSIFY_ALLOWED_EMAILS names who may."""
    fake_google.auto_consent = True
    fake_google.redirect_uris = [REDIRECT]
    settings = make_settings(
        tmp_path / "data",
        database_url,
        google_client_id=fake_google.client_id,
        google_client_secret=fake_google.client_secret,
        service_roots=fake_google.service_roots(),
        allowed_emails=("ann@example.com", "@family.example"),
    )
    with TestClient(app=create_app(settings, bootstrap(settings, offload=run_inline))) as client:
        fake_google.next_user = GoogleUser(sub="100000000000000000101", email="stranger@example.com")
        refused = _follow_google(client, "/auth/google/login", fake_google)
        assert refused.status_code == 403 and "does not make accounts for stranger@example.com" in refused.text
        code, verifier = google_code(fake_google, SIGN_IN_SCOPES)
        by_api = client.post(
            "/api/v1/auth/token", json={"code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
        )
        assert by_api.status_code == 403 and "does not make accounts" in by_api.json()["detail"]
        assert run_sql(settings.database_url, "SELECT count(*) FROM users") == [(0,)]
        for sub, email in (
            ("100000000000000000102", "ann@example.com"),
            ("100000000000000000103", "bo@family.example"),
        ):
            fake_google.next_user = GoogleUser(sub=sub, email=email)
            assert _follow_google(client, "/auth/google/login", fake_google).status_code in (302, 303)
            client.cookies.clear()
        assert sorted(run_sql(settings.database_url, "SELECT email FROM users")) == [
            ("ann@example.com",),
            ("bo@family.example",),
        ]


@pytest.mark.same_on_both_databases  # settings only
def test_allowed_emails_are_read_as_a_list(monkeypatch, tmp_path):
    from app.settings import Settings, SettingsError

    monkeypatch.setenv("CLASSIFY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CLASSIFY_ALLOWED_EMAILS", " Ann@Example.com, @family.example  bo@x.org ")
    assert Settings.from_env().allowed_emails == ("ann@example.com", "@family.example", "bo@x.org")
    monkeypatch.setenv("CLASSIFY_ALLOWED_EMAILS", "ann@example.com, family.example")  # matches nobody: said
    with pytest.raises(SettingsError, match=r"'family\.example' is neither an email address nor an @domain"):
        Settings.from_env()


def test_an_old_session_cannot_swap_the_accounts_google_for_its_own(google_client):
    """Connecting another Google account from an old session marked it as freshly signed in with Google (so it
    could give the account a password) and made that Google account sign in as this one from then on."""
    client, fake, settings = google_client
    container = client.app.state.container
    earlier = [dt.timedelta(minutes=60)]
    container.clock = lambda: dt.datetime.now(dt.UTC) - earlier[0]
    assert _follow_google(client, "/auth/google/login?next=/settings", fake).status_code in (302, 303)
    earlier[0] = dt.timedelta(0)  # the session is an hour old
    fake.next_user = GoogleUser(sub="100000000000000000999", email="mallory@example.com")
    swapped = _follow_google(client, "/auth/google/connect?next=/settings", fake)
    assert swapped.status_code == 409 and "signs in with another Google account" in swapped.text
    assert run_sql(settings.database_url, "SELECT google_sub FROM users") == [("100000000000000000001",)]
    form = {"new_password": "a new password", "new_password_again": "a new password"}
    refused = client.post("/settings/add-password", data={**form, "_csrf_token": client.cookies.get("csrftoken")})
    assert refused.status_code == 403 and run_sql(settings.database_url, "SELECT password_hash FROM users") == [(None,)]


def test_google_becomes_a_way_in_only_after_the_password_is_given_again(google_client):
    """An old or stolen session linked its own Google to the account, and with it kept a way in after the
    password was changed and every other sign-in ended."""
    from tests.integration.test_pages import _signed_in

    client, fake, settings = google_client
    container = client.app.state.container
    earlier = [dt.timedelta(minutes=20)]
    container.clock = lambda: dt.datetime.now(dt.UTC) - earlier[0]
    create_account(settings, "owner@example.com")
    _signed_in(client)  # 20 minutes ago
    earlier[0] = dt.timedelta(0)
    asked = client.get("/auth/google/connect?drive=true&next=/jobs", follow_redirects=False)
    assert asked.status_code in (302, 303)
    assert (
        asked.headers["location"] == "/settings/confirm?next=%2Fauth%2Fgoogle%2Fconnect%3Fdrive%3Dtrue%26next%3D%2Fjobs"
    )
    page = client.get(asked.headers["location"])
    assert "Confirm your password" in page.text and "second way into your account" in page.text
    token = client.cookies.get("csrftoken")
    target = "/auth/google/connect?drive=true&next=/jobs"
    wrong = client.post("/settings/confirm", data={"password": "not it", "next": target, "_csrf_token": token})
    assert wrong.status_code == 422 and "not the password of this account" in wrong.text
    right = {"password": "correct horse battery", "next": target, "_csrf_token": token}
    confirmed = client.post("/settings/confirm", data=right, follow_redirects=False)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == target
    assert _follow_google(client, target, fake).headers["location"] == "/jobs"
    assert run_sql(settings.database_url, "SELECT google_sub FROM users") == [("100000000000000000001",)]
    # connected: asking again (albums, Drive) needs no password, as Google is the account's own now
    earlier[0] = dt.timedelta(minutes=-30)
    assert (
        client.get("/auth/google/connect?albums=true", follow_redirects=False)
        .headers["location"]
        .startswith(fake.service_roots()["google_auth_url"])
    )


def test_waiting_for_a_selection_can_be_cancelled_and_google_forgets_it(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    session_id = api.post("/api/v1/google/picker/sessions").json()["session_id"]

    assert api.delete(f"/api/v1/google/picker/sessions/{session_id}").status_code == 204
    assert fake.calls(f"/picker/v1/sessions/{session_id}", "DELETE")  # Google would keep it for an hour
    gone = api.get(f"/api/v1/google/picker/sessions/{session_id}")
    assert gone.status_code == 404
    assert api.delete(f"/api/v1/google/picker/sessions/{session_id}").status_code == 404
    assert api.get("/api/v1/blur/jobs").json() == []


def test_a_selection_already_made_is_not_cancelled_but_imported(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    session_id = api.post("/api/v1/google/picker/sessions").json()["session_id"]
    fake.pick(session_id, 2)
    job_id = api.get(f"/api/v1/google/picker/sessions/{session_id}").json()["job_id"]
    refused = api.delete(f"/api/v1/google/picker/sessions/{session_id}")
    assert refused.status_code == 409 and "cancel the import" in refused.json()["detail"]
    assert wait_job(api, job_id)["status"] == "done"


def test_two_polls_that_both_see_the_selection_make_one_import(google_client):
    client, fake, _ = google_client
    api = api_sign_in(client, fake)
    session_id = api.post("/api/v1/google/picker/sessions").json()["session_id"]
    fake.pick(session_id, 2)
    fake.delay_next(f"/picker/v1/sessions/{session_id}", 0.5, times=2)  # both ask Google before either answers
    with ThreadPoolExecutor(2) as pool:
        polls = list(pool.map(lambda _: api.get(f"/api/v1/google/picker/sessions/{session_id}"), range(2)))
    assert [p.status_code for p in polls] == [200, 200]
    assert polls[0].json()["job_id"] == polls[1].json()["job_id"]
    jobs = api.get("/api/v1/blur/jobs").json()
    assert [j["id"] for j in jobs] == [polls[0].json()["job_id"]]
    assert wait_job(api, jobs[0]["id"])["done"] == 2


def test_the_picking_box_has_a_cancel_that_needs_the_forms_token(google_client):
    client, fake, settings = google_client
    from tests.integration.test_pages import _signed_in

    create_account(settings, "owner@example.com")
    token = _signed_in(client)
    _follow_google(client, "/auth/google/connect?next=/", fake)
    hx = {"x-csrftoken": token, "hx-request": "true"}
    box = client.post("/google/pick", headers=hx)
    assert box.status_code == 200 and 'id="cancel-picking"' in box.text
    session_id = box.text.split('data-session="', 1)[1].split('"', 1)[0]

    forged = client.post(f"/google/pick/{session_id}/cancel", headers={"hx-request": "true"})
    assert forged.status_code == 403
    cancelled = client.post(f"/google/pick/{session_id}/cancel", headers=hx)
    assert cancelled.status_code == 200 and "Picking cancelled" in cancelled.text
    assert fake.calls(f"/picker/v1/sessions/{session_id}", "DELETE")
    assert client.get(f"/google/pick/{session_id}", headers=hx).status_code == 404


def test_an_album_is_made_once_at_a_time_with_the_names_an_export_gives(google_client):
    """From a review of albums: a second press made a second album while the first was still uploading; a JPEG
    uploaded as page.html went to Google as page.html, and a long name lost its .jpg to a cut at 255; a title
    over Google's 500 characters was cut without a word; a revoked grant was told to connect, not reconnect."""
    client, fake, _ = google_client
    api = api_sign_in(client, fake, (*SIGN_IN_SCOPES, APPEND_SCOPE))
    long_name = "a" * 300 + ".jpg"
    for name, seed in (("page.html", 60), (long_name, 61)):
        assert api.upload((name, images.jpeg(seed=seed))).status_code == 201
    api.wait_scored()
    api.patch("/api/v1/settings", json={"blur_threshold": 1.0})  # both are keepers

    too_long = api.post("/api/v1/albums/google", json={"title": "t" * 501})
    assert too_long.status_code == 422 and "at most 500 characters" in too_long.json()["detail"]
    fake.delay_next("/library/v1/uploads", 1.0, times=2)
    first = api.post("/api/v1/albums/google", json={"title": "Once"})
    assert first.status_code == 202
    second = api.post("/api/v1/albums/google", json={"title": "Twice"})
    assert second.status_code == 409 and "“Once” is being made" in second.json()["detail"]
    assert wait_job(api, first.json()["job_id"])["done"] == 2
    names = sorted(i["simpleMediaItem"]["fileName"] for c in fake.calls("/library/v1/mediaItems:batchCreate")
                   for i in c.json["newMediaItems"])  # fmt: skip
    assert names[0] == "a" * 251 + ".jpg" and names[1] == "page.jpg"
    assert [a.title for a in fake.albums.values()] == ["Once"]

    fake.revoke_all()
    fake.expire_access_tokens()
    assert api.post("/api/v1/google/picker/sessions").status_code == 409  # Google says the grant is gone
    again = api.post("/api/v1/albums/google", json={})
    assert again.status_code == 409 and "reconnect the account" in again.json()["detail"]


def test_an_album_that_google_failed_to_add_to_is_not_uploaded_again(google_client):
    """Each retry after Google failed to add a batch sent the batch's bytes again: 26 photos uploaded six times
    over in a review. The upload tokens are kept on the job until their photos are in the album."""
    client, fake, _ = google_client
    api = api_sign_in(client, fake, (*SIGN_IN_SCOPES, APPEND_SCOPE))
    for seed in (80, 81, 82):
        assert api.upload((f"k{seed}.jpg", images.jpeg(seed=seed))).status_code == 201
    api.wait_scored()
    api.patch("/api/v1/settings", json={"blur_threshold": 1.0})
    fake.fail_next("/library/v1/mediaItems:batchCreate", 500, times=2)
    job = wait_job(api, api.post("/api/v1/albums/google", json={"title": "Kept"}).json()["job_id"])
    assert job["status"] == "done" and job["done"] == 3, job
    assert len(fake.calls("/library/v1/mediaItems:batchCreate")) == 3  # two refused, then added
    assert len(fake.calls("/library/v1/uploads")) == 3  # each photo's bytes once


def test_tokens_that_cannot_be_opened_ask_to_reconnect(google_client):
    """A row's sealed tokens open only for the account they were sealed for: copied into another account's
    row, they are not used there (they were, before). After the server's secret key has changed, they cannot
    be opened at all (a 500 before). Either way the account is asked to reconnect Google, and nothing else."""
    client, fake, settings = google_client
    url = settings.database_url
    fake.next_user = GoogleUser(sub="100000000000000000201", email="alice@example.com")
    alice = api_sign_in(client, fake)
    fake.next_user = GoogleUser(sub="100000000000000000202", email="bob@example.com")
    bob = api_sign_in(client, fake)
    alices = "(SELECT o.{0} FROM oauth_tokens o JOIN users u ON u.id = o.user_id WHERE u.email = 'alice@example.com')"
    bobs_row = "user_id = (SELECT id FROM users WHERE email = 'bob@example.com')"
    run_sql(url, f"UPDATE oauth_tokens SET access_token = {alices.format('access_token')}, "
                 f"refresh_token = {alices.format('refresh_token')} WHERE {bobs_row}")  # fmt: skip
    refused = bob.post("/api/v1/google/picker/sessions")
    assert refused.status_code == 409 and "reconnect" in refused.json()["detail"].lower()
    assert alice.post("/api/v1/google/picker/sessions").status_code == 201

    alice_id = alice.get("/api/v1/auth/me").json()["id"]
    sealed = TokenCipher("a secret key the server had before").encrypt("ya29.token", bound_to=f"{alice_id}:google")
    run_sql(url, "UPDATE oauth_tokens SET access_token = :sealed, refresh_token = :sealed", sealed=sealed)
    refused = alice.post("/api/v1/google/picker/sessions")
    assert refused.status_code == 409 and "reconnect" in refused.json()["detail"].lower()
    assert alice.get("/api/v1/auth/me").status_code == 200
