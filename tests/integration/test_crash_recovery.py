"""kill -9 of `classify serve` in the middle of a batch: after a restart, the batch finishes by itself."""

from __future__ import annotations

import time

import httpx

from tests import images
from tests.integration.test_cli_and_logs import PASSWORD, classify
from tests.support.live_server import live_server

PHOTOS = 40


def _login(url: str) -> dict[str, str]:
    token = httpx.post(f"{url}/api/v1/auth/login", json={"email": "a@example.com", "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_killed_server_finishes_the_batch_after_restart(tmp_path, database_url):
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "CLASSIFY_SCORE_WORKERS": "1"}
    assert classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD).returncode == 0

    # 1. Photos and a batch job are queued, but this server runs no workers: nothing gets scored yet.
    with live_server({**env, "CLASSIFY_RUN_WORKER": "0"}) as server:
        headers = _login(server.url)
        # big enough that one worker takes seconds over them, so the kill below lands part-way
        files = [("files", (f"p{i}.jpg", images.jpeg(1600, 1200, seed=i))) for i in range(PHOTOS)]
        assert httpx.post(f"{server.url}/api/v1/photos", files=files, headers=headers, timeout=120).status_code == 201
        job_id = httpx.post(f"{server.url}/api/v1/blur/analyze-batch", headers=headers).json()["job_id"]

    # 2. A working server starts on the batch and is killed with SIGKILL part-way through. The token of
    # step 1 still holds (same data folder, same key): signing in again would give the batch a head start.
    with live_server(env) as server:
        deadline = time.monotonic() + 60
        while (job := httpx.get(f"{server.url}/api/v1/blur/jobs/{job_id}", headers=headers).json())["done"] == 0:
            assert time.monotonic() < deadline, job
            time.sleep(0.02)
        server.kill()
        assert job["done"] < PHOTOS, "the batch finished before the kill; the test proves nothing"

        # 3. Started again, it finds the unfinished work in the database and completes it.
        server.restart()
        deadline = time.monotonic() + 120
        while (job := httpx.get(f"{server.url}/api/v1/blur/jobs/{job_id}", headers=headers).json())["status"] != "done":
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["done"] == job["total"] == PHOTOS and job["failed"] == 0
        counts = httpx.get(f"{server.url}/api/v1/photos", headers=headers).json()["counts"]
        assert counts["unprocessed"] == 0 and counts["all"] == PHOTOS


def test_a_stop_does_not_wait_on_an_open_progress_stream(tmp_path, database_url):
    """SIGTERM waited for every progress stream to end, and a stream ends with its job: a server whose job
    waits for a worker never stopped (SIGKILL after the platform's timeout)."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "CLASSIFY_RUN_WORKER": "0"}
    assert classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD).returncode == 0
    with live_server(env) as server, httpx.Client(base_url=server.url, timeout=30) as browser:
        headers = _login(server.url)
        httpx.post(f"{server.url}/api/v1/photos", files=[("files", ("a.jpg", images.jpeg()))], headers=headers)
        job_id = httpx.post(f"{server.url}/api/v1/blur/analyze-batch", headers=headers).json()["job_id"]
        browser.get("/login")
        form = {"email": "a@example.com", "password": PASSWORD, "_csrf_token": browser.cookies["csrftoken"]}
        assert browser.post("/login", data=form).status_code in (200, 303)
        events: list[str] = []
        with browser.stream("GET", f"/jobs/{job_id}/events") as stream:
            lines = stream.iter_lines()
            events.append(next(lines))  # the stream is open and has said where the job stands
            asked = time.monotonic()
            server.stop(timeout=30)
            stopped = time.monotonic() - asked
            events.extend(lines)  # ends, rather than hanging, once the server has gone
    assert events[0] == "event: progress"
    assert stopped < 10, f"the stop took {stopped:.1f} s"
