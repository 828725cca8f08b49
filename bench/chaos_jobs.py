#!/usr/bin/env python
"""Chaos run for the job pipeline: kill -9 scoring processes mid-batch, then check nothing is lost or doubled.

    .venv/bin/python bench/chaos_jobs.py                      # PostgreSQL + Redis, 2 arq workers, 8 kills
    .venv/bin/python bench/chaos_jobs.py --mode default       # embedded default (SQLite, in-process queue)
    .venv/bin/python bench/chaos_jobs.py --photos 60 --kills 3 --time-limit 120

--mode redis (default): a throwaway PostgreSQL and Redis (tests.support.servers), one `classify serve`
(enqueues only) and two `classify worker` processes. Photos are uploaded first (their scoring tasks wait in
Redis), a batch job "score every unprocessed photo" is started, then the workers are started and, while they
score, one of them (alternating) is killed with SIGKILL (its whole process group: the arq process and its
scoring pool) and started again, `--kills` times, every `--kill-interval` seconds.

--mode default: SQLite and the in-process queue. Photos are uploaded and the batch is started on a server
that runs no tasks (CLASSIFY_RUN_WORKER=0), then a normal `classify serve` works on the batch and is killed
with SIGKILL (process group) `--kills` times, each time after it has made some progress, and restarted.

At the end, checked (any failure is a violation and the exit code is 1):
  * every photo scored: counts.all == photos, counts.unprocessed == 0, no photo with an error;
  * the batch job is `done` with done + failed == total == photos and failed == 0;
  * no job is left queued or running;
  * each photo's score was written exactly once: a database trigger installed by this script (table
    chaos_score_writes) records every UPDATE that sets or changes blur_score/scored_at;
  * a forced re-run (POST /api/v1/blur/analyze-batch with every photo id) finishes done/0 failed and leaves
    every photo's /result (blur_score, blur_kind, scored_at) identical.
Everything is bounded by --time-limit (default 900 s); on timeout that is a violation too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from tests import images  # noqa: E402
from tests.support.live_server import APP_CLI, LiveServer  # noqa: E402
from tests.support.servers import create_database, postgres_server, process_exited, redis_server  # noqa: E402

EMAIL = "chaos@example.com"
PASSWORD = "chaos horse battery staple"
SECRET = "chaos-secret-key-" + "z" * 40
FINISHED = {"done", "failed", "cancelled"}


class Violation(AssertionError):
    """A broken guarantee (or the time limit): the run fails."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def check(self, what: str) -> None:
        if self.left() <= 0:
            raise Violation(f"time limit reached while {what}")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------------- processes


def classify_cli(args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "-c", APP_CLI, *args],
        input=stdin,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"classify {' '.join(args)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


