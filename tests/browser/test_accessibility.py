"""Every page passes axe-core's WCAG 2.2 A and AA rules (contrast included) in the light and the dark
colour scheme, as DESIGN §10 asks: the sign-in page, the gallery with photos and empty, a sharp and a
blurred photo with its sharpness map shown, statistics, similar shots, jobs, system and settings. The other browser
tests check the pages they reach on their way (first run, a failed sign-in, a job's progress, the album
page) with the same rules."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import OWNER, accessibility_violations, create_owner_with_cli, sign_in, upload_as_owner
from playwright.sync_api import Page

from tests import images
from tests.support.live_server import LiveServer, live_server


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """A server whose owner has fourteen photos, eight sharp, four blurred and a burst of two, scored; and their ids.

    Twelve, so that a tab's count has two digits: axe leaves a single character's contrast unjudged."""
    env = {"CLASSIFY_DATA_DIR": str(tmp_path_factory.mktemp("classify-data"))}
    create_owner_with_cli(env)
    with live_server(env, timeout=60) as server:
        sharp = [(f"sharp-{i}.jpg", images.jpeg(640, 480, seed=i)) for i in range(8)]
        blurred = [(f"blurred-{i}.jpg", images.blurred_jpeg(640, 480, sigma=8, seed=20 + i)) for i in range(4)]
        taken = dt.datetime(2026, 5, 1, 14, 3)
        burst = [(f"burst-{i}.jpg", images.shot(40, taken + dt.timedelta(seconds=i), sigma=3.0 * i)) for i in range(2)]
        upload_as_owner(server, sharp + blurred + burst)
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_meets_wcag_aa(page: Page, library: tuple[LiveServer, dict[str, str]], scheme: str) -> None:
    server, ids = library
    page.emulate_media(color_scheme=scheme)
    page.goto(server.url + "/login")
    found = [accessibility_violations(page)]
    sign_in(page, server)
    for path in (
        "/",
        "/photos?filter=blurred",
        "/photos?filter=unprocessed",  # the empty state
        f"/photos/{ids['sharp-0.jpg']}",
        f"/photos/{ids['blurred-0.jpg']}?filter=blurred",
        "/stats",
        "/similar",
        "/jobs",
        "/system",
        "/settings",
    ):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        found.append(accessibility_violations(page))
        if path.startswith("/photos/"):  # the sharpness map laid over the photo
            page.get_by_text("Show the sharpness map").click()
            found.append(accessibility_violations(page))
    report = "\n".join(f for f in found if f)
    assert not report, report
