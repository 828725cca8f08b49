"""Scale-out mode for real: web processes that only enqueue, arq workers that score, on PostgreSQL + Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests import images
from tests.support.live_server import live_server
from tests.support.servers import create_database, drop_database

PASSWORD = "correct horse battery"


def _worker(env: dict[str, str], log_path) -> subprocess.Popen:
    code = "import sys; from app.cli import main; sys.exit(main(['worker']))"
    return subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, **env}, stdout=log_path.open("wb"), stderr=subprocess.STDOUT
    )


@pytest.fixture
def scale_out_env(tmp_path, postgres_url, redis_url):
    database = create_database(postgres_url, "scale_" + uuid.uuid4().hex[:10])
    env = {
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "CLASSIFY_DATA_DIR": str(tmp_path / "data"),  # shared storage, as the README asks
        "CLASSIFY_SECRET_KEY": "scale-out-test-secret-" + "y" * 24,
        "CLASSIFY_SCORE_WORKERS": "1",
    }
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from app.cli import main; sys.exit(main(['users', 'create',"
            " 'owner@example.com', '--password-stdin']))",
        ],
        input=PASSWORD.encode(),
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    yield env
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    drop_database(database)


def test_two_web_processes_and_two_workers_score_everything(scale_out_env, tmp_path):
    workers = [_worker(scale_out_env, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        with live_server(scale_out_env) as web1, live_server(scale_out_env) as web2:
            token = httpx.post(
                f"{web1.url}/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            for n, web in enumerate((web1, web2)):
                files = [("files", (f"p{n}-{i}.jpg", images.jpeg(400, 300, seed=100 * n + i))) for i in range(5)]
                uploaded = httpx.post(f"{web.url}/api/v1/photos", files=files, headers=headers, timeout=60)
                assert uploaded.status_code == 201
                # A web process that leaves tasks to the workers makes thumbs only; the workers score.
                assert all(photo["blur_score"] is None for photo in uploaded.json()["photos"])
            deadline = time.monotonic() + 90
            while True:
                counts = httpx.get(f"{web2.url}/api/v1/photos", headers=headers).json()["counts"]
                if counts["unprocessed"] == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.3)
            assert counts["all"] == 10 and counts["unprocessed"] == 0, counts
            services = httpx.get(f"{web1.url}/health/services").json()["services"]
            assert services["queue"]["detail"].startswith("redis")
            assert services["database"]["detail"] == "postgresql"
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=20)


def test_wrong_passwords_are_counted_across_web_processes(scale_out_env):
    with live_server(scale_out_env) as web1, live_server(scale_out_env) as web2:

        def sign_in(web, password: str) -> httpx.Response:
            body = {"email": "owner@example.com", "password": password}
            return httpx.post(f"{web.url}/api/v1/auth/login", json=body)

        for web in (web1, web2, web1, web2, web1):  # five wrong tries, spread over both processes
            assert sign_in(web, "not the password").status_code == 401
        held = sign_in(web2, PASSWORD)  # then even the right password waits, on either process
        assert held.status_code == 429 and int(held.headers["retry-after"]) > 60
        assert "Too many failed sign-ins" in held.json()["detail"]