class Worker:
    """One `classify worker` in its own process group, so a kill takes its scoring pool down with it."""

    def __init__(self, env: dict[str, str], log_path: Path, overrides: dict[str, Any] | None = None) -> None:
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.log_path = log_path
        self.code = APP_CLI
        if overrides:  # an experiment: other arq Worker settings than app/jobs/worker.py's (e.g. poll_delay)
            self.code = (
                "import sys; import app.jobs.worker as w; base = w.worker_settings; "
                f"w.worker_settings = lambda s: {{**base(s), **{overrides!r}}}; " + APP_CLI
            )
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log_path, "ab") as out:
            out.write(f"=== start #{self.starts}\n".encode())
            out.flush()
            self.process = subprocess.Popen(
                [sys.executable, "-c", self.code, "worker"],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def _signal(self, sig: int) -> None:
        proc = self.process
        if proc is not None and proc.returncode is None:  # not reaped: the group id is still ours
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def stop(self) -> None:
        proc = self.process
        if proc is None or proc.returncode is not None:
            return
        self._signal(signal.SIGTERM)
        end = time.monotonic() + 20
        while not process_exited(proc) and time.monotonic() < end:
            time.sleep(0.05)
        self._signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def alive(self) -> bool:
        return self.process is not None and not process_exited(self.process)


# ---------------------------------------------------------------------------------------------- client


class Client:
    """A signed-in API client that rides out a server being down (connection errors are retried)."""

    def __init__(self, base_url: str, deadline: Deadline) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=120)
        self.deadline = deadline
        self.headers: dict[str, str] = {}
        self.login()

    def login(self) -> None:
        response = self.call("POST", "/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}, auth=False)
        if response.status_code != 200:
            raise Violation(f"login failed: {response.status_code} {response.text[:300]}")
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def call(self, method: str, path: str, *, auth: bool = True, **kw: Any) -> httpx.Response:
        while True:
            self.deadline.check(f"calling {method} {path}")
            try:
                response = self.http.request(method, path, headers=self.headers if auth else None, **kw)
            except httpx.TransportError:
                time.sleep(0.2)  # the server is being killed or restarted
                continue
            if response.status_code == 401 and auth:  # access tokens live 15 minutes
                self.login()
                continue
            return response

    def json(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kw: Any) -> Any:
        response = self.call(method, path, **kw)
        if response.status_code not in expect:
            raise Violation(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def job(self, job_id: str) -> dict[str, Any]:
        return self.json("GET", f"/api/v1/blur/jobs/{job_id}")

    def wait_job(self, job_id: str, what: str, poll: float = 0.25) -> dict[str, Any]:
        while (job := self.job(job_id))["status"] not in FINISHED:
            if self.deadline.left() <= 0:
                raise Violation(f"time limit reached while {what}; job is {_job_line(job)}")
            time.sleep(poll)
        return job

    def all_photos(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = self.json("GET", "/api/v1/photos", params=params)
            out += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return out

    def close(self) -> None:
        self.http.close()


def _job_line(job: dict[str, Any]) -> str:
    return f"{job['status']} {job['done']}+{job['failed']}/{job['total']}"


def make_photos(count: int, width: int, height: int) -> list[tuple[str, bytes]]:
    return [(f"chaos-{i:04d}.jpg", images.jpeg(width, height, seed=10_000 + i)) for i in range(count)]


def upload(client: Client, files: list[tuple[str, bytes]], batch: int) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(files), batch):
        chunk = files[start : start + batch]
        body = client.json(
            "POST",
            "/api/v1/photos",
            expect=(201,),
            files=[("files", (name, data, "image/jpeg")) for name, data in chunk],
        )
        if body["created"] != len(chunk) or body["rejected"]:
            raise Violation(f"upload batch at {start}: {body['created']} created, rejected {body['rejected']}")
        ids += [p["id"] for p in body["photos"]]
    return ids


# ------------------------------------------------------------------------------ the score-write ledger

PG_LEDGER = """
CREATE TABLE IF NOT EXISTS chaos_score_writes (
    photo_id text NOT NULL, blur_score double precision, scored_at text, at timestamptz DEFAULT clock_timestamp());
CREATE OR REPLACE FUNCTION chaos_log_score() RETURNS trigger AS $$
BEGIN
    IF NEW.blur_score IS NOT NULL AND (OLD.blur_score IS DISTINCT FROM NEW.blur_score
                                      OR OLD.scored_at IS DISTINCT FROM NEW.scored_at) THEN
        INSERT INTO chaos_score_writes (photo_id, blur_score, scored_at)
        VALUES (NEW.id::text, NEW.blur_score, NEW.scored_at::text);
    END IF;
    RETURN NEW;
END $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS chaos_score_writes ON photos;
CREATE TRIGGER chaos_score_writes AFTER UPDATE ON photos FOR EACH ROW EXECUTE FUNCTION chaos_log_score();
"""

SQLITE_LEDGER = """
CREATE TABLE IF NOT EXISTS chaos_score_writes (photo_id TEXT NOT NULL, blur_score REAL, scored_at TEXT);
CREATE TRIGGER IF NOT EXISTS chaos_score_writes AFTER UPDATE ON photos FOR EACH ROW
WHEN NEW.blur_score IS NOT NULL AND (OLD.blur_score IS NOT NEW.blur_score OR OLD.scored_at IS NOT NEW.scored_at)
BEGIN
    INSERT INTO chaos_score_writes (photo_id, blur_score, scored_at) VALUES (NEW.id, NEW.blur_score, NEW.scored_at);
END;
"""


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _pg(url: str, sql: str, fetch: bool = False) -> list[Any]:
    import asyncpg

    async def run() -> list[Any]:
        conn = await asyncpg.connect(_pg_dsn(url), timeout=10)
        try:
            if fetch:
                return [tuple(r) for r in await conn.fetch(sql)]
            await conn.execute(sql)
            return []
        finally:
            await conn.close()

    return asyncio.run(run())


def install_ledger(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(_sqlite_path(database_url), timeout=30)) as db:
            db.executescript(SQLITE_LEDGER)
            db.commit()
    else:
        _pg(database_url, PG_LEDGER)


def ledger_writes(database_url: str) -> dict[str, int]:
    sql = "SELECT photo_id, count(*) FROM chaos_score_writes GROUP BY photo_id"
    if database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(_sqlite_path(database_url), timeout=30)) as db:
            rows = db.execute(sql).fetchall()
    else:
        rows = _pg(database_url, sql, fetch=True)
    return {_norm_id(pid): int(n) for pid, n in rows}


def _norm_id(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value).replace("-", "").lower()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}" if len(text) == 32 else text


