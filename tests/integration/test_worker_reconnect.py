"""`classify worker` outlives a Redis restart: it waits, starts again and goes on; arq's own worker ended on
the first error and left scoring stopped until someone restarted it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import redis

from tests.support.servers import free_port, redis_server

HEALTH_KEY = "arq:queue:health-check"  # arq writes it as soon as a worker polls the queue


def _reported(url: str, timeout: float) -> bool:
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if client.exists(HEALTH_KEY):
                return True
            time.sleep(0.2)
        return False
    finally:
        client.close()


def test_a_worker_waits_through_a_redis_restart_and_stops_on_sigterm(tmp_path, database_url):
    port = free_port()
    env = {
        **os.environ,
        "CLASSIFY_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "CLASSIFY_SCORE_WORKERS": "1",
    }
    code = "import sys; from app.cli import main; sys.exit(main(['worker']))"
    with open(tmp_path / "worker.log", "wb") as log, redis_server(port=port) as url:
        worker = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            assert _reported(url, 30), (tmp_path / "worker.log").read_text()
        except BaseException:
            worker.kill()
            raise
    try:
        time.sleep(3)  # Redis is gone: arq's worker would have ended by now
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        with redis_server(port=port) as url:
            assert _reported(url, 30), (tmp_path / "worker.log").read_text()
            assert worker.poll() is None
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    logged = (tmp_path / "worker.log").read_text()
    assert "redis unreachable; the worker starts again" in logged and "Traceback" not in logged
