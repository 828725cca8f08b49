"""The `classify` command and what the logs show (and never show)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from app.adapters.sql.migrate import upgrade
from tests import images
from tests.support.live_server import live_server

PASSWORD = "a very secret password"


def classify(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    code = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        text=True,
        capture_output=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_users_create_then_api_login_and_no_secret_in_the_logs(tmp_path, database_url):
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    created = classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    again = classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    short = classify("users", "create", "b@example.com", "--password-stdin", env=env, stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
    piped = classify("users", "create", "b@example.com", env=env, stdin=PASSWORD + "\n")  # no terminal to ask on
    assert piped.returncode == 1 and "--password-stdin" in piped.stderr and "Traceback" not in piped.stderr
    # a forgotten password: the administrator sets a new one (and the old one stops working, below)
    forgot = classify("users", "set-password", "a@example.com", "--password-stdin", env=env, stdin="forgotten!\n")
    assert forgot.returncode == 0 and "set a new password for a@example.com" in forgot.stdout, forgot.stderr
    nobody = classify("users", "set-password", "b@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert nobody.returncode == 1 and "There is no account for b@example.com" in nobody.stderr
    back = classify("users", "set-password", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert back.returncode == 0

    with live_server(env) as server:
        tokens = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"email": "a@example.com", "password": PASSWORD}
        ).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        stale = {"email": "a@example.com", "password": "forgotten!"}
        assert httpx.post(f"{server.url}/api/v1/auth/login", json=stale).status_code == 401
        typed_in_the_wrong_box = {"email": "my secret words", "password": "x"}
        assert httpx.post(f"{server.url}/api/v1/auth/login", json=typed_in_the_wrong_box).status_code == 401
        assert httpx.get(f"{server.url}/api/v1/auth/me", headers=bearer).json()["email"] == "a@example.com"
        fresh = httpx.post(f"{server.url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
        httpx.get(f"{server.url}/api/v1/auth/me?token={tokens['access_token']}", headers=bearer)
        reused = httpx.post(f"{server.url}/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert reused.status_code == 401
        log = server.read_log()

    secrets = (PASSWORD, "forgotten!", "my secret words", tokens["access_token"], tokens["refresh_token"])
    for secret in (*secrets, fresh["refresh_token"]):
        assert secret not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("event") == "request"]
    assert requests and all(len(line["request_id"]) >= 8 for line in requests)
    # what whoever runs the server needs to see: a wrong password tried, a refresh token used twice
    failed = [line for line in lines if line.get("event") == "sign-in failed"]
    assert [(line["email"], line["client"], line["level"]) for line in failed] == [
        ("a@example.com", "127.0.0.1", "warning"),
        ("(not an email address)", "127.0.0.1", "warning"),
    ]
    assert any(line.get("event") == "a refresh token was used twice: its sign-in is ended" for line in lines)


def test_score_and_usage_errors(tmp_path):
    usage = classify("score", env={})
    assert usage.returncode != 0
    assert classify("nonsense", env={}).returncode == 2
    assert classify("--help", env={}).returncode == 0


def test_serve_on_a_port_in_use_says_so_before_touching_the_database(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data = tmp_path / "data"
        refused = classify("serve", "--port", str(port), env={"CLASSIFY_DATA_DIR": str(data)})
    assert refused.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in refused.stderr
    assert not (data / "classify.db").exists()  # nothing migrated, no worker took queued work


def test_x_forwarded_for_does_not_reset_the_sign_in_limit_and_debug_logs_keep_no_hashes(tmp_path, database_url):
    """uvicorn believed X-Forwarded-For from any peer and took its left-most address, which the client writes:
    a guesser reset the limit with each request. And at DEBUG the database driver logged every statement with
    its parameters, password hashes among them."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url, "CLASSIFY_LOG_LEVEL": "DEBUG"}
    created = classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    with live_server(env) as server, httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as far:
        wrong = {"email": "a@example.com", "password": "not the password"}
        answers = [
            far.post(f"{server.url}/api/v1/auth/login", json=wrong, headers={"X-Forwarded-For": f"10.9.{i}.1"})
            for i in range(7)
        ]
        assert [a.status_code for a in answers][-2:] == [429, 429] and "retry-after" in answers[-1].headers
        tokens = httpx.post(f"{server.url}/api/v1/auth/login", json={"email": "a@example.com", "password": PASSWORD})
        bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        change = {"current_password": PASSWORD, "new_password": "another secret password"}
        assert httpx.post(f"{server.url}/api/v1/auth/password", json=change, headers=bearer).status_code < 300
        log = server.read_log()
    failed = [json.loads(line) for line in log.splitlines() if line.startswith("{") and "sign-in failed" in line]
    assert failed and {line["client"] for line in failed} == {"127.0.0.2"}
    assert "$argon2" not in log


