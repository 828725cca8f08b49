"""A small chaos run on PostgreSQL + Redis: two arq workers, kill -9 mid-batch, nothing lost, nothing doubled.

The fast sibling of bench/chaos_jobs.py. arq hands a killed worker's task to another worker only when its
in-progress key expires: the task's lease (app/jobs/worker.py, LEASE_SECONDS, 30 s). To fit in the suite's
time the workers here hold 3-second leases: the same recovery path, compressed in time.
Every photo's score writes are recorded by a database trigger, so a photo scored twice is caught even when
both runs produced the same numbers.
"""

from __future__ import annotations

import asyncio
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
PHOTOS = 60
KILLS = 3
LEASE = 3  # seconds; the in-progress key of a killed worker's task expires within that
WORKER = (
    "import sys; import app.jobs.worker as w; assert hasattr(w, 'LEASE_SECONDS'); w.LEASE_SECONDS = {lease}; "
    "from app.cli import main; sys.exit(main(['worker']))"
)

LEDGER = """
CREATE TABLE chaos_score_writes (photo_id text NOT NULL, blur_score double precision, scored_at text);
CREATE FUNCTION chaos_log_score() RETURNS trigger AS $$
BEGIN
    IF NEW.blur_score IS NOT NULL AND (OLD.blur_score IS DISTINCT FROM NEW.blur_score
                                      OR OLD.scored_at IS DISTINCT FROM NEW.scored_at) THEN
        INSERT INTO chaos_score_writes VALUES (NEW.id::text, NEW.blur_score, NEW.scored_at::text);
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER chaos_score_writes AFTER UPDATE ON photos FOR EACH ROW EXECUTE FUNCTION chaos_log_score();
"""


def _sql(url: str, sql: str, fetch: bool = False) -> list[tuple]:
    import asyncpg

    async def run() -> list[tuple]:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1), timeout=10)
        try:
            if fetch:
                return [tuple(r) for r in await conn.fetch(sql)]
            await conn.execute(sql)
            return []
        finally:
            await conn.close()

    return asyncio.run(run())


class Worker:
    def __init__(self, env: dict[str, str], log_path) -> None:
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", WORKER.format(lease=LEASE)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # kill -9 takes the scoring pool down with the worker
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        proc = self.process
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture
def chaos_env(tmp_path, postgres_url, redis_url):
    database = create_database(postgres_url, "chaos_" + uuid.uuid4().hex[:10])
    env = {
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "CLASSIFY_DATA_DIR": str(tmp_path / "data"),
        "CLASSIFY_SECRET_KEY": "chaos-test-secret-" + "c" * 30,
        "CLASSIFY_SCORE_WORKERS": "1",
        "CLASSIFY_LOG_LEVEL": "WARNING",
    }
    subprocess.run(
        [sys.executable, "-c", "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
         "users", "create", "owner@example.com", "--password-stdin"],
        input=PASSWORD.encode(), env={**os.environ, **env}, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    _sql(database, LEDGER)
    yield env
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    drop_database(database)


def _wait_job(url: str, headers: dict[str, str], job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while (job := httpx.get(f"{url}/api/v1/blur/jobs/{job_id}", headers=headers).json())["status"] not in (
        "done",
        "failed",
        "cancelled",
    ):
        assert time.monotonic() < deadline, f"job not finished after {timeout}s: {job}"
        time.sleep(0.2)
    return job


def _results(url: str, headers: dict[str, str], ids: list[str]) -> dict[str, tuple]:
    out = {}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for photo_id in ids:
            r = http.get(f"/api/v1/photos/{photo_id}/result").json()
            out[photo_id] = (r["blur_score"], r["blur_kind"], r["scored_at"], r["error"])
    return out


def test_killed_workers_lose_nothing_and_score_nothing_twice(chaos_env, tmp_path, redis_url):
    import redis

    rds = redis.Redis.from_url(redis_url)
    workers = [Worker(chaos_env, tmp_path / f"worker{n}.log") for n in range(2)]
    try:
        with live_server(chaos_env) as web:
            token = httpx.post(
                f"{web.url}/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            ids: list[str] = []
            for start in range(0, PHOTOS, 30):
                files = [
                    ("files", (f"c{i}.jpg", images.jpeg(320, 240, seed=500 + i))) for i in range(start, start + 30)
                ]
                body = httpx.post(f"{web.url}/api/v1/photos", files=files, headers=headers, timeout=60).json()
                assert body["created"] == 30, body
                ids += [p["id"] for p in body["photos"]]
            # Nothing runs yet: the upload tasks and the batch's items wait in Redis for the workers.
            job_id = httpx.post(f"{web.url}/api/v1/blur/analyze-batch", headers=headers).json()["job_id"]

            for worker in workers:
                worker.start()
            kills_in_flight = 0
            for k in range(KILLS):
                time.sleep(1.5)
                deadline = time.monotonic() + 10
                while not rds.keys("arq:in-progress:*") and time.monotonic() < deadline:
                    time.sleep(0.01)
                kills_in_flight += bool(rds.keys("arq:in-progress:*"))
                workers[k % 2].kill()
                workers[k % 2].start()
            assert kills_in_flight, "no kill hit a running task; the test proves nothing"

            job = _wait_job(web.url, headers, job_id, timeout=45)
            assert job["status"] == "done" and job["done"] == job["total"] == PHOTOS and job["failed"] == 0, job
            deadline = time.monotonic() + 10
            while (counts := httpx.get(f"{web.url}/api/v1/photos", headers=headers).json()["counts"])["unprocessed"]:
                assert time.monotonic() < deadline, counts
                time.sleep(0.2)
            assert counts["all"] == PHOTOS, counts
            jobs = httpx.get(f"{web.url}/api/v1/blur/jobs", headers=headers).json()
            assert not [j for j in jobs if j["status"] in ("queued", "running")], jobs

            before = _results(web.url, headers, ids)
            assert all(score is not None and error is None for score, _, _, error in before.values())
            writes = dict(_sql(chaos_env["DATABASE_URL"], "SELECT photo_id, count(*) FROM chaos_score_writes "
                                                          "GROUP BY photo_id", fetch=True))  # fmt: skip
            assert sorted(writes) == sorted(ids) and set(writes.values()) == {1}, writes

            # A forced re-run over every photo changes nothing: same score, kind and scored_at.
            rerun = httpx.post(f"{web.url}/api/v1/blur/analyze-batch", headers=headers, json={"photo_ids": ids})
            job = _wait_job(web.url, headers, rerun.json()["job_id"], timeout=30)
            assert job["status"] == "done" and job["done"] == PHOTOS and job["failed"] == 0, job
            assert _results(web.url, headers, ids) == before
            assert _sql(chaos_env["DATABASE_URL"], "SELECT count(*) FROM chaos_score_writes", fetch=True) == [(PHOTOS,)]
    finally:
        for worker in workers:
            worker.kill(signal.SIGTERM)
