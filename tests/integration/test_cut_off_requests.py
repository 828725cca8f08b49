"""A request whose body stops half-way (a closed tab, a dropped connection) changes nothing and is logged
as a bad request, not as a server error, whatever the endpoint; and the next request works."""

from __future__ import annotations

import socket

import httpx

from tests import images
from tests.conftest import PASSWORD
from tests.integration.test_cli_and_logs import classify
from tests.support.live_server import LiveServer, live_server

BOUNDARY = "classify-test-boundary"


def _send_half(server: LiveServer, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
    """Send the head and half the body, then close the connection, as a client that went away does."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {server.host}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with socket.create_connection((server.host, server.port)) as raw:
        raw.sendall(f"{head}\r\n".encode() + body[: len(body) // 2])


def _signed_in_server(tmp_path, database_url):
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    assert classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD).returncode == 0
    return live_server(env)


def _token(server: LiveServer) -> str:
    login = {"email": "a@example.com", "password": PASSWORD}
    return httpx.post(f"{server.url}/api/v1/auth/login", json=login).json()["access_token"]


def _assert_logged_as_bad_requests(server: LiveServer, count: int) -> None:
    log = server.log_path.read_text()
    assert log.count('"status": 400') == count, log[-2000:]
    assert "unhandled error" not in log and '"status": 500' not in log


def test_an_upload_cut_off_by_the_client_keeps_nothing(tmp_path, database_url):
    photo = images.jpeg(1600, 1200, seed=5)
    body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="a.jpg"\r\n\r\n'.encode()
        + photo
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    with _signed_in_server(tmp_path, database_url) as server:
        auth = {"Authorization": f"Bearer {_token(server)}"}
        form = {**auth, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        for _ in range(3):  # a tab closed half-way through sending the photo
            _send_half(server, "POST", "/api/v1/photos", form, body)
        whole = httpx.post(f"{server.url}/api/v1/photos", files=[("files", ("b.jpg", photo))], headers=auth)

        assert whole.status_code == 201
        assert httpx.get(f"{server.url}/api/v1/photos", headers=auth).json()["counts"]["all"] == 1
        _assert_logged_as_bad_requests(server, 3)


def test_a_settings_change_cut_off_by_the_client_changes_nothing(tmp_path, database_url):
    with _signed_in_server(tmp_path, database_url) as server:
        auth = {"Authorization": f"Bearer {_token(server)}"}
        json = {**auth, "Content-Type": "application/json"}
        for _ in range(2):
            _send_half(server, "PATCH", "/api/v1/settings", json, b'{"blur_threshold": 0.2, "vision_monthly_limit": 9}')
        settings = httpx.get(f"{server.url}/api/v1/settings", headers=auth).json()
        changed = httpx.patch(f"{server.url}/api/v1/settings", json={"blur_threshold": 0.3}, headers=auth)

        assert settings["blur_threshold"] == 0.5
        assert changed.status_code == 200 and changed.json()["blur_threshold"] == 0.3
        _assert_logged_as_bad_requests(server, 2)
