"""Browser sessions on disk: none for anonymous visits, one per sign-in, gone at sign-out or once expired."""

from __future__ import annotations

import asyncio

from litestar.stores.file import FileStore

from app.routes.sessions import sweep_expired_sessions
from tests.conftest import PASSWORD, create_account
from tests.integration.test_pages import _signed_in


def _session_files(settings) -> list:
    return [p for p in (settings.data_dir / "sessions").glob("*") if p.is_file()]


def test_anonymous_visits_keep_no_session_and_a_sign_in_keeps_one_until_sign_out(client, settings):
    create_account(settings, "owner@example.com")
    for path in ("/login", "/", "/login?next=/stats", "/setup", "/photos"):
        response = client.get(path, follow_redirects=False)
        assert "classify_session" not in response.headers.get("set-cookie", ""), path
    assert _session_files(settings) == []  # forty anonymous visits used to leave forty files for 14 days

    token = _signed_in(client)
    assert len(_session_files(settings)) == 1 and client.get("/photos").status_code == 200
    signed_out = client.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert signed_out.headers["clear-site-data"] == '"cache"'  # Back showed the signed-in gallery from the cache
    assert signed_out.status_code == 303 and _session_files(settings) == []
    assert client.get("/photos", follow_redirects=False).status_code == 302


def test_expired_sessions_are_swept_away(tmp_path):
    store = FileStore(tmp_path / "sessions", create_directories=True)

    async def sweep_once() -> list[str]:
        await store.set("ended", b"{}", expires_in=1)
        await store.set("live", b"{}", expires_in=3600)
        await asyncio.sleep(1.1)
        sweeper = asyncio.create_task(sweep_expired_sessions(store))
        await asyncio.sleep(0.2)
        sweeper.cancel()
        return sorted(p.name for p in (tmp_path / "sessions").iterdir())

    left = asyncio.run(sweep_once())
    assert len(left) == 1 and asyncio.run(store.get("live")) == b"{}"


def test_a_sweep_before_the_first_session_is_quiet(tmp_path, capfd):
    """A new data folder has no sessions folder until the first sign-in: the first sweep logged an error."""
    store = FileStore(tmp_path / "sessions", create_directories=True)

    async def sweep_once() -> None:
        sweeper = asyncio.create_task(sweep_expired_sessions(store))
        await asyncio.sleep(0.2)
        sweeper.cancel()

    asyncio.run(sweep_once())
    out, err = capfd.readouterr()
    assert "sweeping expired sessions failed" not in out + err


def test_a_session_that_ended_mid_action_signs_in_again_back_on_the_page_it_was_on(client, settings):
    """A form posted after the session ended came back after sign-in to the action's own address (a 405 page);
    an htmx action went to a bare sign-in page that did not say why."""
    create_account(settings, "owner@example.com")
    token = _signed_in(client)
    client.cookies.set("classify_session", "a-session-nobody-has")  # expired, or its store was cleared
    page = "http://testserver.local/photos?filter=blurred"
    posted = client.post(
        "/photos/01a24d9b-bc83-721a-93bf-6f15cf18c72b/mark",
        data={"_csrf_token": token},
        headers={"referer": page},
        follow_redirects=False,
    )
    assert posted.status_code == 302
    assert posted.headers["location"] == "/login?next=/photos%3Ffilter%3Dblurred&expired=1"
    assert "Your session ended. Sign in again to go on where you were." in client.get(posted.headers["location"]).text
    htmx = client.post(
        "/threshold", data={"_csrf_token": token}, headers={"hx-request": "true", "hx-current-url": page}
    )
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == posted.headers["location"]
    elsewhere = client.post(
        "/threshold", data={"_csrf_token": token}, headers={"referer": "https://evil.example/x"}, follow_redirects=False
    )
    assert elsewhere.headers["location"] == "/login?next=/&expired=1"
    signed_in = client.post(
        "/login",
        data={
            "email": "owner@example.com",
            "password": PASSWORD,
            "next": "/photos?filter=blurred",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/photos?filter=blurred"