def test_a_database_that_cannot_be_used_is_one_line_naming_the_setting(tmp_path):
    """`classify serve` printed a 124-line traceback; a worker with no DATABASE_URL made an empty SQLite file
    in the shared data folder and failed every task it took; a bad REDIS_URL was arq's "invalid DSN scheme"."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "CLASSIFY_SECRET_KEY": "k" * 40}
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = f"postgresql://classify:hunter2@127.0.0.1:{port}/classify"
    served = classify("serve", "--port", "0", env={**env, "DATABASE_URL": down})
    assert served.returncode == 1 and "Traceback" not in served.stderr
    shown = f"postgresql+asyncpg://classify:***@127.0.0.1:{port}/classify"  # the password hidden
    assert served.stderr.startswith(f"classify: cannot use the database at DATABASE_URL={shown}: ")
    assert "hunter2" not in served.stderr

    no_redis = classify("worker", "--burst", env=env)  # the first thing it needs, said first
    assert no_redis.returncode != 0 and "classify worker needs REDIS_URL" in no_redis.stderr
    assert "database" not in no_redis.stderr

    worker = classify("worker", "--burst", env={**env, "REDIS_URL": "redis://127.0.0.1:1/0"})
    assert worker.returncode != 0 and "Traceback" not in worker.stderr
    assert (
        "the database at DATABASE_URL=sqlite+aiosqlite:///" in worker.stderr and "has no database file" in worker.stderr
    )
    assert not (tmp_path / "data" / "classify.db").exists()  # not made by the worker

    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'classify.db'}")  # as `classify serve` leaves it
    bad_redis = classify("worker", "--burst", env={**env, "REDIS_URL": "notaurl"})
    assert bad_redis.returncode != 0 and "Traceback" not in bad_redis.stderr
    assert "REDIS_URL must be a URL starting redis://" in bad_redis.stderr


@pytest.mark.same_on_both_databases  # no database of the run's own: settings and start-up only
@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("CLASSIFY_MAX_UPLOAD_MB", "abc", "CLASSIFY_MAX_UPLOAD_MB must be a number, not 'abc'"),
        ("CLASSIFY_QUOTA_MB", "nan", "CLASSIFY_QUOTA_MB must be a finite number, not 'nan'"),
        ("CLASSIFY_MAX_PIXELS", "inf", "CLASSIFY_MAX_PIXELS must be a finite number, not 'inf'"),
        ("CLASSIFY_LOG_LEVEL", "loud", "CLASSIFY_LOG_LEVEL must be one of DEBUG, INFO, WARNING, WARN, ERROR,"),
        ("CLASSIFY_RUN_WORKER", "off-ish", "CLASSIFY_RUN_WORKER must be 1 or 0"),
        ("DATABASE_URL", "nonsense", "DATABASE_URL is not a database URL"),
        ("REDIS_URL", "nonsense", "REDIS_URL must be a URL starting redis://"),
        ("OPENAI_BASE_URL", "localhost:9000/v1", "OPENAI_BASE_URL must be a URL starting http://"),
        ("GOOGLE_TOKEN_URL", "notaurl", "GOOGLE_TOKEN_URL must be a URL starting http://"),
        ("CLASSIFY_PUBLIC_URL", "photos.example.com", "CLASSIFY_PUBLIC_URL must be a URL starting http://"),
        ("CLASSIFY_DATA_DIR", "/etc/hostname/data", "CLASSIFY_DATA_DIR=/etc/hostname/data cannot be used"),
    ],
)
def test_a_setting_that_cannot_work_is_one_line_naming_it(tmp_path, variable, value, said):
    """Each of these was a traceback (16 to 124 lines), an error at first use far from its cause, or, for
    CLASSIFY_RUN_WORKER=off-ish, a web process that silently ran tasks as well."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "REDIS_URL": "redis://127.0.0.1:1/0", variable: value}
    refused = classify("migrate", env=env)
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.startswith(f"classify: {said}") and refused.stderr.count("\n") == 1, refused.stderr


@pytest.mark.same_on_both_databases  # no database of the run's own: settings and start-up only
def test_a_short_secret_key_still_works_and_is_warned_about(tmp_path):
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "CLASSIFY_SECRET_KEY": "short"}
    first, again = classify("migrate", env=env), classify("migrate", env=env)
    assert first.returncode == 0 and first.stdout.startswith("database migrated from empty to revision ")
    assert again.returncode == 0 and again.stdout.startswith("database is up to date (revision ")
    created = classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    with live_server(env) as server:
        login = httpx.post(f"{server.url}/api/v1/auth/login", json={"email": "a@example.com", "password": PASSWORD})
        assert login.status_code == 200
        assert "CLASSIFY_SECRET_KEY is short" in server.read_log()


