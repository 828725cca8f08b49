"""App fixtures over a real database: SQLite by default, PostgreSQL with CLASSIFY_TEST_DB=postgres.

The whole suite runs on both (see scripts/test): nothing of our own storage is mocked.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.adapters.offload import run_inline
from app.adapters.sql.migrate import upgrade
from app.bootstrap import bootstrap
from app.domain.services.accounts import create_user
from app.main import create_app
from app.settings import GOOGLE_DEFAULT_ROOTS, Settings
from tests.fakes.fixtures import fake_drive, fake_dropbox, fake_google, fake_openai  # noqa: F401
from tests.support.fixtures import postgres_url, redis_url  # noqa: F401
from tests.support.servers import create_database, drop_database

TEST_DB = os.environ.get("CLASSIFY_TEST_DB", "sqlite")
PASSWORD = "correct horse battery"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL run leaves out tests that do not follow CLASSIFY_TEST_DB (the scale-out tests always run
    on PostgreSQL and Redis, arq's lease needs no database): the SQLite run has run them, the same, already."""
    if TEST_DB != "postgres":
        return
    same = [item for item in items if item.get_closest_marker("same_on_both_databases")]
    if same:
        config.hook.pytest_deselected(items=same)
        items[:] = [item for item in items if not item.get_closest_marker("same_on_both_databases")]


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    """A database brought to the newest schema by the real migrations, once a session: each test starts from a
    copy of it (migrating afresh cost 0.2 s a test on SQLite, more on PostgreSQL: minutes of the suite)."""
    if TEST_DB == "postgres":
        url = create_database(request.getfixturevalue("postgres_url"), "classify_template")
        upgrade(url)
        return url
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('migrated') / 'classify.db'}"
    upgrade(url)
    return url


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest, migrated_database: str) -> Iterator[str]:
    if TEST_DB == "postgres":
        server = request.getfixturevalue("postgres_url")
        template = migrated_database.rsplit("/", 1)[-1]
        url = create_database(server, "t_" + uuid.uuid4().hex[:12], template=template)
        yield url
        drop_database(url)
    else:
        path = tmp_path / "classify.db"
        shutil.copyfile(migrated_database.removeprefix("sqlite+aiosqlite:///"), path)
        yield f"sqlite+aiosqlite:///{path}"


def run_sql(database_url: str, sql: str, **params: Any) -> list[tuple]:
    """One statement straight on the test's database, committed, and its rows: for the states an API cannot
    make (a photo stored before a column existed, or not scored yet)."""

    async def run() -> list[tuple]:
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(sql), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def make_settings(data_dir: Path, database_url: str, **changes: Any) -> Settings:
    data_dir.mkdir(parents=True, exist_ok=True)
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "score_workers": 1,
        "service_roots": {key: default for key, (_, default) in GOOGLE_DEFAULT_ROOTS.items()},
    }
    values.update(changes)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url)


def create_account(settings: Settings, email: str, password: str = PASSWORD) -> None:
    async def create() -> None:
        container = bootstrap(settings, offload=run_inline)
        try:
            await create_user(email, password, uow=container.uow, passwords=container.passwords)
        finally:
            await container.close()

    asyncio.run(create())


class Api:
    """A signed-in API client: the tests read like the calls a user's script would make."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers=self.headers, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.client.patch(url, headers=self.headers, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers=self.headers, **kw)

    def upload(self, *files: tuple[str, bytes]) -> Any:
        return self.post("/api/v1/photos", files=[("files", (name, data)) for name, data in files])

    def wait_scored(self, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            body = self.get("/api/v1/photos?limit=1").json()
            if body["counts"]["unprocessed"] == 0:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"photos still unprocessed after {timeout}s: {body['counts']}")
            time.sleep(0.1)


def login(client: TestClient, email: str, password: str = PASSWORD) -> Api:
    response = client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return Api(client, response.json()["access_token"])


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    # Threads instead of worker processes keep each test fast; the process pool has tests of its own.
    container = bootstrap(settings, offload=run_inline)
    with TestClient(app=create_app(settings, container)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, settings: Settings) -> Api:
    create_account(settings, "owner@example.com")
    return login(client, "owner@example.com")


@pytest.fixture
def other_api(client: TestClient, settings: Settings) -> Api:
    create_account(settings, "other@example.com")
    return login(client, "other@example.com")
