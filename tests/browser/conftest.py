"""Generic Playwright fixtures (nothing app-specific here).

Browser tests run in their OWN pytest invocation, without pytest-asyncio:

    .venv/bin/pytest tests/browser -p no:asyncio

pytest-playwright's sync ``page`` fixture runs an event loop of its own; in the same session as
pytest-asyncio tests that breaks the async tests ("Runner.run() cannot be called from a running event
loop", microsoft/playwright-pytest#167). So when a run mixes browser tests with other tests while
pytest-asyncio is loaded, the browser tests are skipped with a reason saying how to run them.

The browser is Debian's /usr/bin/chromium (`.ci/install-system-deps`); Playwright's own browser
download is not possible here.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# tests/browser has no __init__.py, so pytest puts tests/browser (not the repo root) on sys.path and
# `tests.support` would not import. Harmless once pyproject sets `pythonpath = ["."]`.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.support.live_server import LiveServer, live_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps dialling Google's hosts, which this closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_DIR = Path(__file__).resolve().parent
SCREENSHOT_DIR = BROWSER_DIR / "screenshots"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.has_plugin("asyncio"):
        return
    browser = [item for item in items if BROWSER_DIR in Path(str(item.path)).resolve().parents]
    if not browser or len(browser) == len(items):
        return
    skip = pytest.mark.skip(reason="browser tests run separately: pytest tests/browser -p no:asyncio")
    for item in browser:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} not found; run `.ci/install-system-deps` (as root) to install chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """tests/browser/screenshots/ (created if needed; git-ignored)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture(scope="session")
def make_live_server() -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``make_live_server(env, **live_server_kwargs)`` starts a server and returns it.

    Takes the same keyword arguments as :func:`tests.support.live_server.live_server`; every server it
    started is stopped at the end of the session (or earlier with ``server.close()``).
    """
    with contextlib.ExitStack() as stack:

        def make(env: dict[str, str], **kwargs: Any) -> LiveServer:
            return stack.enter_context(live_server(env, **kwargs))

        yield make