@pytest.mark.same_on_both_databases  # no database of the run's own: settings and start-up only
@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("worker", "--burst"), ("users", "sign-out", "a@b.cd")])
def test_every_command_reads_its_settings_the_same_way(tmp_path, command):
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "REDIS_URL": "redis://127.0.0.1:1/0"}
    for variable, value in (("CLASSIFY_QUOTA_MB", "nan"), ("CLASSIFY_LOG_LEVEL", "loud")):
        refused = classify(*command, env={**env, variable: value})
        assert refused.returncode == 1 and refused.stderr.startswith(f"classify: {variable} must be "), refused.stderr
        assert refused.stderr.count("\n") == 1, refused.stderr


@pytest.mark.same_on_both_databases  # no database of the run's own: settings and start-up only
def test_migrate_and_users_on_a_database_they_cannot_reach_say_so_in_one_line(tmp_path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": f"postgres://u:pw@127.0.0.1:{port}/db"}
    for command in (("migrate",), ("users", "sign-out", "a@example.com")):
        refused = classify(*command, env=env)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
        assert refused.stderr.startswith(
            "classify: cannot use the database at DATABASE_URL=postgresql+asyncpg://u:***@"
        )


@pytest.mark.same_on_both_databases  # no database of the run's own: settings and start-up only
def test_users_run_away_from_the_servers_data_folder_say_which_database_they_used(tmp_path):
    """`classify users create` in another folder made ./data there and said only "created": the server never
    saw the account. Other actions no longer make a database at all."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "elsewhere")}
    missing = classify("users", "sign-out", "a@example.com", env=env)
    assert missing.returncode == 1 and "there is no database at" in missing.stderr
    assert not (tmp_path / "elsewhere").exists()  # nor the folder, with a new secret key in it
    created = classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert created.returncode == 0 and created.stdout == "created a@example.com\n"
    assert f"this made a new database at {tmp_path / 'elsewhere' / 'classify.db'}" in created.stderr
    again = classify("users", "create", "b@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert again.returncode == 0 and again.stderr == ""


@pytest.mark.same_on_both_databases  # no database of the run's own: settings and start-up only
def test_serve_refuses_a_port_past_65535_instead_of_wrapping_it(tmp_path):
    refused = classify("serve", "--port", "73637", env={"CLASSIFY_DATA_DIR": str(tmp_path / "data")})
    assert refused.returncode == 2 and "73637 is not a port (0-65535)" in refused.stderr


def test_a_worker_says_why_it_cannot_use_the_database(tmp_path, database_url):
    """A database with no tables, and one the server refuses (an unknown database on PostgreSQL, a file that is
    not a database on SQLite): both were "has no Classify tables", and the operator went looking for migrations."""
    import asyncio

    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from app.adapters.sql.migrate import not_ready

    async def problem(url: str) -> str | None:
        engine = create_async_engine(url)
        try:
            return await not_ready(engine, url)
        finally:
            await engine.dispose()

    assert asyncio.run(problem(database_url)) is None  # migrated
    if database_url.startswith("sqlite"):
        (tmp_path / "empty.db").touch()
        empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        (tmp_path / "notes.db").write_text("not a database, but a text file of the same name\n" * 100)
        refused = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    else:
        empty = make_url(database_url).set(database="postgres").render_as_string(hide_password=False)
        refused = make_url(database_url).set(database="no_such_database").render_as_string(hide_password=False)
    assert asyncio.run(problem(empty)) == "has no Classify tables"
    said = asyncio.run(problem(refused))
    assert said.startswith("cannot be used (") and "Classify tables" not in said, said


def test_a_server_that_scored_photos_stops_with_json_lines_only(tmp_path, database_url):
    """Stopped after scoring, the server left its scoring processes' semaphores to multiprocessing's resource
    tracker, which wrote a Python warning among the JSON lines (found by a review of the README)."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    made = classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n")
    assert made.returncode == 0
    with live_server(env) as server:
        token = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"email": "a@example.com", "password": PASSWORD}
        ).json()["access_token"]
        files = [("files", (f"p{i}.jpg", images.jpeg(seed=70 + i))) for i in range(3)]
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{server.url}/api/v1/photos", files=files, headers=bearer).status_code == 201
        deadline = time.monotonic() + 60
        while httpx.get(f"{server.url}/api/v1/photos", headers=bearer).json()["counts"]["unprocessed"]:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        server.process.send_signal(signal.SIGTERM)  # to the server alone, as a container's stop does
        server.process.wait(30)
        time.sleep(1.0)  # the tracker is a process of its own, and writes after the server has gone
        lines = [line for line in server.read_log().splitlines() if line.strip() and not line.startswith("=== ")]
    assert lines and all(line.startswith("{") for line in lines), [line for line in lines if not line.startswith("{")]
