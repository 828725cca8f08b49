"""Error answers in the page: shown where an action was taken, never blanking what a background refresh updates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests import images
from tests.browser.conftest import create_owner_with_cli, sign_in, upload_as_owner
from tests.support.live_server import LiveServer, live_server

BUSY = '<p class="error" role="alert">The database is busy; try again.</p>'


@pytest.fixture
def server_with_a_waiting_photo(tmp_path: Path) -> Iterator[LiveServer]:
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "CLASSIFY_RUN_WORKER": "0"}
    create_owner_with_cli(env)
    # No worker runs, so the photo stays unprocessed and the gallery keeps polling its counts.
    with live_server(env) as server:
        upload_as_owner(server, [("waiting.jpg", images.jpeg(seed=3))])
        yield server


def test_a_failed_background_refresh_keeps_the_tabs(page: Page, server_with_a_waiting_photo: LiveServer):
    failed = []

    def busy(route: Route) -> None:
        failed.append(route.request.url)
        route.fulfill(status=503, body=BUSY, content_type="text/html")

    sign_in(page, server_with_a_waiting_photo)
    expect(page.locator('[data-count="unprocessed"]')).to_have_text("1")
    page.route("**/photos/counts*", busy)
    page.wait_for_timeout(4500)  # two of the tabs' 2-second polls
    assert len(failed) >= 2  # the poll kept going after the first error
    expect(page.locator('[data-count="unprocessed"]')).to_have_text("1")
    expect(page.locator("#tabs-wrap")).not_to_contain_text("busy")

    # An action's error still shows, where the action was taken.
    page.route("**/jobs/score", lambda route: route.fulfill(status=503, body=BUSY, content_type="text/html"))
    page.get_by_role("button", name="Score unprocessed photos").click()
    expect(page.locator("#job-area [role=alert]")).to_have_text("The database is busy; try again.")


def test_a_refused_cancel_keeps_the_job_card_and_says_why(page: Page, server_with_a_waiting_photo: LiveServer):
    sign_in(page, server_with_a_waiting_photo)
    page.get_by_role("button", name="Score unprocessed photos").click()
    card = page.locator("#job-area article.job")
    expect(card.get_by_role("button", name="Cancel")).to_be_visible()  # no worker runs: the job waits

    refused = '<p class="error" role="alert">This job has already finished.</p>'
    page.route("**/jobs/*/cancel", lambda route: route.fulfill(status=409, body=refused, content_type="text/html"))
    card.get_by_role("button", name="Cancel").click()
    expect(card.get_by_role("alert")).to_have_text("This job has already finished.")
    expect(card.locator(".job-progress")).to_be_visible()  # the card, its progress and its button stay
    expect(card.get_by_role("button", name="Cancel")).to_be_visible()
