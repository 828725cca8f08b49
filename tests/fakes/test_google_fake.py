"""Self-tests of the Google fake: the OAuth code flow, Picker, media bytes, Library, faults, and the fake's
responses checked against Google's discovery schemas (and the unofficial Picker OpenAPI file)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from PIL import Image

from tests.fakes.fixtures import fake_google  # noqa: F401
from tests.fakes.google import APPENDONLY_SCOPE, PICKER_SCOPE, FakeGoogle, GoogleUser

# ../shared beside the checkout, as on every developer machine and in CI
SPECS = Path(os.environ.get("CLASSIFY_SPECS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "specs")
HAVE_SPECS = (SPECS / "photoslibrary.v1.discovery.json").is_file()
needs_specs = pytest.mark.skipif(not HAVE_SPECS, reason=f"Google spec files not found in {SPECS} (CLASSIFY_SPECS_DIR)")
REDIRECT = "http://127.0.0.1:9999/auth/google/callback"
SCOPES = f"openid email profile {PICKER_SCOPE} {APPENDONLY_SCOPE}"


@pytest.fixture
def client(fake_google: FakeGoogle) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=fake_google.base_url, timeout=10) as c:
        yield c


# ------------------------------------------------------------------------------------ schema checking


def _discovery_schemas() -> dict[str, Any]:
    return json.loads((SPECS / "photoslibrary.v1.discovery.json").read_text())["schemas"]


def _picker_schemas() -> dict[str, Any]:
    doc = json.loads((SPECS / "photospicker.v1.UNOFFICIAL-from-docs.openapi.json").read_text())
    return doc["components"]["schemas"]


def check(value: Any, schema: dict[str, Any], defs: dict[str, Any], where: str = "$") -> list[str]:
    """Problems of ``value`` against a discovery/OpenAPI schema: types, int64-as-string, enums, patterns and
    unknown properties (a misspelt field is a failure)."""
    if "$ref" in schema:
        return check(value, defs[schema["$ref"].rsplit("/", 1)[-1]], defs, where)
    kind, problems = schema.get("type"), []
    expected = {"object": dict, "array": list, "string": str, "boolean": bool, "number": (int, float)}
    if kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            return [f"{where}: {value!r} is not an integer"]
    elif kind in expected and (not isinstance(value, expected[kind]) or (kind == "number" and value is True)):
        return [f"{where}: {value!r} is not {kind}"]
    if kind == "string" and schema.get("format") in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
        problems.append(f"{where}: {value!r} is not an int64 string")
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if kind == "array":
        for i, item in enumerate(value):
            problems += check(item, schema.get("items", {}), defs, f"{where}[{i}]")
    if kind == "object":
        props = schema.get("properties", {})
        for key, item in value.items():
            if key in props:
                problems += check(item, props[key], defs, f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                problems += check(item, schema["additionalProperties"], defs, f"{where}.{key}")
            elif props:
                problems.append(f"{where}: unknown property {key!r}")
    return problems


def assert_library_schema(value: Any, name: str) -> None:
    """Checked where the spec files exist; ``test_checker_catches_mistakes`` is skipped (visibly) otherwise."""
    if HAVE_SPECS:
        assert check(value, {"$ref": name}, _discovery_schemas()) == []


def assert_picker_schema(value: Any, name: str) -> None:
    if HAVE_SPECS:
        assert check(value, {"$ref": name}, _picker_schemas()) == []


@needs_specs
def test_checker_catches_mistakes() -> None:
    album = {"id": "a", "title": "t", "isWriteable": True, "mediaItemsCount": 3}
    assert "not string" in check(album, {"$ref": "Album"}, _discovery_schemas())[0]
    assert check({"id": "x", "pickerURI": "u"}, {"$ref": "PickingSession"}, _picker_schemas())


# ----------------------------------------------------------------------------------------------- OAuth


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(
    client: httpx.Client, challenge: str | None, *, action: str = "allow", **extra: str
) -> dict[str, list[str]]:
    """Open the consent page, press a button; the query of the redirect back to the app."""
    params = {"client_id": "test-client-id", "redirect_uri": REDIRECT, "response_type": "code", "scope": SCOPES}
    params |= {"state": "st4te", "access_type": "offline", "include_granted_scopes": "true", **extra}
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = client.get("/o/oauth2/v2/auth", params=params)
    assert page.status_code == 200 and 'id="allow"' in page.text.replace("'", '"')
    form = {"auth": re.search(r"name='auth' value='(\d+)'", page.text)[1], "action": action}
    ticked = re.findall(r"name='scope' value='([^']+)' checked(?! disabled)", page.text)
    resp = client.post("/o/oauth2/v2/auth/consent", data={**form, "scope": ticked})
    assert resp.status_code == 302
    location = resp.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return parse_qs(urlsplit(location).query)


def exchange(client: httpx.Client, code: str, verifier: str | None, **extra: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    data |= {"client_id": "test-client-id", "client_secret": "test-client-secret", **extra}
    if verifier:
        data["code_verifier"] = verifier
    return client.post("/token", data=data)


def refresh(client: httpx.Client, token: str) -> httpx.Response:
    basic = httpx.BasicAuth("test-client-id", "test-client-secret")
    return client.post("/token", data={"grant_type": "refresh_token", "refresh_token": token}, auth=basic)


def test_code_flow_with_pkce(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    verifier, challenge = pkce_pair()
    back = authorize(client, challenge)
    assert back["state"] == ["st4te"] and back["iss"] == ["https://accounts.google.com"]
    assert PICKER_SCOPE in back["scope"][0].split()
    resp = exchange(client, back["code"][0], verifier)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3599 and body["refresh_token"]
    assert {PICKER_SCOPE, APPENDONLY_SCOPE, "openid"} <= set(body["scope"].split())
    auth = fake_google.last_authorization
    assert auth.pkce and auth.code_challenge_method == "S256" and auth.pkce_verified is True
    keys = client.get("/oauth2/v3/certs").json()["keys"]
    key = jwt.PyJWK(keys[0]).key
    claims = jwt.decode(body["id_token"], key, algorithms=["RS256"], audience="test-client-id")
    assert claims["iss"] == "https://accounts.google.com" and claims["sub"] == fake_google.next_user.sub
    assert claims["email"] == "alice@example.com" and claims["email_verified"] is True and claims["name"]
    info = client.get("/v1/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    assert info["sub"] == claims["sub"] and info["email"] == "alice@example.com" and info["picture"]
    assert exchange(client, back["code"][0], verifier).json() == {
        "error": "invalid_grant",
        "error_description": "Malformed auth code.",
    }


def test_wrong_verifier_and_bad_requests_fail(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    _, challenge = pkce_pair()
    code = authorize(client, challenge)["code"][0]
    resp = exchange(client, code, "not-the-verifier-" + "x" * 40)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"
    assert fake_google.last_authorization.pkce_verified is False
    assert exchange(client, code, None).json()["error"] == "invalid_grant"
    assert exchange(client, "garbage", None).json()["error_description"] == "Malformed auth code."
    assert client.post("/token", json={"grant_type": "refresh_token"}).status_code == 400
    assert exchange(client, code, None, client_secret="wrong").status_code == 401
    bad = client.get("/o/oauth2/v2/auth", params={"client_id": "test-client-id", "redirect_uri": "https://evil/cb"})
    assert bad.status_code == 400 and "redirect_uri_mismatch" in bad.text
    denied = authorize(client, None, action="deny")
    assert denied == {"error": ["access_denied"], "state": ["st4te"]}


def test_refresh_tokens_and_revocation(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    fake_google.auto_consent = True
    verifier, challenge = pkce_pair()
    first = exchange(client, authorize_auto(client, challenge), verifier).json()
    renewed = refresh(client, first["refresh_token"])
    assert renewed.status_code == 200 and "refresh_token" not in renewed.json()
    assert renewed.json()["access_token"] != first["access_token"]
    again = exchange(client, authorize_auto(client, challenge), verifier).json()
    assert "refresh_token" not in again  # only on the first grant ...
    forced = exchange(client, authorize_auto(client, challenge, prompt="consent"), verifier).json()
    assert forced["refresh_token"]  # ... or with prompt=consent
    fake_google.revoke_all(fake_google.next_user)
    dead = refresh(client, first["refresh_token"])
    assert dead.status_code == 400
    assert dead.json() == {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    bearer = {"Authorization": f"Bearer {renewed.json()['access_token']}"}
    assert client.get("/v1/userinfo", headers=bearer).status_code == 401
    fresh = exchange(client, authorize_auto(client, challenge), verifier).json()
    assert fresh["refresh_token"]  # a new grant after revocation
    assert client.post("/revoke", data={"token": fresh["refresh_token"]}).status_code == 200
    assert client.post("/revoke", data={"token": fresh["access_token"]}).json()["error"] == "invalid_token"
    assert refresh(client, fresh["refresh_token"]).json()["error"] == "invalid_grant"


def authorize_auto(client: httpx.Client, challenge: str, **extra: str) -> str:
    params = {"client_id": "test-client-id", "redirect_uri": REDIRECT, "response_type": "code", "scope": SCOPES}
    params |= {"access_type": "offline", "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    resp = client.get("/o/oauth2/v2/auth", params=params)
    assert resp.status_code == 302
    return parse_qs(urlsplit(resp.headers["location"]).query)["code"][0]


def test_next_user_and_incremental_consent(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    fake_google.auto_consent = True
    fake_google.next_user = GoogleUser(sub="222", email="bob@example.com", name="Bob B")
    verifier, challenge = pkce_pair()
    code = authorize_auto(client, challenge, scope="openid email")
    first = exchange(client, code, verifier).json()
    assert set(first["scope"].split()) == {"openid", "https://www.googleapis.com/auth/userinfo.email"}
    code = authorize_auto(client, challenge, scope=PICKER_SCOPE, include_granted_scopes="true")
    second = exchange(client, code, verifier).json()
    assert {"openid", PICKER_SCOPE} <= set(second["scope"].split())
    claims = jwt.decode(second["id_token"], fake_google.public_key_pem, algorithms=["RS256"], audience="test-client-id")
    assert claims["sub"] == "222" and claims["email"] == "bob@example.com"
    fake_google.untick_scopes = {APPENDONLY_SCOPE}
    code = authorize_auto(client, challenge, scope=f"openid {APPENDONLY_SCOPE}")
    assert APPENDONLY_SCOPE not in exchange(client, code, verifier).json()["scope"]


# ---------------------------------------------------------------------------------------------- Picker


def test_picker_flow_paging_download_and_expiry(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    library = fake_google.fill_library(120)
    fake_google.poll_interval = "0.2s"
    bearer = {"Authorization": f"Bearer {fake_google.issue_token()}"}
    session = client.post("/picker/v1/sessions", json={}, headers=bearer).json()
    assert_picker_schema(session, "PickingSession")
    # timeoutIn counts down from 1799 s on the fake's wall clock, as Google's does: a slow machine reads less
    polling = session["pollingConfig"]
    assert polling["pollInterval"] == "0.2s" and 1790 < float(polling["timeoutIn"].removesuffix("s")) <= 1799
    assert session["mediaItemsSet"] is False and session["pickerUri"].endswith(f"/pick/{session['id']}")
    early = client.get("/picker/v1/mediaItems", params={"sessionId": session["id"]}, headers=bearer)
    assert early.status_code == 400 and early.json()["error"]["status"] == "FAILED_PRECONDITION"
    fake_google.pick(session["id"])
    polled = client.get(f"/picker/v1/sessions/{session['id']}", headers=bearer).json()
    assert polled["mediaItemsSet"] is True and "pollingConfig" not in polled
    pages = list_all(client, session["id"], bearer, 50)
    assert [len(p["mediaItems"]) for p in pages] == [50, 50, 20]
    big = list_all(client, session["id"], bearer, 1000)  # coerced to 100
    assert [len(p["mediaItems"]) for p in big] == [100, 20]
    for page in pages:
        assert_picker_schema(page, "ListMediaItemsResponse")
    items = [i for p in pages for i in p["mediaItems"]]
    assert [i["id"] for i in items] == [p.id for p in library]
    heic = next(i for i in items if i["mediaFile"]["mimeType"] == "image/heif")
    assert isinstance(heic["mediaFile"]["mediaFileMetadata"]["width"], int)
    first = items[0]["mediaFile"]
    original = client.get(first["baseUrl"] + "=d", headers=bearer)
    assert original.status_code == 200 and original.content == library[0].data
    assert original.headers["content-type"] == "image/jpeg"
    assert client.get(heic["mediaFile"]["baseUrl"] + "=d", headers=bearer).content == library[4].data
    fake_google.advance(3601)
    bearer = {"Authorization": f"Bearer {fake_google.issue_token()}"}  # the old access token expired too
    assert client.get(first["baseUrl"] + "=d", headers=bearer).status_code == 403
    fresh = list_all(client, session["id"], bearer, 100)[0]["mediaItems"][0]["mediaFile"]["baseUrl"]
    assert fresh != first["baseUrl"] and client.get(fresh + "=d", headers=bearer).content == library[0].data
    fake_google.expire_base_urls()
    assert client.get(fresh + "=d", headers=bearer).status_code == 403
    assert all(r.path.endswith("=d") for r in fake_google.calls("/media/"))
    assert client.delete(f"/picker/v1/sessions/{session['id']}", headers=bearer).json() == {}
    assert client.get(f"/picker/v1/sessions/{session['id']}", headers=bearer).status_code == 404
    assert client.get("/picker/v1/mediaItems", params={"sessionId": session["id"]}, headers=bearer).status_code == 404


def list_all(client: httpx.Client, session_id: str, headers: dict[str, str], size: int) -> list[dict[str, Any]]:
    pages, token = [], None
    while True:
        params = {"sessionId": session_id, "pageSize": size} | ({"pageToken": token} if token else {})
        resp = client.get("/picker/v1/mediaItems", params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        pages.append(resp.json())
        token = resp.json().get("nextPageToken")
        if not token:
            return pages


def test_picker_details(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    library = fake_google.fill_library(6, size=(800, 600))
    bearer = {"Authorization": f"Bearer {fake_google.issue_token(PICKER_SCOPE)}"}
    session = client.post("/picker/v1/sessions", json={"pickingConfig": {"maxItemCount": 2}}, headers=bearer).json()
    assert session["pickingConfig"] == {"maxItemCount": "2"}
    page = client.get(session["pickerUri"])
    assert page.status_code == 200 and 'id="done"' in page.text.replace("'", '"')
    done = client.post(session["pickerUri"], data={"item": [library[4].id, library[1].id, library[2].id]})
    assert done.status_code == 200 and client.get(session["pickerUri"]).status_code == 410
    items = client.get("/picker/v1/mediaItems", params={"sessionId": session["id"]}, headers=bearer).json()
    assert [i["id"] for i in items["mediaItems"]] == [library[4].id, library[1].id]
    heic_url = items["mediaItems"][0]["mediaFile"]["baseUrl"]
    sized = client.get(heic_url + "=w200-h200", headers=bearer)
    assert sized.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(sized.content)).size == (200, 150)
    bare = client.get(heic_url, headers=bearer)
    assert bare.content[:3] == b"\xff\xd8\xff" and max(Image.open(io.BytesIO(bare.content)).size) == 512
    assert client.get(heic_url + "=d", headers=bearer).headers["content-type"] == "image/heif"
    assert client.get(heic_url + "=d").status_code == 401
    for size, status in (("-1", 400), ("abc", 400)):
        resp = client.get(
            "/picker/v1/mediaItems", params={"sessionId": session["id"], "pageSize": size}, headers=bearer
        )
        assert resp.status_code == status and resp.json()["error"]["status"] == "INVALID_ARGUMENT"
    fake_google.expire_session(session["id"])
    assert client.get(f"/picker/v1/sessions/{session['id']}", headers=bearer).status_code == 404


# --------------------------------------------------------------------------------------------- Library


def upload(client: httpx.Client, bearer: dict[str, str], data: bytes, **headers: str) -> httpx.Response:
    base = {"Content-Type": "application/octet-stream", "X-Goog-Upload-Protocol": "raw"}
    return client.post(
        "/library/v1/uploads",
        content=data,
        headers=bearer | base | {"X-Goog-Upload-Content-Type": "image/jpeg"} | headers,
    )


def test_library_upload_album_and_batch_create(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    library = fake_google.fill_library(51, heic_every=0)
    bearer = {"Authorization": f"Bearer {fake_google.issue_token(APPENDONLY_SCOPE)}"}
    tokens = [upload(client, bearer, p.data).text for p in library]
    assert fake_google.calls("/library/v1/uploads")[0].headers["x-goog-upload-content-type"] == "image/jpeg"
    assert upload(client, bearer, b"x", **{"X-Goog-Upload-Protocol": "multipart"}).status_code == 400
    album = client.post("/library/v1/albums", json={"album": {"title": "Classify best"}}, headers=bearer)
    assert album.status_code == 200
    assert_library_schema(album.json(), "Album")
    assert album.json()["mediaItemsCount"] == "0" and album.json()["isWriteable"] is True
    album_id = album.json()["id"]
    items = [{"simpleMediaItem": {"uploadToken": t, "fileName": f"best_{i}.jpg"}} for i, t in enumerate(tokens)]
    too_many = client.post(
        "/library/v1/mediaItems:batchCreate", json={"albumId": album_id, "newMediaItems": items}, headers=bearer
    )
    assert too_many.status_code == 400 and too_many.json()["error"]["status"] == "INVALID_ARGUMENT"
    ok = client.post(
        "/library/v1/mediaItems:batchCreate", json={"albumId": album_id, "newMediaItems": items[:50]}, headers=bearer
    )
    assert ok.status_code == 200
    assert_library_schema(ok.json(), "BatchCreateMediaItemsResponse")
    results = ok.json()["newMediaItemResults"]
    assert all(r["status"] == {"message": "Success"} for r in results)
    assert results[0]["mediaItem"]["mediaMetadata"]["width"] == "320"
    assert fake_google.albums[album_id].filenames == [f"best_{i}.jpg" for i in range(50)]
    assert fake_google.albums[album_id].items[3].data == library[3].data
    reused = client.post(
        "/library/v1/mediaItems:batchCreate", json={"albumId": album_id, "newMediaItems": items[49:]}, headers=bearer
    )
    assert reused.status_code == 207
    assert [r["status"].get("code") for r in reused.json()["newMediaItemResults"]] == [3, None]
    assert len(fake_google.albums[album_id].items) == 51
    theirs = fake_google.add_album("Holiday")  # not created by the app
    fake_google.advance(86401)
    bearer = {"Authorization": f"Bearer {fake_google.issue_token(APPENDONLY_SCOPE)}"}
    refused = client.post(
        "/library/v1/mediaItems:batchCreate", json={"albumId": theirs.id, "newMediaItems": items[:1]}, headers=bearer
    )
    assert refused.status_code == 403 and "No permission" in refused.json()["error"]["message"]
    token = upload(client, bearer, library[0].data).text
    fake_google.advance(86401)
    bearer = {"Authorization": f"Bearer {fake_google.issue_token(APPENDONLY_SCOPE)}"}
    expired = client.post(
        "/library/v1/mediaItems:batchCreate",
        json={"newMediaItems": [{"simpleMediaItem": {"uploadToken": token}}]},
        headers=bearer,
    )
    assert expired.json()["newMediaItemResults"][0]["status"]["code"] == 3
    assert all(
        len(r.json["newMediaItems"]) <= 50
        for r in fake_google.calls("/library/v1/mediaItems:batchCreate")
        if r.status == 200
    )


# --------------------------------------------------------------------------------- auth, faults, records


def test_scopes_and_bearer_are_enforced(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    picker_only = {"Authorization": f"Bearer {fake_google.issue_token(PICKER_SCOPE)}"}
    refused = client.post("/library/v1/albums", json={"album": {"title": "x"}}, headers=picker_only)
    assert refused.status_code == 403 and refused.json()["error"]["status"] == "PERMISSION_DENIED"
    anonymous = client.post("/picker/v1/sessions", json={})
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    assert anonymous.json()["error"]["status"] == "UNAUTHENTICATED"
    assert client.post("/picker/v1/sessions", json={}, headers=picker_only).status_code == 200
    fake_google.expire_access_tokens()
    assert client.post("/picker/v1/sessions", json={}, headers=picker_only).status_code == 401
    short = {"Authorization": f"Bearer {fake_google.issue_token(PICKER_SCOPE)}"}
    fake_google.advance(3600)
    assert client.post("/picker/v1/sessions", json={}, headers=short).status_code == 401


def test_fault_injection_and_recording(fake_google: FakeGoogle, client: httpx.Client) -> None:  # noqa: F811
    bearer = {"Authorization": f"Bearer {fake_google.issue_token()}"}
    fake_google.fail_next("/picker/v1/sessions", 429, times=2, retry_after=30)
    for _ in range(2):
        resp = client.post("/picker/v1/sessions", json={}, headers=bearer)
        assert resp.status_code == 429 and resp.headers["retry-after"] == "30"
        assert resp.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert client.post("/picker/v1/sessions", json={}, headers=bearer).status_code == 200
    fake_google.fail_next("/library/", 503)
    assert client.post("/library/v1/albums", json={"album": {"title": "x"}}, headers=bearer).json()["error"] == {
        "code": 503,
        "message": "The service is currently unavailable.",
        "status": "UNAVAILABLE",
    }
    fake_google.fail_next("/picker/", 401)
    resp = client.get("/picker/v1/sessions/x", headers=bearer)
    assert resp.status_code == 401 and "www-authenticate" in resp.headers
    fake_google.fail_next("/token", 500)
    assert refresh(client, "whatever").status_code == 500
    calls = fake_google.calls("/picker/v1/sessions", "POST")
    assert len(calls) == 3 and [c.status for c in calls] == [429, 429, 200]
    assert calls[0].bearer == bearer["Authorization"].split()[1] and calls[0].json == {}
    assert calls[0].headers["authorization"].startswith("Bearer ")
    assert fake_google.calls("/token")[0].form == {"grant_type": "refresh_token", "refresh_token": "whatever"}
