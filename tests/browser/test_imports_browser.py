"""A shared folder imported from the gallery: a bad link says what to paste; a good one shows its job and photos."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import images
from tests.browser.conftest import create_owner
from tests.fakes.dropbox_fake import FakeDropbox
from tests.support.live_server import LiveServer, live_server


@pytest.fixture
def server_with_dropbox(tmp_path: Path, fake_dropbox: FakeDropbox) -> Iterator[LiveServer]:
    env = {
        "CLASSIFY_DATA_DIR": str(tmp_path / "data"),
        "DROPBOX_APP_KEY": fake_dropbox.app_key,
        "DROPBOX_APP_SECRET": fake_dropbox.app_secret,
        "DROPBOX_API": fake_dropbox.api_root,
        "DROPBOX_CONTENT_API": fake_dropbox.content_root,
    }
    with live_server(env) as server:
        yield server


def test_a_shared_folder_imported_from_the_gallery_lands_in_it(
    page: Page, server_with_dropbox: LiveServer, fake_dropbox: FakeDropbox
):
    create_owner(page, server_with_dropbox)
    expect(page.locator('[data-count="all"]')).to_have_text("0")
    page.get_by_text("Import a shared Dropbox folder").click()  # the one service set up here
    link = page.get_by_label("Import from a link")

    # A link to neither service is refused where it was pasted, with what to paste instead.
    link.fill("https://example.com/holiday")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#job-area [role=alert]")).to_contain_text("Paste the link of a shared Google Drive folder")
    link.fill("www.dropbox.com/scl/fo/abc/holiday")  # without its https://: said by Classify, not held by the browser
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#job-area [role=alert]")).to_contain_text("Paste the whole link, starting with https://")

    photos = [("beach.jpg", images.jpeg(seed=1)), ("pier.jpg", images.jpeg(seed=2))]
    url = fake_dropbox.add_shared_folder("Trip", photos)
    link.fill(url)
    page.get_by_role("button", name="Import", exact=True).dblclick()  # an impatient double click: one import
    job = page.locator("#job-area article.job")
    expect(job.locator(".job-status")).to_have_text("done", timeout=60_000)
    # The grid and its counts follow without a reload.
    expect(page.locator('[data-count="all"]')).to_have_text("2", timeout=10_000)
    expect(page.locator("#grid .photo-card")).to_have_count(2)
    page.goto(server_with_dropbox.url + "/jobs")
    expect(page.locator("article.job")).to_have_count(1)
    # started on the Jobs page itself: shown there, and not announced as a job started elsewhere
    again = fake_dropbox.add_shared_folder("More", [("dock.jpg", images.jpeg(seed=3))])
    page.get_by_label("Import from a link").fill(again)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#job-area .job-status")).to_have_text("done", timeout=60_000)
    page.wait_for_timeout(6_000)  # past the page's next question
    expect(page.locator("#jobs-new")).to_have_text("")


def test_the_gallery_follows_an_import_as_its_photos_arrive(
    page: Page, server_with_dropbox: LiveServer, fake_dropbox: FakeDropbox
):
    """The grid and counts stood still for the whole of an import, then jumped at its end."""
    create_owner(page, server_with_dropbox)
    fake_dropbox.download_delay = 0.6  # a slow network: about 7 s for the folder
    url = fake_dropbox.add_shared_folder("Slow", [(f"s{i}.jpg", images.jpeg(seed=30 + i)) for i in range(12)])
    page.get_by_text("Import a shared Dropbox folder").click()
    page.get_by_label("Import from a link").fill(url)
    page.get_by_role("button", name="Import", exact=True).click()
    count = page.locator('[data-count="all"]')
    expect(count).not_to_have_text("0", timeout=15_000)
    assert page.locator("#job-area .job-status").inner_text() != "done", "only at the end"
    assert int(count.inner_text()) < 12
    expect(page.locator("#job-area .job-status")).to_have_text("done", timeout=60_000)
    expect(count).to_have_text("12", timeout=10_000)
    expect(page.locator("#grid .photo-card")).to_have_count(12)
