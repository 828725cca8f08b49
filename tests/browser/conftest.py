"""Playwright fixtures and the helpers the browser tests share (server, owner account, sign-in, screenshots).

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
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

# tests/browser has no __init__.py, so pytest puts tests/browser (not the repo root) on sys.path and
# `tests.support` would not import. Harmless once pyproject sets `pythonpath = ["."]`.
_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

from tests.support.live_server import APP_CLI, LiveServer, live_server  # noqa: E402

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


# --------------------------------------------------------------------------------------- the app


@dataclass(frozen=True)
class Owner:
    name: str
    email: str
    password: str


OWNER = Owner(name="Ada Lovelace", email="ada@example.com", password="correct horse battery staple")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The account menu in the top bar. Not just `details.dropdown summary`: the gallery's "Export ..." menu
# is a `details.dropdown` too, so that selector matches two elements once there are photos.
ACCOUNT_MENU = 'details.dropdown summary[aria-label$=": account menu"]'


def _start_app(data_dir: Path) -> contextlib.AbstractContextManager[LiveServer]:
    # `classify serve` with its own data folder: SQLite in it, migrations applied at start.
    return live_server({"CLASSIFY_DATA_DIR": str(data_dir)}, timeout=60)


@pytest.fixture
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A fresh `classify serve` (empty data folder, no account yet) for one test."""
    with _start_app(tmp_path_factory.mktemp("classify-data")) as server:
        yield server


@pytest.fixture(scope="module")
def module_app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A fresh `classify serve` shared by the tests of one module (no account yet)."""
    with _start_app(tmp_path_factory.mktemp("classify-data")) as server:
        yield server


def create_owner(page: Page, server: LiveServer, owner: Owner = OWNER) -> None:
    """First run through the setup form; ends signed in on the gallery."""
    page.goto(server.url + "/setup")
    page.get_by_label("Name").fill(owner.name)
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password", exact=True).fill(owner.password)
    page.get_by_label("Password again").fill(owner.password)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(server.url + "/")
    expect(page.locator(ACCOUNT_MENU)).to_contain_text(owner.name)


def create_owner_with_cli(env: dict[str, str]) -> None:
    """The owner's account made with `classify users create`, before any server runs on this data dir."""
    subprocess.run(
        [sys.executable, "-c", APP_CLI, "users", "create", OWNER.email, "--name", OWNER.name, "--password-stdin"],
        input=OWNER.password,
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )


def upload_as_owner(server: LiveServer, files: list[tuple[str, bytes]]) -> None:
    """Photos added through the API with the owner's bearer token; every one must be new."""
    login = {"email": OWNER.email, "password": OWNER.password}
    token = httpx.post(f"{server.url}/api/v1/auth/login", json=login).json()["access_token"]
    response = httpx.post(
        f"{server.url}/api/v1/photos",
        files=[("files", item) for item in files],
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    assert response.status_code == 201, response.text


def sign_in(page: Page, server: LiveServer, owner: Owner = OWNER, *, path: str = "/login") -> None:
    """Sign in through the login form (``path`` may be a protected page that redirects there)."""
    page.goto(server.url + path)
    expect(page).to_have_url(re.compile(re.escape(server.url) + r"/login"))
    assert_served_as_html(page)
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(ACCOUNT_MENU)).to_contain_text(owner.name)


def assert_served_as_html(page: Page) -> None:
    """The page now shown came with Content-Type text/html (else Chromium shows its markup as text)."""
    content_type = page.evaluate("() => document.contentType")
    assert content_type == "text/html", f"{page.url} is served as {content_type!r}, so the browser shows raw markup"


WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
_AXE = Axe()


def accessibility_violations(page: Page) -> str:
    """axe-core's WCAG 2.2 A and AA findings on the page as shown now, as a report ("" when none)."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = _AXE.run(page, options=options)
    return "" if results.violations_count == 0 else f"{page.url}\n{results.generate_report()}"


def assert_accessible(page: Page) -> None:
    report = accessibility_violations(page)
    assert not report, report


def sign_out(page: Page) -> None:
    page.locator(ACCOUNT_MENU).click()
    page.get_by_role("button", name="Sign out").click()


def screenshot_both(page: Page, screenshot_dir: Path, name: str) -> list[Path]:
    """Full-page screenshots at desktop (1280×800) and phone (390×844) widths; the viewport is restored."""
    before = page.viewport_size
    shots = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(100)  # let the layout settle after the resize
        path = screenshot_dir / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        shots.append(path)
    if before:
        page.set_viewport_size(before)
    return shots
