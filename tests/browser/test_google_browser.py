"""Google in a real browser, against the local fake: sign in, pick 120 photos, import, score, album."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import assert_accessible
from playwright.sync_api import Page, expect

from app.settings import GOOGLE_DEFAULT_ROOTS
from tests.fakes.google import FakeGoogle, running_fake_google
from tests.support.live_server import LiveServer, live_server

PICKED = 120


@pytest.fixture
def google_setup(tmp_path: Path) -> Iterator[tuple[LiveServer, FakeGoogle]]:
    with running_fake_google() as fake:
        fake.fill_library(130)
        env = {
            "CLASSIFY_DATA_DIR": str(tmp_path / "data"),
            "GOOGLE_CLIENT_ID": fake.client_id,
            "GOOGLE_CLIENT_SECRET": fake.client_secret,
            **{GOOGLE_DEFAULT_ROOTS[key][0]: url for key, url in fake.service_roots().items()},
        }
        with live_server(env, timeout=60) as server:
            yield server, fake


def consent(page: Page) -> None:
    expect(page.locator("#allow")).to_be_visible()
    page.locator("#allow").click()


def test_sign_in_pick_import_and_save_keepers_as_an_album(page: Page, google_setup) -> None:
    server, fake = google_setup
    page.goto(server.url + "/auth/google/login")  # a Google account creates its Classify account
    consent(page)
    expect(page.locator("details.dropdown summary")).to_contain_text(fake.next_user.name)
    assert fake.last_authorization.pkce and fake.last_authorization.pkce_verified

    page.get_by_role("button", name="Pick from Google Photos").click()
    expect(page.get_by_text("Waiting for your selection")).to_be_visible()
    page.get_by_role("button", name="Cancel", exact=True).click()  # a change of mind: Google forgets it too
    expect(page.get_by_role("status").filter(has_text="Picking cancelled")).to_be_visible()
    assert fake.calls("/picker/v1/sessions/", "DELETE")

    page.get_by_role("button", name="Pick from Google Photos").click()
    expect(page.get_by_text("Waiting for your selection")).to_be_visible()
    with page.context.expect_page() as picker_tab:
        page.locator("#open-picker").click()
    picker = picker_tab.value
    picker.wait_for_load_state()
    picker.evaluate(
        f"() => [...document.querySelectorAll('input[name=item]')].slice(0, {PICKED})"
        ".forEach(box => box.checked = true)"
    )
    picker.locator("#done").click()
    # Not waited for: on a loaded machine a waited close of this tab once hung past the test's timeout
    # (CI run of cf32fc6); the rest of the test happens in the first tab.
    picker.close(run_before_unload=True)

    job = page.locator("article.job")
    expect(job.locator(".job-status")).to_have_text("done", timeout=90_000)
    expect(job.locator("[data-done]")).to_have_text(str(PICKED))
    page.reload()
    expect(page.locator("span.count[data-count=all]")).to_have_text(str(PICKED))
    expect(page.locator("span.count[data-count=unprocessed]")).to_have_text("0", timeout=90_000)
    keepers = int(page.locator("span.count[data-count=not_blurred]").inner_text())
    assert keepers > 0

    page.goto(server.url + "/google/album")
    page.locator("#allow-albums").click()  # album permission is asked for only now
    consent(page)
    expect(page).to_have_url(re.compile(r"/google/album$"))
    expect(page.get_by_text("Uploads count against your Google storage")).to_be_visible()
    expect(page.locator("[data-keepers]")).to_have_text(str(keepers))
    assert_accessible(page)
    page.get_by_label("Album title").fill("Keepers from the fake")
    page.get_by_role("button", name="Create the album").focus()
    page.keyboard.press("Enter")
    album_job = page.locator("article.job")
    expect(page.locator("#job-area")).to_be_focused()  # where the album's job is, not the page's top
    expect(album_job.locator(".job-status")).to_have_text("done", timeout=90_000)
    expect(album_job.locator(".album-link a")).to_have_text("Keepers from the fake")
    assert_accessible(page)

    album = next(iter(fake.albums.values()))
    assert len(album.items) == keepers
    assert all(len(c.json["newMediaItems"]) <= 50 for c in fake.calls("/library/v1/mediaItems:batchCreate"))
    assert all(c.headers.get("x-goog-upload-protocol") == "raw" for c in fake.calls("/library/v1/uploads"))
    downloads = fake.calls("/media")
    assert len(downloads) == PICKED and all(c.path.endswith("=d") and c.bearer for c in downloads)
    assert all(c.bearer for c in fake.requests if c.path.startswith(("/picker", "/library", "/media")))
    assert not any(token in server.read_log() for token in fake.tokens)