def _sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1]


# ----------------------------------------------------------------------------------------- the checks


def snapshot(client: Client, ids: list[str]) -> dict[str, tuple[Any, Any, Any, Any]]:
    out = {}
    for photo_id in ids:
        r = client.json("GET", f"/api/v1/photos/{photo_id}/result")
        out[photo_id] = (r["blur_score"], r["blur_kind"], r["scored_at"], r["error"])
    return out


def final_checks(
    client: Client, *, ids: list[str], batch_job: str, database_url: str, violations: list[str], report: dict
) -> None:
    expected = len(ids)
    counts = client.json("GET", "/api/v1/photos", params={"limit": 1})["counts"]
    report["counts"] = counts
    if counts["all"] != expected or counts["unprocessed"] != 0:
        violations.append(f"counts after the batch: {counts} (expected all={expected}, unprocessed=0)")
    photos = client.all_photos()
    unscored = [p["id"] for p in photos if p["blur_score"] is None]
    errored = [(p["id"], p["error"]) for p in photos if p["error"]]
    if unscored:
        violations.append(f"{len(unscored)} photos have no score, e.g. {unscored[:3]}")
    if errored:
        violations.append(f"{len(errored)} photos have an error, e.g. {errored[:3]}")
    if {p["id"] for p in photos} != set(ids):
        violations.append("the listed photos are not the uploaded ones")

    job = client.job(batch_job)
    report["batch_job"] = _job_line(job)
    if not (job["status"] == "done" and job["done"] + job["failed"] == job["total"] == expected and job["failed"] == 0):
        violations.append(f"batch job {batch_job}: {_job_line(job)} (expected done {expected}+0/{expected})")

    stuck = [j for j in client.json("GET", "/api/v1/blur/jobs") if j["status"] in ("queued", "running")]
    if stuck:
        violations.append(f"{len(stuck)} jobs left queued/running: {[_job_line(j) for j in stuck]}")

    writes = ledger_writes(database_url)
    report["score_writes"] = sum(writes.values())
    twice = {pid: n for pid, n in writes.items() if n > 1}
    never = [pid for pid in ids if pid not in writes]
    if twice:
        violations.append(f"{len(twice)} photos had their score written more than once: {list(twice.items())[:5]}")
    if never:
        violations.append(f"{len(never)} scored photos have no recorded score write (ledger broken?): {never[:3]}")

    # A forced re-run over every photo must change nothing.
    before = snapshot(client, ids)
    t0 = time.monotonic()
    rerun = client.json("POST", "/api/v1/blur/analyze-batch", expect=(202,), json={"photo_ids": ids})["job_id"]
    job = client.wait_job(rerun, "waiting for the forced re-run")
    report["rerun_s"] = round(time.monotonic() - t0, 1)
    report["rerun_job"] = _job_line(job)
    if not (job["status"] == "done" and job["done"] == job["total"] == expected and job["failed"] == 0):
        violations.append(f"forced re-run job {rerun}: {_job_line(job)}")
    after = snapshot(client, ids)
    changed = [pid for pid in ids if before[pid] != after[pid]]
    if changed:
        pid = changed[0]
        violations.append(f"{len(changed)} results changed on re-run, e.g. {pid}: {before[pid]} -> {after[pid]}")
    writes_after = ledger_writes(database_url)
    if writes_after != writes:
        violations.append(
            f"the forced re-run wrote scores again ({sum(writes_after.values())} vs {sum(writes.values())})"
        )
    stuck = [j for j in client.json("GET", "/api/v1/blur/jobs") if j["status"] in ("queued", "running")]
    if stuck:
        violations.append(f"after the re-run {len(stuck)} jobs left queued/running: {[_job_line(j) for j in stuck]}")


