"""Deleting an account: confirmed, complete (rows and files), and nobody else's photos touched. The Google
grant's revocation is in test_google.py, beside the fake Google."""

from __future__ import annotations

import asyncio
import threading
import uuid
from pathlib import Path

import asyncpg
import pytest

from tests import images
from tests.conftest import PASSWORD, TEST_DB, run_sql
from tests.integration.test_cli_and_logs import classify
from tests.integration.test_pages import _signed_in


def _originals(settings) -> set[str]:
    return {path.name for path in Path(settings.data_dir, "originals").rglob("*") if path.is_file()}


def _upload(api, seed: int) -> dict:
    response = api.upload((f"photo{seed}.jpg", images.jpeg(400, 300, seed=seed)))
    assert response.status_code == 201, response.text
    return response.json()["photos"][0]


def test_the_api_deletes_the_account_its_rows_and_its_files_and_nothing_else(client, api, other_api, settings):
    mine = [_upload(api, seed) for seed in (1, 2)]
    theirs = _upload(other_api, 3)
    api.wait_scored()
    before = _originals(settings)
    assert len(before) == 3

    wrong = client.request("DELETE", "/api/v1/auth/me", headers=api.headers, json={"confirm": "not my password"})
    assert wrong.status_code == 422 and "nothing was deleted" in wrong.json()["detail"]
    assert len(api.get("/api/v1/photos").json()["items"]) == 2 and _originals(settings) == before

    gone = client.request("DELETE", "/api/v1/auth/me", headers=api.headers, json={"confirm": PASSWORD})
    assert gone.status_code == 204
    assert api.get("/api/v1/auth/me").status_code == 401
    login = client.post("/api/v1/auth/login", json={"email": "owner@example.com", "password": PASSWORD})
    assert login.status_code == 401
    assert len(_originals(settings)) == 1  # only the other person's original is left
    assert run_sql(settings.database_url, "SELECT count(*) FROM photos") == [(1,)]
    assert run_sql(
        settings.database_url, "SELECT count(*) FROM api_sessions WHERE user_id NOT IN (SELECT id FROM users)"
    ) == [(0,)]
    assert other_api.get(f"/api/v1/photos/{theirs['id']}").status_code == 200
    assert other_api.get(f"/api/v1/photos/{mine[0]['id']}").status_code == 404


