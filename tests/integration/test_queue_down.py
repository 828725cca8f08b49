"""With Redis down, work asked for is stored and answered as accepted: the periodic sweep queues it once Redis
answers again. It used to be a 500 for an upload or a batch that had been stored all the same."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

from litestar.testing import TestClient

from app.bootstrap import bootstrap
from app.main import create_app
from tests import images
from tests.conftest import create_account, login, make_settings
from tests.support.servers import free_port


def test_uploads_and_batches_are_accepted_while_redis_is_down(tmp_path, database_url):
    down = f"redis://127.0.0.1:{free_port()}/0"
    settings = make_settings(tmp_path / "data", database_url, redis_url=down, run_worker=False)  # a web process
    with TestClient(app=create_app(settings, bootstrap(settings))) as client:
        create_account(settings, "owner@example.com")
        api = login(client, "owner@example.com")
        started = time.monotonic()
        uploaded = api.upload(("kept.jpg", images.jpeg(seed=3)))
        assert uploaded.status_code == 201, uploaded.text
        photo = uploaded.json()["photos"][0]
        batch = api.post("/api/v1/blur/analyze-batch", json={"photo_ids": [photo["id"]]})
        assert batch.status_code == 202 and batch.json()["total"] == 1
        assert time.monotonic() - started < 10  # no waiting out connection retries on each request
        listed = api.get("/api/v1/photos?filter=unprocessed").json()["items"]
        assert [p["id"] for p in listed] == [photo["id"]]  # stored, to be scored when the queue is back
        job = api.get(f"/api/v1/blur/jobs/{batch.json()['job_id']}").json()
        assert job["status"] == "queued"
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["queue"]["status"] == "error"


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A Redis that takes connections and never answers: a stopped (SIGSTOP) or cut-off one looks like this."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_a_redis_that_never_answers_holds_up_no_request(tmp_path, database_url, monkeypatch):
    """With Redis stopped rather than gone, sign-in, uploads and /health/ready waited as long as it stayed stopped
    (100 s in an outside review): connections had a time limit for connecting, none for an answer. Then an
    upload of ten photos waited that limit once for each (20 s in another)."""
    from app.adapters import arq_queue

    monkeypatch.setattr(arq_queue, "AWAY_SECONDS", 1.0)  # Redis is asked again after this

    def timed(call):
        started = time.monotonic()
        answer = call()
        return answer, time.monotonic() - started

    with silent_server() as silent:
        settings = make_settings(tmp_path / "data", database_url, redis_url=silent, run_worker=False)
        with TestClient(app=create_app(settings, bootstrap(settings)), timeout=30) as client:
            create_account(settings, "owner@example.com")
            api, took = timed(lambda: login(client, "owner@example.com"))  # its failures are counted in Redis
            assert took < 5
            time.sleep(1.1)  # Redis is asked afresh by the upload, once, not once a photo
            files = [(f"kept{i}.jpg", images.jpeg(seed=40 + i)) for i in range(10)]
            uploaded, took = timed(lambda: api.upload(*files))
            assert uploaded.status_code == 201 and len(uploaded.json()["photos"]) == 10 and took < 5, took
            time.sleep(1.1)
            ids = [p["id"] for p in uploaded.json()["photos"]]
            batch, took = timed(lambda: api.post("/api/v1/blur/analyze-batch", json={"photo_ids": ids}))
            assert batch.status_code == 202 and took < 5, took
            time.sleep(1.1)
            ready, took = timed(lambda: client.get("/health/ready"))
            assert ready.status_code == 503 and ready.json()["checks"]["queue"]["status"] == "error" and took < 5


def test_a_database_that_cannot_be_reached_is_a_503_to_try_again(tmp_path):
    """With PostgreSQL down every request was a 500 "Something went wrong on our side"."""
    down = f"postgresql+asyncpg://classify@127.0.0.1:{free_port()}/classify"
    settings = make_settings(tmp_path / "data", down)
    with TestClient(app=create_app(settings, bootstrap(settings))) as client:
        login = client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x" * 12})
        assert login.status_code == 503 and login.headers["retry-after"] == "5"
        assert login.json()["detail"].startswith("The database cannot be reached just now")
        page = client.get("/login")  # a page says the same, as a page
        assert page.status_code == 503 and "The database cannot be reached just now" in page.text
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["checks"]["database"]["status"] == "error"
