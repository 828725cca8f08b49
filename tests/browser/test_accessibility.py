"""Every page passes axe-core's WCAG 2.2 A and AA rules (contrast included) in the light and the dark
colour scheme, as DESIGN §10 asks: the sign-in page, the gallery with photos and empty, a sharp and a
blurred photo with its sharpness map shown, statistics, jobs, system and settings."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from conftest import OWNER, create_owner_with_cli, sign_in, upload_as_owner
from playwright.sync_api import Page

from tests import images
from tests.support.live_server import LiveServer, live_server

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
AXE = Axe()


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """A server whose owner has one sharp and one blurred photo, scored; and their ids."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path_factory.mktemp("classify-data"))}
    create_owner_with_cli(env)
    with live_server(env, timeout=60) as server:
        upload_as_owner(server, [("sharp.jpg", images.jpeg(800, 600, seed=1))])
        upload_as_owner(server, [("blurred.jpg", images.blurred_jpeg(800, 600, sigma=8, seed=2))])
        yield server, _scored_ids(server)


def _scored_ids(server: LiveServer) -> dict[str, str]:
    login = {"email": OWNER.email, "password": OWNER.password}
    token = httpx.post(f"{server.url}/api/v1/auth/login", json=login).json()["access_token"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        listing = httpx.get(f"{server.url}/api/v1/photos", headers={"Authorization": f"Bearer {token}"}).json()
        if listing["counts"]["unprocessed"] == 0:
            return {item["filename"]: item["id"] for item in listing["items"]}
        time.sleep(0.2)
    raise AssertionError("the photos were not scored within 30 s")


def _violations(page: Page) -> str:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]})
    return "" if results.violations_count == 0 else f"{page.url}\n{results.generate_report()}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_meets_wcag_aa(page: Page, library: tuple[LiveServer, dict[str, str]], scheme: str) -> None:
    server, ids = library
    page.emulate_media(color_scheme=scheme)
    page.goto(server.url + "/login")
    found = [_violations(page)]
    sign_in(page, server)
    for path in (
        "/",
        "/photos?filter=blurred",
        "/photos?filter=unprocessed",  # the empty state
        f"/photos/{ids['sharp.jpg']}",
        f"/photos/{ids['blurred.jpg']}?filter=blurred",
        "/stats",
        "/jobs",
        "/system",
        "/settings",
    ):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        found.append(_violations(page))
        if path.startswith("/photos/"):  # the sharpness map laid over the photo
            page.get_by_text("Show the sharpness map").click()
            found.append(_violations(page))
    report = "\n".join(f for f in found if f)
    assert not report, report
