"""A batch started in the browser shows live progress (Server-Sent Events) and finishes without a reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import images
from tests.browser.conftest import assert_accessible, create_owner_with_cli, sign_in, upload_as_owner
from tests.support.live_server import LiveServer, live_server

PHOTOS = 60


@pytest.fixture
def server_with_a_backlog(tmp_path: Path) -> Iterator[LiveServer]:
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data"), "CLASSIFY_SCORE_WORKERS": "1"}
    create_owner_with_cli(env)
    # Photos arrive while no worker runs, so they wait unscored for the batch the test starts.
    with live_server({**env, "CLASSIFY_RUN_WORKER": "0"}) as idle:
        for start in range(0, PHOTOS, 30):
            upload_as_owner(idle, [(f"p{i}.jpg", images.jpeg(2400, 1800, seed=i)) for i in range(start, start + 30)])
    with live_server(env) as server:
        yield server


def test_batch_progress_moves_and_finishes_without_reloading(page: Page, server_with_a_backlog: LiveServer):
    sign_in(page, server_with_a_backlog)
    page.evaluate("""() => {
        window.__noReload = true;
        window.__seen = [];
        new MutationObserver(() => {
            for (const bar of document.querySelectorAll('.job progress')) window.__seen.push(Number(bar.value));
        }).observe(document.body, {subtree: true, childList: true, attributes: true});
    }""")
    page.get_by_role("button", name="Score unprocessed photos").click()
    job = page.locator("article.job")
    expect(job).to_be_visible()
    job.get_by_role("button", name="Cancel").focus()  # where a keyboard user waits
    expect(job.locator(".job-status")).to_have_text("done", timeout=60_000)
    # the finished job replaced the running one: it is said aloud, and the focus stays with the job
    expect(page.locator("#job-news")).to_contain_text(f"Blur scoring: done. {PHOTOS} done, 0 failed of {PHOTOS}")
    expect(job).to_be_focused()
    seen = page.evaluate("() => window.__seen")
    total = int(job.locator("[data-total]").inner_text())
    assert total > 0 and max(seen) == total, seen
    assert any(0 < value < total for value in seen), f"the bar never showed a step between 0 and {total}: {seen}"
    assert page.evaluate("() => window.__noReload") is True  # the same page all along
    assert_accessible(page)  # the finished job card, as it was swapped in
    expect(page.locator("span.count[data-count=unprocessed]")).to_have_text("0", timeout=30_000)