# ------------------------------------------------------------------------------------------- the modes


def run_redis(args: argparse.Namespace, deadline: Deadline, workdir: Path, report: dict, violations: list) -> None:
    import redis as redis_lib

    with postgres_server() as pg_url, redis_server() as redis_url:
        database = create_database(pg_url, "chaos")
        env = {
            "DATABASE_URL": database,
            "REDIS_URL": redis_url,
            "CLASSIFY_DATA_DIR": str(workdir / "data"),
            "CLASSIFY_SECRET_KEY": SECRET,
            "CLASSIFY_LOG_LEVEL": args.log_level,
        }
        classify_cli(["users", "create", EMAIL, "--password-stdin"], env, stdin=PASSWORD + "\n")
        install_ledger(database)
        rds = redis_lib.Redis.from_url(redis_url)
        overrides = json.loads(args.arq_settings) if args.arq_settings else None
        workers = [Worker(env, workdir / f"worker{n}.log", overrides) for n in range(2)]
        web = LiveServer(env, log_dir=workdir)
        try:
            web.start()
            client = Client(web.url, deadline)
            files = make_photos(args.photos, *args.size)
            t_up = time.monotonic()
            ids = upload(client, files, args.batch)
            report["upload_photos_per_s"] = round(len(ids) / (time.monotonic() - t_up), 1)
            del files
            log(
                f"uploaded {len(ids)} photos ({report['upload_photos_per_s']}/s); {rds.zcard('arq:queue')} tasks queued"
            )
            job_id = client.json("POST", "/api/v1/blur/analyze-batch", expect=(202,))["job_id"]
            log(f"batch job {job_id}: {_job_line(client.job(job_id))}")

            t_work = time.monotonic()
            for worker in workers:
                worker.start()
            kills: list[dict[str, Any]] = []
            held: set[bytes] = set()  # in-progress keys that outlived a kill: tasks stranded by it (lease: 30 s)

            def count_stranded(kill: dict[str, Any], before: set[bytes]) -> None:
                # A score task takes ~50 ms; a key seen before the kill and still there seconds later was
                # held by the killed worker (or, rarely, by a task of a worker still spawning its pool).
                still = before & set(rds.keys("arq:in-progress:*"))
                kill["stranded"] = len(still - held)
                held.update(still)

            for k in range(args.kills):
                time.sleep(args.kill_interval * random.uniform(0.7, 1.3))
                deadline.check("killing workers")
                if kills:
                    count_stranded(kills[-1], kills[-1].pop("_keys"))
                # Kill while tasks are running (not between two), waiting at most 5 s for that.
                busy_until = time.monotonic() + 5
                while not (keys := set(rds.keys("arq:in-progress:*")) - held) and time.monotonic() < busy_until:
                    time.sleep(0.02)
                job = client.job(job_id)
                target = workers[k % 2]
                target.kill()
                t_kill = time.monotonic()
                target.start()
                kills.append({"t": round(t_kill - t_work, 1), "worker": k % 2, "job": _job_line(job),
                              "in_flight": len(keys), "_keys": keys})  # fmt: skip
                log(f"kill {k + 1}/{args.kills}: worker{k % 2} at +{t_kill - t_work:.1f}s, job {_job_line(job)}, "
                    f"{len(keys)} tasks in progress (not counting earlier stranded ones)")  # fmt: skip
                if job["status"] in FINISHED:
                    violations.append(f"the batch finished before kill {k + 1}; lower --kill-interval")
            if kills:
                time.sleep(3)
                count_stranded(kills[-1], kills[-1].pop("_keys"))
                log(f"tasks stranded per kill: {[kill['stranded'] for kill in kills]}")
                report["stranded_total"] = sum(kill["stranded"] for kill in kills)
            t_last_kill = time.monotonic()
            job = client.wait_job(job_id, "waiting for the batch after the last kill", poll=0.5)
            t_done = time.monotonic()
            report.update(
                kills_done=len(kills),
                kills=kills,
                batch_wall_s=round(t_done - t_work, 1),
                finish_after_last_kill_s=round(t_done - t_last_kill, 1),
                scoring_photos_per_s=round(len(ids) / (t_done - t_work), 2),
            )
            log(f"batch {_job_line(job)} {t_done - t_work:.1f}s after the workers started, "
                f"{t_done - t_last_kill:.1f}s after the last kill")  # fmt: skip
            wait_unprocessed_zero(client, deadline)
            final_checks(client, ids=ids, batch_job=job_id, database_url=database, violations=violations, report=report)
            report["arq_queue_left"] = int(rds.zcard("arq:queue"))
            report["worker_tracebacks"] = sum(
                w.log_path.read_text(errors="replace").count("Traceback") for w in workers
            )
            client.close()
        finally:
            for worker in workers:
                worker.stop()
            web.stop()
            with contextlib.suppress(Exception):
                rds.flushdb()


