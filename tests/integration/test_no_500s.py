"""Bad input anywhere in the API gets a clear 4xx in the `{status_code, detail}` shape, never a 500."""

from __future__ import annotations

import re

import pytest

GARBAGE_BODIES = [
    b"",
    b"{",
    b"[]",
    b'{"photo_ids": "x"}',
    b'{"blur_threshold": null}',
    b"\x00\xff" * 10,
    b"[" * 1000,  # deeper than the interpreter's recursion limit: msgspec raised RecursionError
    b'{"a":' * 5000,
    b'{"source": 5, "path": ["a"]}',
    b'{"email": 1, "password": {}}',
    # PostgreSQL text cannot hold U+0000: every free-text field a body may carry, with one in it
    b'{"title": "a\\u0000", "path": "/x\\u0000", "url": "https://x\\u0000", "email": "a\\u0000@x.io",'
    b' "password": "\\u0000", "source": "folder", "names": "ai\\u0000", "q": "\\u0000", "refresh_token": "\\u0000",'
    b' "code": "\\u0000", "redirect_uri": "http://x/\\u0000", "code_verifier": "\\u0000"}',
]
GARBAGE_IDS = ["x", "00000000-0000-0000-0000-000000000000", "%00", "..%2F..%2Fetc", "1" * 300]


@pytest.fixture
def operations(client):
    schema = client.get("/schema/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "patch", "delete", "put")
    ]


def test_garbage_never_causes_a_500(api, operations):
    seen = 0
    for method, path in operations:
        for fake_id in GARBAGE_IDS:
            url = re.sub(r"\{[^}]+\}", fake_id, path)
            for body in GARBAGE_BODIES if method in ("POST", "PATCH", "PUT") else [None]:
                for query in ("", "?filter=%ff&limit=-1&cursor=%%&size=../../x&names=%00&threshold=nan"):
                    response = api.client.request(
                        method, url + query, headers={**api.headers, "content-type": "application/json"}, content=body
                    )
                    seen += 1
                    assert response.status_code < 500, (method, url + query, body, response.text)
                    if response.status_code >= 400 and url.startswith("/api/"):
                        assert set(response.json()) >= {"status_code", "detail"}, response.text
    assert seen > 100


def test_bodies_a_person_can_get_wrong_are_named(client, api):
    anonymous = {"content-type": "application/json"}
    deep = client.post("/api/v1/auth/login", content=b"[" * 1000, headers=anonymous)  # a 500 for anyone, before
    assert deep.status_code == 400 and deep.json()["detail"].startswith("The JSON body is nested too deeply")
    empty = client.post("/api/v1/auth/login", content=b"", headers=anonymous)
    assert empty.status_code == 400 and empty.json()["detail"] == "This request needs a JSON body; none came."
    mine = {**api.headers, "content-type": "application/json"}
    assert client.patch("/api/v1/settings", content=b"", headers=mine).json()["detail"].startswith("This request")


def test_an_unknown_source_is_refused_with_the_ones_there_are(api):
    """An unknown source listed nothing with a 200, where an unknown filter or sort is a 422."""
    for path in ("/api/v1/photos?source=bogus", "/api/v1/export?source=bogus"):
        response = api.get(path)
        assert response.status_code == 422, path
        assert (
            response.json()["detail"] == "source must be one of upload, folder, google_photos, google_drive, dropbox."
        )
    assert api.post("/api/v1/photos/remove-batch", json={"filter": "all", "source": "bogus"}).status_code == 422
    assert api.get("/api/v1/photos?source=upload").status_code == 200
    assert api.get("/api/v1/photos?source=").status_code == 200  # blank: no filter, as before


def test_a_401_names_the_bearer_scheme(client):
    missing = client.get("/api/v1/photos")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == 'Bearer realm="classify"'
    wrong = client.get("/api/v1/photos", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == 'Bearer realm="classify", error="invalid_token"'
