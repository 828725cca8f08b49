"""Self-tests of the test-server helpers (real postgres, redis-server and subprocesses, a few seconds)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support import servers
from tests.support.fixtures import postgres_module_url, postgres_url, redis_url  # noqa: F401
from tests.support.live_server import live_server
from tests.support.servers import (
    MissingBinaryError,
    ServerStartError,
    create_database,
    free_port,
    postgres_server,
    redis_server,
    wait_for,
)


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# ----------------------------------------------------------------------------------------- helpers


def test_free_port_is_bindable() -> None:
    port = free_port()
    assert 1024 < port < 65536
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_wait_for_names_what_did_not_come_up() -> None:
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"the frobnicator did not come up within 0\.2s"):
        wait_for(lambda: False, 0.2, "the frobnicator", details=lambda: "some log")
    assert time.monotonic() - start < 2


def test_wait_for_fails_fast_when_the_process_dies() -> None:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(ServerStartError, match="exited with code 3"):
        wait_for(lambda: False, 30, "doomed", process=proc)


def test_missing_postgres_binaries_give_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers.glob, "glob", lambda pattern: [])
    with pytest.raises(MissingBinaryError, match="install-system-deps"), postgres_server():
        pass


def test_missing_redis_binary_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(servers.shutil, "which", lambda name: None)
    monkeypatch.setattr(servers.os, "access", lambda path, mode: False)
    with pytest.raises(MissingBinaryError, match="install-system-deps"), redis_server():
        pass


# ---------------------------------------------------------------------------------------- postgres


async def test_postgres_select_1(postgres_url: str) -> None:  # noqa: F811
    assert postgres_url.startswith("postgresql+asyncpg://postgres@127.0.0.1:")
    assert postgres_url.endswith("/classify_test")
    conn = await asyncpg.connect(_asyncpg_dsn(postgres_url))
    try:
        assert await conn.fetchval("select 1") == 1
        assert await conn.fetchval("select current_setting('fsync')") == "off"
        assert await conn.fetchval("select current_setting('listen_addresses')") == "127.0.0.1"
    finally:
        await conn.close()


async def test_postgres_url_works_with_sqlalchemy(postgres_url: str) -> None:  # noqa: F811
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(text("select current_database()"))).scalar() == "classify_test"
    finally:
        await engine.dispose()


async def test_create_database_gives_a_fresh_empty_database(postgres_url: str) -> None:  # noqa: F811
    start = time.monotonic()
    url = create_database(postgres_url, "selftest_fresh")
    elapsed = time.monotonic() - start
    assert url.endswith("/selftest_fresh")
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        assert await conn.fetchval("select current_database()") == "selftest_fresh"
        await conn.execute("create table leftover (id int)")
    finally:
        await conn.close()
    # Creating it again drops the old one, even with a connection still open.
    keep_open = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        create_database(postgres_url, "selftest_fresh")
    finally:
        await keep_open.close()
    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        tables = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
        assert tables == 0
    finally:
        await conn.close()
    servers.drop_database(url)
    assert elapsed < 5


def test_create_database_rejects_bad_names(postgres_url: str) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="bad database name"):
        create_database(postgres_url, 'x"; drop database postgres; --')


async def test_postgres_module_url_is_a_separate_database(postgres_module_url: str) -> None:  # noqa: F811
    conn = await asyncpg.connect(_asyncpg_dsn(postgres_module_url))
    try:
        assert await conn.fetchval("select current_database()") == "t_test_servers"
    finally:
        await conn.close()


def test_postgres_server_tears_down_cleanly() -> None:
    tmp = Path(servers.tempfile.gettempdir())
    before = set(tmp.glob("classify-pg-*"))
    with postgres_server(database="teardown_check") as url:
        port = int(url.split(":")[-1].split("/")[0])
        ours = set(tmp.glob("classify-pg-*")) - before
        assert len(ours) == 1
        assert _port_open(port)
    assert not _port_open(port)
    assert not ours.pop().exists()


def test_postgres_server_tears_down_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError, match="boom"), postgres_server() as url:
        port = int(url.split(":")[-1].split("/")[0])
        raise RuntimeError("boom")
    assert not _port_open(port)


# ------------------------------------------------------------------------------------------- redis


async def test_redis_ping(redis_url: str) -> None:  # noqa: F811
    assert redis_url.startswith("redis://127.0.0.1:") and redis_url.endswith("/0")
    client = aioredis.from_url(redis_url)
    try:
        assert await client.ping() is True
        assert await client.config_get("save") == {"save": ""}
    finally:
        await client.aclose()


async def _add(ctx: dict, a: int, b: int) -> int:
    return a + b


@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")  # inside arq's Worker.close
async def test_arq_enqueue_and_burst_worker_round_trip(redis_url: str) -> None:  # noqa: F811
    settings = RedisSettings.from_dsn(redis_url)
    pool = await create_pool(settings)
    try:
        job = await pool.enqueue_job("_add", 2, 3, _queue_name="selftest")
        assert job is not None
        worker = Worker(
            functions=[_add],
            redis_pool=pool,
            queue_name="selftest",
            burst=True,
            poll_delay=0.05,
            handle_signals=False,
        )
        try:
            await asyncio.wait_for(worker.main(), timeout=20)
        finally:
            await worker.close()
        assert await job.result(timeout=5) == 5
    finally:
        await pool.aclose()


def test_redis_server_tears_down_cleanly() -> None:
    with redis_server() as url:
        port = int(url.split(":")[-1].split("/")[0])
        assert _port_open(port)
    assert not _port_open(port)


# ------------------------------------------------------------------------------------- live server


def _http_server(tmp_path: Path) -> list[str]:
    (tmp_path / "index.html").write_text("<h1>stand-in</h1>")
    return [sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", str(tmp_path)]


def test_live_server_starts_kills_and_restarts(tmp_path: Path) -> None:
    with live_server({"SOME_SETTING": "x-{port}"}, command=_http_server(tmp_path), ready_path="/") as server:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.env["SOME_SETTING"] == f"x-{server.port}"
        assert "stand-in" in httpx.get(server.url + "/").text
        first_pid = server.process.pid

        assert server.kill() == -signal.SIGKILL
        assert not server.running
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/", timeout=2)

        server.restart()
        assert server.running and server.process.pid != first_pid
        assert httpx.get(server.url + "/").status_code == 200

        server.restart()  # also works while it is running (SIGTERM first)
        assert httpx.get(server.url + "/").status_code == 200
        assert server.read_log().count("=== start #") == 3
        log_path = server.log_path
        process = server.process
    assert process.returncode is not None
    assert not _port_open(server.port)
    assert not log_path.exists()


def test_live_server_reports_the_log_when_the_process_exits(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('settings are broken'); sys.exit(2)"]
    with (
        pytest.raises(ServerStartError, match=r"(?s)exited with code 2.*settings are broken"),
        live_server({}, command=command, timeout=20),
    ):
        pass


def test_live_server_times_out_with_the_log(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-c",
        "import time; print('still booting', flush=True); time.sleep(60)",
    ]
    start = time.monotonic()
    with (
        pytest.raises(TimeoutError, match=r"(?s)did not come up within 1s.*still booting"),
        live_server({}, command=command, timeout=1),
    ):
        pass
    assert time.monotonic() - start < 15


def test_live_server_sigkills_a_process_that_ignores_sigterm(tmp_path: Path) -> None:
    script = tmp_path / "stubborn.py"
    script.write_text(
        "import http.server, signal, sys\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "http.server.test(HandlerClass=http.server.SimpleHTTPRequestHandler,"
        " port=int(sys.argv[1]), bind='127.0.0.1')\n"
    )
    command = [sys.executable, str(script), "{port}"]
    start = time.monotonic()
    with live_server({}, command=command, cwd=tmp_path, ready_path="/", stop_timeout=0.5) as server:
        pass
    assert server.process.returncode == -signal.SIGKILL
    assert time.monotonic() - start < 10


def test_default_command_is_the_app_cli() -> None:
    """`classify serve`, run via app.cli.main (app/cli has no __main__.py for `python -m app.cli`)."""
    from tests.support.live_server import LiveServer

    server = LiveServer({}, port=12345)
    try:
        assert server.command == [
            sys.executable,
            "-c",
            "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "12345",
        ]
        assert server.cwd == Path(__file__).resolve().parents[2]
        assert os.path.isdir(server.cwd / "app")
    finally:
        server.close()