def run_default(args: argparse.Namespace, deadline: Deadline, workdir: Path, report: dict, violations: list) -> None:
    data = workdir / "data"
    database = f"sqlite+aiosqlite:///{data / 'classify.db'}"
    env = {"CLASSIFY_DATA_DIR": str(data), "CLASSIFY_SECRET_KEY": SECRET, "CLASSIFY_LOG_LEVEL": args.log_level}
    classify_cli(["users", "create", EMAIL, "--password-stdin"], env, stdin=PASSWORD + "\n")
    install_ledger(database)

    # 1. Photos and the batch are recorded by a server that runs no tasks: all the scoring is left to do.
    idle = LiveServer({**env, "CLASSIFY_RUN_WORKER": "0"}, log_dir=workdir)
    try:
        idle.start()
        client = Client(idle.url, deadline)
        files = make_photos(args.photos, *args.size)
        t_up = time.monotonic()
        ids = upload(client, files, args.batch)
        report["upload_photos_per_s"] = round(len(ids) / (time.monotonic() - t_up), 1)
        del files
        job_id = client.json("POST", "/api/v1/blur/analyze-batch", expect=(202,))["job_id"]
        log(f"uploaded {len(ids)} photos ({report['upload_photos_per_s']}/s); batch job {job_id}")
        client.close()
    finally:
        idle.stop()

    # 2. A working server is killed (SIGKILL to its process group) each time it has made some progress.
    server = LiveServer(env, log_dir=workdir, port=idle.port)
    try:
        t_work = time.monotonic()
        server.start()
        client = Client(server.url, deadline)
        kills = []
        restarts = []

        def progress() -> tuple[int, dict[str, Any]]:
            # Photos scored plus batch items handled: after a restart the server first scores the photos its
            # start-up sweep found unscored (no batch progress), then the batch items (mostly bookkeeping).
            counts = client.json("GET", "/api/v1/photos", params={"limit": 1})["counts"]
            job = client.job(job_id)
            return counts["all"] - counts["unprocessed"] + job["done"] + job["failed"], job

        for k in range(args.kills):
            base, job = progress()
            while (now := progress())[0] < base + args.kill_after_items:
                job = now[1]
                if job["status"] in FINISHED:
                    break
                deadline.check("waiting for progress before a kill")
                time.sleep(0.05)
            job = now[1]
            if job["status"] in FINISHED:
                violations.append(f"the batch finished before kill {k + 1}; lower --kill-after-items")
                break
            time.sleep(random.uniform(0.0, 0.6))
            job = client.job(job_id)
            if job["status"] in FINISHED:
                violations.append(f"the batch finished before kill {k + 1}; lower --kill-after-items")
                break
            server.kill()
            t_kill = time.monotonic()
            kills.append({"t": round(t_kill - t_work, 1), "job": _job_line(job)})
            log(f"kill {k + 1}/{args.kills} at +{t_kill - t_work:.1f}s, job {_job_line(job)}")
            server.start()
            restarts.append(round(time.monotonic() - t_kill, 2))
        t_last_kill = time.monotonic()
        job = client.wait_job(job_id, "waiting for the batch after the last kill", poll=0.25)
        t_done = time.monotonic()
        report.update(
            kills_done=len(kills),
            kills=kills,
            restart_s=restarts,
            batch_wall_s=round(t_done - t_work, 1),
            finish_after_last_kill_s=round(t_done - t_last_kill, 1),
            scoring_photos_per_s=round(len(ids) / (t_done - t_work), 2),
        )
        log(f"batch {_job_line(job)} {t_done - t_work:.1f}s after the first start, "
            f"{t_done - t_last_kill:.1f}s after the last kill (restart included)")  # fmt: skip
        wait_unprocessed_zero(client, deadline)
        final_checks(client, ids=ids, batch_job=job_id, database_url=database, violations=violations, report=report)
        report["server_tracebacks"] = server.read_log().count("Traceback")
        client.close()
    finally:
        server.stop()


