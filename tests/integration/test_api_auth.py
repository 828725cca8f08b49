"""The API's sign-in contract: tokens, rotation, logout, and every bad token answered with 401."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import jwt

from app.adapters.passwords import Argon2Passwords
from tests.conftest import PASSWORD, create_account, login


def test_login_me_refresh_logout(client, settings):
    create_account(settings, "a@example.com")
    response = client.post("/api/v1/auth/login", json={"email": "A@Example.com", "password": PASSWORD})
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    me = client.get("/api/v1/auth/me", headers=bearer)
    assert me.status_code == 200 and me.json()["email"] == "a@example.com"

    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    new_bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=new_bearer).status_code == 200
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": refreshed["refresh_token"]}).json()
    new_bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=new_bearer).status_code == 200
    assert client.get("/api/v1/auth/me", headers=new_bearer).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401  # same sign-in, also ended
    gone = client.post("/api/v1/auth/refresh", json={"refresh_token": refreshed["refresh_token"]})
    assert gone.status_code == 401


def test_a_refresh_token_used_twice_ends_its_sign_in(client, settings):
    """Rotated away, a refresh token works no more; used again, it was copied, and the sign-in it belongs to ends
    for whoever holds its newer tokens too. Other sign-ins of the account go on."""
    create_account(settings, "a@example.com")
    login = {"email": "a@example.com", "password": PASSWORD}
    stolen = client.post("/api/v1/auth/login", json=login).json()
    other = client.post("/api/v1/auth/login", json=login).json()
    thief = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]}).json()
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {thief['access_token']}"}).status_code == 200
    )

    again = client.post("/api/v1/auth/refresh", json={"refresh_token": stolen["refresh_token"]})  # the owner, later
    assert again.status_code == 401 and "used already" in again.json()["detail"]
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {thief['access_token']}"}).status_code == 401
    )
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": thief["refresh_token"]}).status_code == 401
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other['access_token']}"}).status_code == 200
    )
    for made_up in ("0" * 32 + ".x", "not-a-token", "zz.zz"):
        refused = client.post("/api/v1/auth/refresh", json={"refresh_token": made_up})
        assert refused.status_code == 401 and "invalid, used already, or expired" in refused.json()["detail"]


def test_wrong_password_and_unknown_user_are_401_with_the_same_message_and_cost(client, settings, monkeypatch):
    """The same cost: an unknown email was refused without a password check, about 45 ms against 240, which
    told a guesser which emails have accounts."""
    create_account(settings, "a@example.com")
    checks: list[str] = []
    real_verify = Argon2Passwords.verify
    monkeypatch.setattr(Argon2Passwords, "verify", lambda self, h, p: checks.append(h) or real_verify(self, h, p))
    wrong = client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "nope-nope"})
    unknown = client.post("/api/v1/auth/login", json={"email": "b@example.com", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert len(checks) == 2 and all(h.startswith("$argon2id$") for h in checks)  # one full check each


def _forge(payload: dict, key: str, alg: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=alg)


def test_forged_expired_and_alg_none_tokens_get_401(client, settings):
    create_account(settings, "a@example.com")
    api = login(client, "a@example.com")
    token = api.headers["Authorization"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    now = dt.datetime.now(dt.UTC)

    forged = _forge(claims, "not-the-server-key-but-long-enough-for-hs256")
    expired = _forge(
        {
            **claims,
            "iat": int((now - dt.timedelta(hours=2)).timestamp()),
            "exp": int((now - dt.timedelta(hours=1)).timestamp()),
        },
        settings.secret_key,
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    alg_none = f"{header}.{body}."

    for bad in (forged, expired, alg_none, "garbage", token + "x"):
        response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert set(response.json()) == {"status_code", "detail"}
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_bad_bodies_are_clear_4xx(client):
    assert (
        client.post(
            "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    missing = client.post("/api/v1/auth/login", json={"email": "a@example.com"})
    assert missing.status_code == 400 and "password" in missing.json()["detail"]
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": 5}).status_code == 400


def test_five_wrong_passwords_make_this_client_wait_even_with_the_right_one(client, api):
    container = client.app.state.container
    moment = [dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)]  # tokens can't be issued in the future
    container.clock = lambda: moment[0]
    for _ in range(5):
        wrong = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": "not it at all"})
        assert wrong.status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"email": "Owner@Example.com", "password": PASSWORD})
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.json()["detail"]
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    assert re.search(r"try again in about (1 minute|([2-9]|1[0-5]) minutes)\.$", blocked.json()["detail"])
    # other accounts are not held back, and the page says the same as the API
    assert client.post("/api/v1/auth/login", json={"email": "x@example.com", "password": "y"}).status_code == 401
    page = client.get("/login")
    form = {"email": "owner@example.com", "password": PASSWORD, "_csrf_token": client.cookies.get("csrftoken")}
    assert page.status_code == 200 and client.post("/login", data=form).status_code == 429

    moment[0] = dt.datetime.now(dt.UTC)  # 20 minutes on: the failures have aged out
    assert (
        client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}).status_code == 200
    )
