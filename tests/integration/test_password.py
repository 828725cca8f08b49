"""Changing a password: it needs the current one, and every other sign-in of the account ends with it."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD, run_sql
from tests.integration.test_pages import _signed_in

NEW = "a new and longer passphrase"


def _browser(client) -> dict[str, str]:
    """Sign in on the page, as a browser does, and keep that browser's cookies."""
    client.cookies.clear()
    _signed_in(client)
    return dict(client.cookies)


def _as(client, cookies: dict[str, str]) -> None:
    client.cookies.clear()
    client.cookies.update(cookies)


def test_the_api_changes_the_password_and_ends_every_other_sign_in(client, api):
    browser = _browser(client)
    other = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).json()
    other_bearer = {"Authorization": f"Bearer {other['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=other_bearer).status_code == 200

    def change(current: str, new: str):
        return api.post("/api/v1/auth/password", json={"current_password": current, "new_password": new})

    wrong = change("not it at all", NEW)
    assert wrong.status_code == 422 and wrong.json()["detail"] == "The current password is not right."
    assert change(PASSWORD, "short").status_code == 422
    assert "same as the current" in change(PASSWORD, PASSWORD).json()["detail"]
    assert api.post("/api/v1/auth/password", json={"current_password": PASSWORD}).status_code == 400
    _as(client, browser)
    assert client.get("/settings", follow_redirects=False).status_code == 200  # nothing changed yet

    assert change(PASSWORD, NEW).status_code == 204
    assert api.get("/api/v1/auth/me").status_code == 200  # the sign-in that changed it goes on
    assert client.get("/api/v1/auth/me", headers=other_bearer).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}).status_code == 401
    _as(client, browser)
    assert client.get("/settings", follow_redirects=False).status_code == 302  # the browser is signed out
    old = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": NEW})
    assert new.status_code == 200


def test_the_settings_page_changes_it_and_keeps_this_browser_signed_in(client, api):
    elsewhere = _browser(client)
    here = _browser(client)
    page = client.get("/settings").text
    assert 'action="/settings/password"' in page and 'autocomplete="current-password"' in page
    form = {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW}

    assert client.post("/settings/password", data=form).status_code == 403  # no CSRF token
    token = client.cookies.get("csrftoken")
    mismatch = client.post(
        "/settings/password", data={**form, "new_password_again": "something else", "_csrf_token": token}
    )
    assert mismatch.status_code == 422 and "The two new passwords are not the same." in mismatch.text
    wrong = client.post("/settings/password", data={**form, "current_password": "nope nope", "_csrf_token": token})
    assert wrong.status_code == 422 and "The current password is not right." in wrong.text
    short = client.post("/settings/password", data={**form, "new_password": "short", "new_password_again": "short",
                                                     "_csrf_token": token})  # fmt: skip
    assert short.status_code == 422 and "at least 8 characters" in short.text
    for refused in (mismatch, wrong, short):  # said on every refused form, though nobody signed out anywhere
        assert "Signed out everywhere else" not in refused.text
    # the field at fault is the one marked, and the one that reads the message out
    for refused, at_fault in ((mismatch, "new_password_again"), (wrong, "current_password"), (short, "new_password")):
        marked = re.findall(r'<input name="(\w+)"[^>]*aria-invalid="true"', refused.text)
        assert marked == [at_fault], (marked, at_fault)
        field = re.search(rf'<input name="{at_fault}"[^>]*>', refused.text).group(0)
        assert "password-error" in field

    done = client.post("/settings/password", data={**form, "_csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/settings?password=changed"
    assert "Your password is changed" in client.get("/settings?password=changed").text  # still signed in here
    assert api.get("/api/v1/auth/me").status_code == 401  # the API's sign-in ended too
    now_here = dict(client.cookies)
    assert now_here["classify_session"] != here["classify_session"]  # a new session id with the new password
    _as(client, elsewhere)
    assert client.get("/settings", follow_redirects=False).status_code == 302
    _as(client, here)
    assert client.get("/settings", follow_redirects=False).status_code == 302  # the id before the change is gone
    _as(client, now_here)
    assert client.get("/photos", follow_redirects=False).status_code == 200


def test_wrong_current_passwords_count_as_failed_sign_ins(api):
    for _ in range(5):
        wrong = api.post("/api/v1/auth/password", json={"current_password": "guess guess", "new_password": NEW})
        assert wrong.status_code == 422
    blocked = api.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW})
    assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 15 * 60


def test_an_account_without_a_password_has_none_to_change(api, database_url):
    run_sql(database_url, "UPDATE users SET password_hash = NULL")  # as an account made by signing in with Google
    refused = api.post("/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": NEW})
    assert refused.status_code == 409 and "signs in with Google" in refused.json()["detail"]