def test_the_settings_page_deletes_it_after_the_password_and_says_so(client, api, other_api):
    _upload(api, 4)
    _signed_in(client)
    page = client.get("/settings").text
    assert 'action="/settings/delete"' in page and "Nothing is deleted where your photos came from" in page

    assert client.post("/settings/delete", data={"confirm": PASSWORD}).status_code == 403  # no CSRF token
    token = client.cookies.get("csrftoken")
    wrong = client.post("/settings/delete", data={"confirm": "nope", "_csrf_token": token})
    assert wrong.status_code == 422 and "The password is not right; nothing was deleted." in wrong.text
    done = client.post("/settings/delete", data={"confirm": PASSWORD, "_csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login?deleted=1"
    assert done.headers["clear-site-data"] == '"cache"'  # the browser's copies of the account's pages go too
    assert "Your account and everything Classify kept of it are deleted." in client.get("/login?deleted=1").text
    assert client.get("/photos", follow_redirects=False).status_code == 302  # signed out
    assert api.get("/api/v1/photos").status_code == 401


def test_the_command_line_deletes_an_account_only_when_told_yes(tmp_path, database_url):
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": database_url}
    assert (
        classify("users", "create", "a@example.com", "--password-stdin", env=env, stdin=PASSWORD + "\n").returncode == 0
    )
    careful = classify("users", "delete", "a@example.com", env=env)
    assert careful.returncode == 2 and "--yes" in careful.stderr
    done = classify("users", "delete", "a@example.com", "--yes", env=env)
    assert done.returncode == 0 and "deleted a@example.com and its 0 photos" in done.stdout, done.stderr
    again = classify("users", "delete", "a@example.com", "--yes", env=env)
    assert again.returncode == 1 and "There is no account for a@example.com" in again.stderr


def test_a_job_still_running_when_its_account_goes_leaves_nothing_behind(client, api, other_api, settings):
    for seed in range(10, 18):
        _upload(api, seed)
    api.wait_scored()
    run_sql(settings.database_url, "UPDATE photos SET blur_score = NULL")  # so that a batch has work to do
    keys = {key for (key,) in run_sql(settings.database_url, "SELECT storage_key FROM photos")}
    started = api.post("/api/v1/blur/analyze-batch")
    assert started.status_code == 202 and started.json()["total"] == 8
    gone = client.request("DELETE", "/api/v1/auth/me", headers=api.headers, json={"confirm": PASSWORD})
    assert gone.status_code == 204

    # the worker goes on with other people's work, and the deleted account's tasks leave no files behind
    theirs = _upload(other_api, 30)
    other_api.wait_scored()
    assert other_api.get(f"/api/v1/photos/{theirs['id']}").json()["blur_score"] is not None
    assert run_sql(settings.database_url, "SELECT count(*) FROM jobs") == [(0,)]
    files = [path.name for path in Path(settings.data_dir).rglob("*") if path.is_file()]
    assert not [name for name in files if any(key in name for key in keys)]  # originals and renditions alike


@pytest.mark.skipif(TEST_DB != "postgres", reason="SQLite writes one transaction at a time: no two wait on each other")
def test_a_deletion_stopped_by_a_deadlock_is_done_again_and_the_other_writer_goes_through(client, api, settings):
    photo = _upload(api, 40)
    api.wait_scored()
    writer = _HeldWriter(settings.database_url, photo["id"])
    writer.start()
    assert writer.holding.wait(10)

    # The writer holds the photo and, once this deletion waits for it, asks for the account's row, as anything
    # that updates a photo and then adds a row referring to the account would: PostgreSQL stops the deletion
    # as a deadlock, nothing of it stays, and it is done again once the writer is through.
    gone = client.request("DELETE", "/api/v1/auth/me", headers=api.headers, json={"confirm": PASSWORD})
    writer.join(20)
    assert gone.status_code == 204, gone.text
    assert writer.outcome == "committed"
    assert run_sql(settings.database_url, "SELECT count(*) FROM photos") == [(0,)]
    assert not _originals(settings)


class _HeldWriter(threading.Thread):
    """Another process's transaction: locks one photo, waits until a second session waits on a lock, then
    asks for the photo owner's row."""

    def __init__(self, database_url: str, photo_id: str) -> None:
        super().__init__(daemon=True)
        self.url = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.photo_id = uuid.UUID(photo_id)
        self.holding = threading.Event()
        self.outcome = ""

    def run(self) -> None:
        asyncio.run(self._write())

    async def _write(self) -> None:
        writer, watcher = await asyncpg.connect(self.url), await asyncpg.connect(self.url)
        try:
            async with writer.transaction():
                owner = await writer.fetchval(
                    "UPDATE photos SET caption = 'held' WHERE id = $1 RETURNING user_id", self.photo_id
                )
                self.holding.set()
                for _ in range(500):  # at most 10 s
                    if await watcher.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted"):
                        break
                    await asyncio.sleep(0.02)
                await writer.execute("SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE", owner)
            self.outcome = "committed"
        except asyncpg.DeadlockDetectedError:
            self.outcome = "stopped"
        finally:
            await writer.close()
            await watcher.close()


def test_a_photo_added_as_the_account_is_deleted_leaves_no_file(settings):
    """An upload's row written as the account was being deleted: on SQLite the deletion read the account's
    files, the upload committed, and the deletion's cascade took the new row but not its file."""
    from app.adapters.offload import run_inline
    from app.bootstrap import bootstrap
    from app.domain.model import NewPhoto
    from app.domain.services.accounts import remove_account

    async def run() -> None:
        container = bootstrap(settings, offload=run_inline)
        try:
            async with container.uow() as tx:
                user = await tx.users.add("late@example.com", container.passwords.hash("x" * 12), None)
                await tx.commit()
            key = container.storage.new_key()
            await container.storage.put_original(key, images.jpeg(seed=7))
            late = NewPhoto(user.id, "upload", "late.jpg", "image/jpeg", 800, 600, 1, "7" * 64, key)
            async with container.uow() as upload:
                await upload.photos.add(late, None, container.clock())
                deletion = asyncio.create_task(
                    remove_account(user.id, uow=container.uow, storage=container.storage, google=container.google)
                )
                await asyncio.sleep(0.5)
                await upload.commit()
            assert await deletion == 1  # it waited for the upload, and took its photo
            assert _originals(settings) == set()
        finally:
            await container.close()

    asyncio.run(run())


def test_requests_under_way_as_the_account_goes_get_4xx_not_500(client, api, settings, caplog):
    """Found by a review of races: a batch started, or a setting changed, by a request that passed its sign-in
    check just before the account went answered 500 (a foreign key to the deleted user; an assertion)."""
    ids = [_upload(api, seed)["id"] for seed in (10, 11)]
    answers: list[int] = []
    stop = threading.Event()

    def keep_asking(ask) -> None:
        while not stop.is_set():
            answers.append(ask().status_code)

    askers = [
        lambda: api.post("/api/v1/blur/analyze-batch", json={"photo_ids": ids}),
        lambda: api.post("/api/v1/photos/remove-batch", json={"photo_ids": ids[:1]}),
        lambda: api.patch("/api/v1/settings", json={"blur_threshold": 0.4}),
    ]
    threads = [threading.Thread(target=keep_asking, args=(ask,)) for ask in askers]
    for thread in threads:
        thread.start()
    while len(answers) < 6:
        stop.wait(0.01)
    gone = client.request("DELETE", "/api/v1/auth/me", headers=api.headers, json={"confirm": PASSWORD})
    stop.wait(0.3)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert gone.status_code == 204
    assert 500 not in answers and set(answers) <= {200, 202, 401, 404, 409, 503}, sorted(set(answers))
    assert "unhandled error" not in caplog.text