def wait_unprocessed_zero(client: Client, deadline: Deadline) -> None:
    """The batch job being done means every item was handled; the loose upload tasks may lag a moment."""
    end = min(deadline.end, time.monotonic() + 30)
    while client.json("GET", "/api/v1/photos", params={"limit": 1})["counts"]["unprocessed"] and time.monotonic() < end:
        time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("redis", "default"), default="redis")
    parser.add_argument("--photos", type=int, default=500)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--kill-interval", type=float, default=6.0, help="redis mode: seconds between kills (±30%%)")
    parser.add_argument("--kill-after-items", type=int, default=2,
                        help="default mode: photos scored + items done since a (re)start before a kill")  # fmt: skip
    parser.add_argument("--size", type=lambda s: tuple(int(v) for v in s.split("x")), default=(640, 480),
                        help="photo size WxH (default 640x480)")  # fmt: skip
    parser.add_argument("--batch", type=int, default=50, help="files per upload request (≤ 50)")
    parser.add_argument("--time-limit", type=float, default=900, help="total wall time limit, seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--arq-settings",
        metavar="JSON",
        help="experiment: arq Worker settings to override, e.g. '{\"poll_delay\": 0.05}'",
    )
    parser.add_argument("--log-level", default="WARNING", help="CLASSIFY_LOG_LEVEL of the app's processes")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs) afterwards")
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 50:
        parser.error("--batch must be 1..50")
    random.seed(args.seed)
    deadline = Deadline(args.time_limit)
    workdir = Path(tempfile.mkdtemp(prefix=f"classify-chaos-{args.mode}-"))
    report: dict[str, Any] = {"mode": args.mode, "photos": args.photos, "kills_asked": args.kills}
    violations: list[str] = []
    log(f"chaos run, mode {args.mode}, {args.photos} photos, {args.kills} kills; logs in {workdir}")
    try:
        (run_redis if args.mode == "redis" else run_default)(args, deadline, workdir, report, violations)
    except Violation as exc:
        violations.append(str(exc))
    report["wall_s"] = round(time.monotonic() - deadline.start, 1)
    report["violations"] = violations
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    if violations:
        print(f"FAIL: {len(violations)} violation(s); logs kept in {workdir}", file=sys.stderr)
        for v in violations:
            print(f"  - {v}", file=sys.stderr)
        return 1
    print(f"OK: {report.get('kills_done')} kills, every photo scored once, batch done, re-run changed nothing")
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
