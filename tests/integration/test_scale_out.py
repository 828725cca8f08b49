"""Scale-out mode for real: web processes that only enqueue, arq workers that score, on PostgreSQL + Redis."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests import images
from tests.support.live_server import live_server
from tests.support.servers import create_database, drop_database

pytestmark = pytest.mark.same_on_both_databases  # PostgreSQL and Redis whatever the run (conftest)

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


LEASED_WORKER = (
    "import sys; import app.jobs.worker as w; w.LEASE_SECONDS = 3.0; "
    "from app.cli import main; sys.exit(main(['worker']))"
)


def test_an_import_whose_worker_is_killed_is_finished_by_another_within_the_lease(
    scale_out_env, tmp_path, fake_dropbox
):
    fake_dropbox.download_delay = 0.25
    link = fake_dropbox.fill_shared_folder("Trip", 24, png_every=0, extras=False)
    env = {
        **scale_out_env,
        "DROPBOX_API": fake_dropbox.api_root,
        "DROPBOX_CONTENT_API": fake_dropbox.content_root,
        "DROPBOX_APP_KEY": fake_dropbox.app_key,
        "DROPBOX_APP_SECRET": fake_dropbox.app_secret,
    }

    def leased_worker(name: str) -> subprocess.Popen:
        with (tmp_path / f"{name}.log").open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-c", LEASED_WORKER], env={**os.environ, **env}, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    workers = [leased_worker("first")]
    try:
        with live_server(env) as web:
            token = httpx.post(
                f"{web.url}/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
            ).json()["access_token"]
            api = httpx.Client(base_url=web.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            job_id = api.post("/api/v1/imports", json={"source": "dropbox", "url": link}).json()["job_id"]

            def job() -> dict:
                return api.get(f"/api/v1/blur/jobs/{job_id}").json()

            deadline = time.monotonic() + 60
            while job()["done"] < 4:  # the import is one task, walking the folder file by file
                assert time.monotonic() < deadline, job()
                time.sleep(0.1)
            os.killpg(workers[0].pid, signal.SIGKILL)
            workers[0].wait(10)
            killed_at = time.monotonic()
            assert job()["status"] == "running" and job()["done"] < 24

            workers.append(leased_worker("second"))
            while (state := job())["status"] == "running":
                # arq's own key would hold the import for half an hour (its longest function timeout)
                assert time.monotonic() - killed_at < 45, state
                time.sleep(0.2)
            assert state["status"] == "done" and state["done"] == 24 and state["failed"] == 0, state
            photos = api.get("/api/v1/photos?limit=100").json()
            assert photos["counts"]["all"] == 24  # each file once, though the first worker began some of them
            assert len({p["filename"] for p in photos["items"]}) == 24
    finally:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def test_a_web_process_told_to_run_tasks_scores_from_redis_itself(scale_out_env):
    with live_server({**scale_out_env, "CLASSIFY_RUN_WORKER": "1"}) as web:
        token = httpx.post(
            f"{web.url}/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        files = [("files", (f"w{i}.jpg", images.jpeg(400, 300, seed=300 + i))) for i in range(4)]
        uploaded = httpx.post(f"{web.url}/api/v1/photos", files=files, headers=headers, timeout=60)
        assert uploaded.status_code == 201
        ids = [photo["id"] for photo in uploaded.json()["photos"]]
        # A forced re-score: four tasks through Redis, which only this process's own arq worker runs.
        job = httpx.post(f"{web.url}/api/v1/blur/analyze-batch", headers=headers, json={"photo_ids": ids}).json()
        deadline = time.monotonic() + 60
        while (state := httpx.get(f"{web.url}/api/v1/blur/jobs/{job['job_id']}", headers=headers).json())[
            "status"
        ] not in ("done", "failed"):
            assert time.monotonic() < deadline, state
            time.sleep(0.2)
        assert state["status"] == "done" and state["done"] == 4 and state["failed"] == 0, state
        counts = httpx.get(f"{web.url}/api/v1/photos", headers=headers).json()["counts"]
        assert counts["all"] == 4 and counts["unprocessed"] == 0, counts
        assert httpx.get(f"{web.url}/health/services").json()["services"]["queue"]["detail"].startswith("redis")
