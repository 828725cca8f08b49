"""Session-scoped server fixtures. Import them into a conftest.py:

    from tests.support.fixtures import postgres_url, redis_url  # noqa: F401

``postgres_url``  postgresql+asyncpg://postgres@127.0.0.1:PORT/classify_test, one server per test session
``redis_url``     redis://127.0.0.1:PORT/0, one server per test session (flush it yourself between tests)
``postgres_module_url``  a fresh empty database per test module on the session's server

Set CLASSIFY_TEST_POSTGRES_URL / CLASSIFY_TEST_REDIS_URL to use an existing server instead.
A missing binary fails the test with a hint to run `.ci/install-system-deps`; it is not skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.support.servers import create_database, drop_database, postgres_server, redis_server

__all__ = ["postgres_module_url", "postgres_url", "redis_url"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    external = os.environ.get("CLASSIFY_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    external = os.environ.get("CLASSIFY_TEST_REDIS_URL")
    if external:
        yield external
        return
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def postgres_module_url(postgres_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database for the current test module, dropped afterwards."""
    name = "t_" + re.sub(r"[^a-z0-9_]", "_", request.module.__name__.rsplit(".", 1)[-1].lower())[:50]
    url = create_database(postgres_url, name)
    yield url
    drop_database(url)
