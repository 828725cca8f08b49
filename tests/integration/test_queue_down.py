"""With Redis down, work asked for is stored and answered as accepted: the periodic sweep queues it once Redis
answers again. It used to be a 500 for an upload or a batch that had been stored all the same."""

from __future__ import annotations

import time

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
