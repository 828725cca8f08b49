"""Error answers in the page: shown where an action was taken, never blanking what a background refresh updates;
and the grid's next page, which a failure must not take away."""

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


def test_the_tabs_poll_updates_the_tabs_and_leaves_the_grid(page: Page, server_with_a_waiting_photo: LiveServer):
    # The gallery's refresh targets the gallery; the tabs inside it poll and must replace only themselves.
    sign_in(page, server_with_a_waiting_photo)
    for _ in range(2):  # two polls answered and swapped in
        with page.expect_response("**/photos/counts*"):
            pass
    page.wait_for_timeout(500)
    expect(page.locator("#gallery li.photo-card")).to_have_count(1)
    expect(page.locator("#gallery #tabs-wrap [data-count=unprocessed]")).to_have_text("1")


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


@pytest.fixture
def server_with_two_pages(tmp_path: Path) -> Iterator[LiveServer]:
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data")}
    create_owner_with_cli(env)
    with live_server(env) as server:
        upload_as_owner(server, [(f"p{i}.jpg", images.jpeg(160, 120, seed=100 + i)) for i in range(50)])
        yield server


def test_a_failed_next_page_keeps_the_grid_and_its_link(page: Page, server_with_two_pages: LiveServer):
    sign_in(page, server_with_two_pages)
    expect(page.locator("li.photo-card")).to_have_count(48)  # the first page
    page.route("**/photos?filter=all&cursor=*", lambda route: route.fulfill(status=503, body=BUSY))
    page.locator("li.load-more").scroll_into_view_if_needed()
    more = page.locator("li.load-more")
    expect(more.get_by_role("alert")).to_have_text("The database is busy; try again.")
    expect(more.get_by_role("link", name="More photos…")).to_be_visible()  # still a way on
    expect(page.locator("li.photo-card")).to_have_count(48)


def test_scrolling_to_the_end_of_the_grid_loads_the_next_page(page: Page, server_with_two_pages: LiveServer):
    sign_in(page, server_with_two_pages)
    expect(page.locator("li.photo-card")).to_have_count(48)
    page.locator("li.load-more").scroll_into_view_if_needed()
    expect(page.locator("li.photo-card")).to_have_count(50)
    expect(page.locator("li.load-more")).to_have_count(0)  # that was the last page
