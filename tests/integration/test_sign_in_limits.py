"""Guessing one account's password from many addresses, against a real server (every 127.0.0.x is this
machine, so each client below is a real peer address, with no proxy header to believe)."""

from __future__ import annotations

import re

import httpx

from app.domain.throttle import ACCOUNT_LIMIT, LIMIT
from tests.integration.test_cli_and_logs import PASSWORD, classify
from tests.support.live_server import live_server


def client_from(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def page_sign_in(client: httpx.Client, url: str, email: str, password: str) -> httpx.Response:
    client.get(f"{url}/login")
    form = {"email": email, "password": password, "_csrf_token": client.cookies.get("csrftoken")}
    return client.post(f"{url}/login", data=form, follow_redirects=False)


def test_many_addresses_guessing_one_account_are_held_back_but_its_own_browser_is_not(tmp_path, database_url):
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    for email in ("owner@example.com", "other@example.com"):
        assert classify("users", "create", email, "--password-stdin", env=env, stdin=PASSWORD + "\n").returncode == 0
    with live_server(env) as server, client_from("127.0.0.2") as own_browser:
        signed_in = page_sign_in(own_browser, server.url, "owner@example.com", PASSWORD)
        assert signed_in.status_code == 303
        known = next(c for c in signed_in.headers.get_list("set-cookie") if c.startswith("classify_known="))
        assert re.match(r"classify_known=[0-9a-f]{32};", known) and "HttpOnly" in known and "Path=/;" in known
        # kept after signing out, unlike the session, and for each account signed in to there (it was the last's)
        own_browser.post(f"{server.url}/logout", data={"_csrf_token": own_browser.cookies.get("csrftoken")})
        assert page_sign_in(own_browser, server.url, "other@example.com", PASSWORD).status_code == 303
        assert re.fullmatch(r"[0-9a-f]{32}\.[0-9a-f]{32}", own_browser.cookies.get("classify_known"))
        own_browser.post(f"{server.url}/logout", data={"_csrf_token": own_browser.cookies.get("csrftoken")})

        wrong = {"email": "owner@example.com", "password": "a guess that is wrong"}
        guessers = [f"127.0.1.{i}" for i in range(ACCOUNT_LIMIT // LIMIT)]  # each stays within its own limit
        for address in guessers:
            with client_from(address) as guesser:
                answers = [guesser.post(f"{server.url}/api/v1/auth/login", json=wrong) for _ in range(LIMIT)]
                assert {a.status_code for a in answers} == {401}

        with client_from("127.0.2.1") as newcomer:  # the right password, from an address never seen
            held = newcomer.post(
                f"{server.url}/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
            )
            assert held.status_code == 429 and 0 < int(held.headers["retry-after"]) <= 15 * 60
            assert re.match(r"This account has had too many failed sign-ins from many places\.", held.json()["detail"])
            page = page_sign_in(newcomer, server.url, "owner@example.com", PASSWORD)
            assert page.status_code == 429 and "a browser that has signed in to it before" in page.text
            other = newcomer.post(
                f"{server.url}/api/v1/auth/login", json={"email": "other@example.com", "password": PASSWORD}
            )
            assert other.status_code == 200  # only the account under attack is held

        assert page_sign_in(own_browser, server.url, "owner@example.com", PASSWORD).status_code == 303
        forged = client_from("127.0.2.2")
        forged.cookies.set("classify_known", "0" * 32)  # a made-up mark is not its browser's
        assert page_sign_in(forged, server.url, "owner@example.com", PASSWORD).status_code == 429
        forged.close()
