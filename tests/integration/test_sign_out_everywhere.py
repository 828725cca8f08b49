"""Signing out everywhere: for a lost phone or a leaked token, every sign-in of the account ends (browsers and
API tokens), the password stays, and the browser that asked from Settings stays signed in."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.integration.test_cli_and_logs import classify
from tests.integration.test_password import _as, _browser


def _api_sign_in(client) -> dict:
    tokens = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).json()
    return {"headers": {"Authorization": f"Bearer {tokens['access_token']}"}, "refresh": tokens["refresh_token"]}


def _still_in(client, sign_in: dict) -> bool:
    return client.get("/api/v1/auth/me", headers=sign_in["headers"]).status_code == 200


def test_the_api_ends_every_sign_in_its_own_included_and_the_password_still_works(client, api, other_api):
    browser = _browser(client)
    phone = _api_sign_in(client)

    done = api.post("/api/v1/auth/logout-everywhere")
    assert done.status_code == 200 and done.json() == {"status": "signed_out", "api_sign_ins_ended": 2}
    assert api.get("/api/v1/auth/me").status_code == 401
    assert not _still_in(client, phone)
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh"]}).status_code == 401
    _as(client, browser)
    assert client.get("/photos", follow_redirects=False).status_code == 302
    assert other_api.get("/api/v1/auth/me").status_code == 200  # another account's sign-in is not touched

    again = _api_sign_in(client)  # the password is what it was
    assert _still_in(client, again)
    client.cookies.clear()
    assert client.post("/api/v1/auth/logout-everywhere").status_code == 401


def test_settings_signs_out_everywhere_else_and_this_browser_goes_on(client, api):
    elsewhere = _browser(client)
    here = _browser(client)
    phone = _api_sign_in(client)
    page = client.get("/settings").text
    assert 'data-api-sign-ins="2"' in page and "Sign out everywhere else" in page  # the phone and the `api` fixture

    assert client.post("/settings/sign-out-elsewhere").status_code == 403  # no CSRF token
    assert _still_in(client, phone)
    token = client.cookies.get("csrftoken")
    done = client.post("/settings/sign-out-elsewhere", data={"_csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/settings?signed_out=2"
    here = dict(client.cookies)  # stamped anew, under a new session id
    page = client.get("/settings?signed_out=2").text
    assert "Signed out everywhere else: every other browser, and 2 app or script sign-ins." in page
    assert 'data-api-sign-ins="0"' in page
    assert not _still_in(client, phone) and api.get("/api/v1/auth/me").status_code == 401
    _as(client, elsewhere)
    ended = client.get("/photos", follow_redirects=False)
    assert ended.status_code == 302 and ended.headers["location"] == "/login?next=/photos&ended=1"
    assert "You were signed out here" in client.get(ended.headers["location"]).text
    htmx = client.get(
        "/photos/counts", headers={"hx-request": "true", "hx-current-url": "http://testserver.local/photos"}
    )
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == "/login?next=/photos&ended=1"
    client.cookies.clear()
    never_signed_in = client.get("/photos", follow_redirects=False)
    assert never_signed_in.headers["location"] == "/login?next=/photos"  # nothing to explain
    _as(client, here)
    assert client.get("/photos", follow_redirects=False).status_code == 200


def test_the_administrator_signs_an_account_out_from_the_command_line(client, api, settings):
    browser = _browser(client)
    env = {"CLASSIFY_DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url}
    done = classify("users", "sign-out", "owner@example.com", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "signed owner@example.com out everywhere: every browser, and 1 API sign-in"
    assert api.get("/api/v1/auth/me").status_code == 401
    _as(client, browser)
    assert client.get("/photos", follow_redirects=False).status_code == 302
    nobody = classify("users", "sign-out", "nobody@example.com", env=env)
    assert nobody.returncode == 1 and "There is no account for nobody@example.com" in nobody.stderr
