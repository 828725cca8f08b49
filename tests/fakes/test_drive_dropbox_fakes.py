"""Self-tests of the Google Drive and Dropbox fakes, talking to them over loopback HTTP with httpx."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import httpx
import pytest

from tests import images
from tests.fakes.drive_fake import DOC_MIME, FOLDER_MIME, FakeDrive, parse_fields, parse_q, running_fake_drive
from tests.fakes.dropbox_fake import FakeDropbox, content_hash, running_fake_dropbox
from tests.fakes.fixtures import fake_drive, fake_dropbox  # noqa: F401

FILE_FIELDS = "nextPageToken,files(id,name,mimeType,size,md5Checksum,resourceKey)"


@pytest.fixture(scope="module")
def drive() -> Iterator[FakeDrive]:
    with running_fake_drive() as fake:
        yield fake


@pytest.fixture(scope="module")
def dropbox() -> Iterator[FakeDropbox]:
    with running_fake_dropbox(page_size=25) as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


# ------------------------------------------------------------------------------------------- Drive


def list_all(http: httpx.Client, drive: FakeDrive, folder: str, **params: str) -> list[list[dict]]:
    query = {"q": f"'{folder}' in parents and trashed = false", "key": drive.api_key, **params}
    pages = []
    while True:
        response = http.get(f"{drive.api_root}/files", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append(body["files"])
        if "nextPageToken" not in body:
            return pages
        query["pageToken"] = body["nextPageToken"]


def test_drive_lists_250_files_in_three_pages(drive: FakeDrive, http: httpx.Client) -> None:
    folder = drive.add_folder("Big")
    ids = drive.fill_folder(folder, 250, extras=False, size=(16, 12))
    pages = list_all(http, drive, folder, pageSize="100", fields=FILE_FIELDS)
    assert [len(p) for p in pages] == [100, 100, 50]
    assert [f["id"] for p in pages for f in p] == ids
    first = pages[0][0]
    assert set(first) == {"id", "name", "mimeType", "size", "md5Checksum"}  # no resourceKey: none set
    assert isinstance(first["size"], str) and first["mimeType"] == "image/jpeg"
    # default pageSize is 100; over 1000 is refused
    assert [len(p) for p in list_all(http, drive, folder)] == [100, 100, 50]
    too_big = http.get(
        f"{drive.api_root}/files", params={"q": f"'{folder}' in parents", "key": "test-api-key", "pageSize": "1001"}
    )
    assert too_big.status_code == 400 and too_big.json()["error"]["errors"][0]["location"] == "pageSize"


def test_drive_q_and_fields(drive: FakeDrive, http: httpx.Client) -> None:
    folder = drive.add_folder("Mixed")
    drive.fill_folder(folder, 6)  # 4 JPEG, 2 PNG, notes.txt, a Google Doc
    sub = drive.add_folder("Sub", parent=folder)
    trashed = drive.add_file(folder, "old.jpg", images.jpeg(16, 12), "image/jpeg", trashed=True)
    base = f"'{folder}' in parents"

    def names(q: str, fields: str = "files(name,mimeType)") -> list[str]:
        response = http.get(f"{drive.api_root}/files", params={"q": q, "fields": fields, "key": drive.api_key})
        assert response.status_code == 200, response.text
        return [f["name"] for f in response.json()["files"]]

    assert len(names(base)) == 10  # 6 images + txt + doc + subfolder + trashed
    assert "old.jpg" not in names(f"{base} and trashed=false")
    images_only = names(f"{base} and mimeType contains 'image/' and trashed = false")
    assert len(images_only) == 6 and all(n.startswith("photo_") for n in images_only)
    assert names(f"{base} and mimeType = '{FOLDER_MIME}'") == ["Sub"]
    assert names(f"{base} AND mimeType = '{DOC_MIME}'") == ["Plan"]
    assert names(f"{base} and mimeType != '{FOLDER_MIME}' and trashed = false and name contains 'notes'") == [
        "notes.txt"
    ]

    response = http.get(
        f"{drive.api_root}/files",
        params={
            "q": f"{base} and mimeType contains 'image/'",
            "fields": "files(id,imageMediaMetadata(width))",
            "key": drive.api_key,
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
            "orderBy": "name_natural desc",
        },
    )
    body = response.json()
    assert set(body) == {"files"}  # no nextPageToken/kind asked for
    assert body["files"][-1] == {"id": trashed, "imageMediaMetadata": {"width": 16}}  # old.jpg sorts last
    assert body["files"][0]["imageMediaMetadata"] == {"width": 64}  # photo_006.png
    # without fields: kind,id,name,mimeType only
    default = http.get(f"{drive.api_root}/files", params={"q": base, "key": drive.api_key}).json()
    assert set(default) == {"kind", "files", "incompleteSearch"}
    assert set(default["files"][0]) == {"kind", "id", "name", "mimeType"}

    bad_q = http.get(f"{drive.api_root}/files", params={"q": f"{base} or starred", "key": drive.api_key})
    assert bad_q.status_code == 400 and bad_q.json()["error"]["errors"][0]["location"] == "q"
    bad_fields = http.get(f"{drive.api_root}/files", params={"q": base, "fields": "files(nope)", "key": drive.api_key})
    assert bad_fields.status_code == 400

    # metadata: the app checks that a link is a folder
    meta = http.get(f"{drive.api_root}/files/{sub}", params={"fields": "id,name,mimeType", "key": drive.api_key})
    assert meta.json() == {"id": sub, "name": "Sub", "mimeType": FOLDER_MIME}


def test_parsers() -> None:
    assert parse_fields("nextPageToken,files(id,imageMediaMetadata(width,height)),files/name") == {
        "nextPageToken": None,
        "files": {"id": None, "imageMediaMetadata": {"width": None, "height": None}, "name": None},
    }
    query = parse_q("'a b\\'c' in parents and trashed=false")
    assert query.parents == ["a b'c"] and query.trashed is False
    with pytest.raises(ValueError):
        parse_q("not trashed")


def test_drive_alt_media(drive: FakeDrive, http: httpx.Client) -> None:
    folder = drive.add_folder("Media")
    data = images.png(20, 10)
    file_id = drive.add_file(folder, "a.png", data, "image/png")
    doc = drive.add_file(folder, "Doc", b"", DOC_MIME)
    response = http.get(f"{drive.api_root}/files/{file_id}", params={"alt": "media", "key": drive.api_key})
    assert response.status_code == 200
    assert response.content == data and response.headers["content-type"] == "image/png"
    again = http.get(f"{drive.download_root}/files/{file_id}", params={"alt": "media", "key": drive.api_key})
    assert again.content == data
    meta = http.get(f"{drive.api_root}/files/{file_id}", params={"fields": "md5Checksum,size", "key": drive.api_key})
    assert meta.json() == {"md5Checksum": hashlib.md5(data).hexdigest(), "size": str(len(data))}
    refused = http.get(f"{drive.api_root}/files/{doc}", params={"alt": "media", "key": drive.api_key})
    assert refused.status_code == 403 and refused.json()["error"]["errors"][0]["reason"] == "fileNotDownloadable"
    missing = http.get(f"{drive.api_root}/files/nope", params={"alt": "media", "key": drive.api_key})
    assert missing.status_code == 404


def test_drive_private_folder_needs_owner_token(drive: FakeDrive, http: httpx.Client) -> None:
    folder = drive.add_folder("Mine", public=False, owner_token="owner-token")
    file_id = drive.add_file(folder, "a.jpg", images.jpeg(16, 12), "image/jpeg")
    drive.tokens.add("someone-else")
    q = {"q": f"'{folder}' in parents"}

    for auth in ({"params": {"key": drive.api_key}}, {"headers": {"Authorization": "Bearer someone-else"}}):
        response = http.get(
            f"{drive.api_root}/files", params={**q, **auth.get("params", {})}, headers=auth.get("headers")
        )
        assert response.status_code == 404
        error = response.json()["error"]
        assert error["message"] == f"File not found: {folder}."
        assert error["status"] == "NOT_FOUND"
        assert error["errors"] == [
            {
                "domain": "global",
                "reason": "notFound",
                "message": f"File not found: {folder}.",
                "locationType": "parameter",
                "location": "fileId",
            }
        ]
    owner = {"Authorization": "Bearer owner-token"}
    response = http.get(f"{drive.api_root}/files", params=q, headers=owner)
    assert response.status_code == 200 and [f["id"] for f in response.json()["files"]] == [file_id]
    assert http.get(f"{drive.api_root}/files/{file_id}", params={"alt": "media"}, headers=owner).status_code == 200
    assert http.get(f"{drive.api_root}/files/{file_id}", params={"key": drive.api_key}).status_code == 404

    assert http.get(f"{drive.api_root}/files", params=q).status_code == 403  # neither key nor token
    bad_token = http.get(f"{drive.api_root}/files", params=q, headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401 and bad_token.json()["error"]["errors"][0]["reason"] == "authError"
    assert http.get(f"{drive.api_root}/files", params={**q, "key": "wrong"}).status_code == 400


def test_drive_resource_keys(drive: FakeDrive, http: httpx.Client) -> None:
    folder = drive.add_folder("Keyed", resource_key="0-abc")
    assert drive.folder_url(folder, form="sharing").endswith("?usp=sharing&resourcekey=0-abc")
    q = {"q": f"'{folder}' in parents", "key": drive.api_key}
    assert http.get(f"{drive.api_root}/files", params=q).status_code == 404
    wrong = {"X-Goog-Drive-Resource-Keys": f"{folder}/0-wrong"}
    assert http.get(f"{drive.api_root}/files", params=q, headers=wrong).status_code == 404
    right = {"X-Goog-Drive-Resource-Keys": f"other/0-x,{folder}/0-abc"}
    assert http.get(f"{drive.api_root}/files", params=q, headers=right).status_code == 200


def test_drive_faults_and_recording(drive: FakeDrive, http: httpx.Client) -> None:
    folder = drive.add_folder("Faulty")
    drive.fill_folder(folder, 3, extras=False, size=(16, 12))
    params = {"q": f"'{folder}' in parents", "key": drive.api_key}
    drive.fail_next("/files", 403, times=2)
    drive.fail_next("/drive/v3/files", 429, retry_after=3)
    drive.fail_next("/files", 503)
    first = http.get(f"{drive.api_root}/files", params=params)
    assert first.status_code == 403
    assert first.json()["error"]["errors"][0]["reason"] == "userRateLimitExceeded"
    assert http.get(f"{drive.api_root}/files", params=params).status_code == 403
    limited = http.get(f"{drive.api_root}/files", params=params)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert http.get(f"{drive.api_root}/files", params=params).status_code == 503
    assert http.get(f"{drive.api_root}/files", params=params).status_code == 200
    calls = [c for c in drive.calls("/files", "GET") if c.query.get("q") == params["q"]]
    assert [c.status for c in calls] == [403, 403, 429, 503, 200]
    assert calls[0].path == "/drive/v3/files" and calls[0].query["key"] == drive.api_key

    drive.expire_page_tokens()  # an old page token is refused
    stale = http.get(f"{drive.api_root}/files", params={**params, "pageToken": "~!!~MDp4OjEwMDp5"})
    assert stale.status_code == 400


# ----------------------------------------------------------------------------------------- Dropbox


def app_auth(dropbox: FakeDropbox) -> httpx.BasicAuth:
    return httpx.BasicAuth(dropbox.app_key, dropbox.app_secret)


def test_dropbox_lists_with_paging(dropbox: FakeDropbox, http: httpx.Client) -> None:
    url = dropbox.fill_shared_folder("Trip", 60, size=(16, 12), subfolders={"Day 2": [("b.jpg", b"x")]})
    assert url.startswith("https://www.dropbox.com/scl/fo/") and "rlkey=" in url and url.endswith("&dl=0")
    auth = app_auth(dropbox)
    arg = {"path": "", "shared_link": {"url": url}, "limit": 2000}
    page = http.post(f"{dropbox.api_root}/files/list_folder", json=arg, auth=auth).json()
    entries, pages = list(page["entries"]), 1
    while page["has_more"]:
        page = http.post(f"{dropbox.api_root}/files/list_folder/continue", json={"cursor": page["cursor"]}, auth=auth)
        assert page.status_code == 200, page.text
        page = page.json()
        entries += page["entries"]
        pages += 1
    assert pages == 3 and len(entries) == 62  # 60 images, notes.txt, "Day 2"
    files = [e for e in entries if e[".tag"] == "file"]
    assert {"name", "id", "size", "client_modified", "server_modified", "rev", "content_hash"} <= set(files[0])
    assert "path_lower" not in files[0]
    assert [e["name"] for e in entries if e[".tag"] == "folder"] == ["Day 2"]
    # limit is honoured below the page size
    small = http.post(f"{dropbox.api_root}/files/list_folder", json={**arg, "limit": 10}, auth=auth).json()
    assert len(small["entries"]) == 10 and small["has_more"]
    sub = http.post(f"{dropbox.api_root}/files/list_folder", json={**arg, "path": "/day 2"}, auth=auth).json()
    assert [e["name"] for e in sub["entries"]] == ["b.jpg"] and not sub["has_more"]

    recursive = http.post(f"{dropbox.api_root}/files/list_folder", json={**arg, "recursive": True}, auth=auth)
    assert recursive.status_code == 400
    root_slash = http.post(f"{dropbox.api_root}/files/list_folder", json={**arg, "path": "/"}, auth=auth)
    assert root_slash.status_code == 400 and "empty string" in root_slash.text

    dropbox.reset_cursors()
    reset = http.post(f"{dropbox.api_root}/files/list_folder/continue", json={"cursor": small["cursor"]}, auth=auth)
    assert reset.status_code == 409 and reset.json()["error"] == {".tag": "reset"}


def test_dropbox_download_and_metadata(dropbox: FakeDropbox, http: httpx.Client) -> None:
    data = images.jpeg(24, 16)
    url = dropbox.add_shared_folder("Été", [("été.jpg", data), ("b.png", images.png(8, 8))])
    auth = app_auth(dropbox)
    arg = json.dumps({"url": url, "path": "/été.jpg"}, ensure_ascii=True)
    response = http.post(
        f"{dropbox.content_root}/sharing/get_shared_link_file", headers={"Dropbox-API-Arg": arg}, auth=auth
    )
    assert response.status_code == 200, response.text
    assert response.content == data
    result = json.loads(response.headers["dropbox-api-result"])
    assert result[".tag"] == "file" and result["name"] == "été.jpg" and result["size"] == len(data)
    assert (
        content_hash(data)
        == http.post(
            f"{dropbox.api_root}/files/list_folder", json={"path": "", "shared_link": {"url": url}}, auth=auth
        ).json()["entries"][0]["content_hash"]
    )

    wrong_host = http.post(
        f"{dropbox.api_root}/sharing/get_shared_link_file", headers={"Dropbox-API-Arg": arg}, auth=auth
    )
    assert wrong_host.status_code == 400
    directory = json.dumps({"url": url})
    folder = http.post(
        f"{dropbox.content_root}/sharing/get_shared_link_file", headers={"Dropbox-API-Arg": directory}, auth=auth
    )
    assert folder.status_code == 409 and folder.json()["error"][".tag"] == "shared_link_is_directory"

    meta = http.post(f"{dropbox.api_root}/sharing/get_shared_link_metadata", json={"url": url}, auth=auth).json()
    assert meta[".tag"] == "folder" and meta["name"] == "Été" and meta["url"] == url
    file_url = dropbox.add_shared_file("one.jpg", data)
    one = http.post(f"{dropbox.api_root}/sharing/get_shared_link_metadata", json={"url": file_url}, auth=auth).json()
    assert one[".tag"] == "file" and one["size"] == len(data)
    calls = dropbox.calls("/sharing/get_shared_link_file")
    assert calls[0].json == {"url": url, "path": "/été.jpg"} and calls[0].path.startswith("/content/2/")


def test_dropbox_auth_and_content_type(dropbox: FakeDropbox, http: httpx.Client) -> None:
    url = dropbox.add_shared_folder("Auth", [("a.jpg", b"a")])
    arg = {"path": "", "shared_link": {"url": url}}
    route = f"{dropbox.api_root}/files/list_folder"
    missing = http.post(route, json=arg)
    assert missing.status_code == 401
    assert missing.json()["error"] == {".tag": "invalid_access_token"}
    assert missing.json()["error_summary"].startswith("invalid_access_token/")
    assert http.post(route, json=arg, auth=httpx.BasicAuth(dropbox.app_key, "wrong")).status_code == 401
    assert http.post(route, json=arg, auth=app_auth(dropbox)).status_code == 200
    assert http.post(route, json=arg, headers={"Authorization": "Bearer test-dropbox-token"}).status_code == 200
    form = http.post(route, data={"path": ""}, auth=app_auth(dropbox))
    assert form.status_code == 400 and 'Bad HTTP "Content-Type" header' in form.text
    assert form.headers["content-type"].startswith("text/plain")


def test_dropbox_check_app_echoes_with_app_auth_only(dropbox: FakeDropbox, http: httpx.Client) -> None:
    """check.stone: `app` takes App Authentication and echoes `query` (at most 500 characters)."""
    route = f"{dropbox.api_root}/check/app"
    echoed = http.post(route, json={"query": "hello"}, auth=app_auth(dropbox))
    assert echoed.status_code == 200 and echoed.json() == {"result": "hello"}
    assert http.post(route, json={}, auth=app_auth(dropbox)).json() == {"result": ""}  # the default query
    assert http.post(route, json={"query": "x"}, auth=httpx.BasicAuth(dropbox.app_key, "wrong")).status_code == 401
    user = http.post(route, json={"query": "x"}, headers={"Authorization": "Bearer test-dropbox-token"})
    assert user.status_code == 400 and "app authentication" in user.text
    assert http.post(route, json={"query": "x" * 501}, auth=app_auth(dropbox)).status_code == 400
    assert http.post(f"{dropbox.content_root}/check/app", json={}, auth=app_auth(dropbox)).status_code == 400


def test_dropbox_bad_links(dropbox: FakeDropbox, http: httpx.Client) -> None:
    auth = app_auth(dropbox)
    url = dropbox.add_shared_folder("Gone", [("a.jpg", b"a")])
    good_but_wrong_key = url.replace("rlkey=", "rlkey=x")
    for bad in ("https://www.dropbox.com/scl/fo/nope/nope?rlkey=x&dl=0", good_but_wrong_key):
        response = http.post(
            f"{dropbox.api_root}/files/list_folder", json={"path": "", "shared_link": {"url": bad}}, auth=auth
        )
        assert response.status_code == 409
        body = response.json()
        assert body["error"] == {".tag": "path", "path": {".tag": "not_found"}}
        assert body["error_summary"].startswith("path/not_found/")
        meta = http.post(f"{dropbox.api_root}/sharing/get_shared_link_metadata", json={"url": bad}, auth=auth)
        assert meta.status_code == 409 and meta.json()["error"][".tag"] == "shared_link_not_found"
    dropbox.revoke(url)
    gone = http.post(f"{dropbox.api_root}/files/list_folder", json={"path": "", "shared_link": {"url": url}}, auth=auth)
    assert gone.status_code == 409


def test_dropbox_rate_limit_and_5xx(dropbox: FakeDropbox, http: httpx.Client) -> None:
    url = dropbox.add_shared_folder("Busy", [("a.jpg", b"a")])
    auth = app_auth(dropbox)
    dropbox.fail_next("/files/list_folder", 429, retry_after=7)
    dropbox.fail_next("/sharing/get_shared_link_file", 503)
    arg = {"path": "", "shared_link": {"url": url}}
    limited = http.post(f"{dropbox.api_root}/files/list_folder", json=arg, auth=auth)
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
    assert limited.json() == {
        "error_summary": "too_many_requests/..",
        "error": {"reason": {".tag": "too_many_requests"}, "retry_after": 7},
    }
    assert http.post(f"{dropbox.api_root}/files/list_folder", json=arg, auth=auth).status_code == 200
    header = {"Dropbox-API-Arg": json.dumps({"url": url, "path": "/a.jpg"})}
    route = f"{dropbox.content_root}/sharing/get_shared_link_file"
    assert http.post(route, headers=header, auth=auth).status_code == 503
    assert http.post(route, headers=header, auth=auth).content == b"a"
    assert [c.status for c in dropbox.calls("/content/2/sharing")][-2:] == [503, 200]


def test_dropbox_legacy_link(dropbox: FakeDropbox, http: httpx.Client) -> None:
    url = dropbox.add_shared_folder("Old", [("a.jpg", b"old")], legacy=True)
    assert url.startswith("https://www.dropbox.com/sh/") and "rlkey" not in url
    auth = app_auth(dropbox)
    listing = http.post(
        f"{dropbox.api_root}/files/list_folder", json={"path": "", "shared_link": {"url": url}}, auth=auth
    )
    assert [e["name"] for e in listing.json()["entries"]] == ["a.jpg"]
    header = {"Dropbox-API-Arg": json.dumps({"url": url, "path": "/A.JPG"})}  # paths are case-insensitive
    file = http.post(f"{dropbox.content_root}/sharing/get_shared_link_file", headers=header, auth=auth)
    assert file.content == b"old"


def test_fixtures(fake_drive: FakeDrive, fake_dropbox: FakeDropbox, http: httpx.Client) -> None:  # noqa: F811
    assert fake_drive.api_root.startswith("http://127.0.0.1:") and fake_drive.api_root.endswith("/drive/v3")
    assert fake_dropbox.api_root.endswith("/api/2") and fake_dropbox.content_root.endswith("/content/2")
    folder = fake_drive.add_folder("F")
    meta = http.get(f"{fake_drive.api_root}/files/{folder}", params={"key": "test-api-key"})
    assert meta.json()["mimeType"] == FOLDER_MIME
    url = fake_dropbox.add_shared_folder("D", [("a.jpg", b"a")])
    auth = httpx.BasicAuth("test-app-key", "test-app-secret")
    meta = http.post(f"{fake_dropbox.api_root}/sharing/get_shared_link_metadata", json={"url": url}, auth=auth)
    assert meta.json()[".tag"] == "folder"
