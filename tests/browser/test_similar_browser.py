"""Similar shots in a real browser: a burst shows as one group with its sharpest frame marked, reached
from the header by keyboard; a blurred frame's page leads to the sharp one; "Remove only the blurred" keeps
the sharp ones, and "Keep the sharpest" removes the others."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from conftest import assert_accessible, create_owner_with_cli, screenshot_both, sign_in, upload_as_owner
from playwright.sync_api import Page, expect

from tests import images
from tests.support.live_server import live_server

T0 = dt.datetime(2026, 5, 1, 14, 3, 0)
SCORING_TIMEOUT = 30_000  # ms


def test_a_burst_is_one_group_with_its_sharpest_frame_marked(page: Page, tmp_path: Path, screenshot_dir: Path) -> None:
    env = {"CLASSIFY_DATA_DIR": str(tmp_path / "data")}
    create_owner_with_cli(env)
    with live_server(env, timeout=60) as server:
        sign_in(page, server)
        page.goto(server.url + "/similar")
        expect(page.get_by_role("heading", name="No similar shots")).to_be_visible()

        burst = [
            (f"burst-{i}.jpg", images.shot(1, T0 + dt.timedelta(seconds=i), shift=2 * i, sigma=sigma))
            for i, sigma in enumerate([4.0, 0.0, 2.5, 0.5])  # two blurred frames, two sharp
        ]
        upload_as_owner(server, [*burst, ("alone.jpg", images.shot(2, T0 + dt.timedelta(minutes=3)))])

        page.goto(server.url + "/")
        page.get_by_role("link", name="Similar shots").focus()
        page.keyboard.press("Enter")
        expect(page).to_have_url(server.url + "/similar")
        group = page.locator("section.similar-group")
        expect(group).to_have_count(1)
        expect(group.get_by_role("heading")).to_contain_text("4 shots")
        expect(group.locator("li.photo-card")).to_have_count(4)
        # scored in the background: reload until every frame has its score
        for _ in range(60):
            if page.locator(".badge-pending").count() == 0:
                break
            page.wait_for_timeout(500)
            page.reload()
        best = page.locator("li.best-shot")
        expect(best).to_have_count(1)
        expect(best.locator(".photo-name")).to_have_text("burst-1.jpg")
        expect(best.locator(".badge-best")).to_have_text("Sharpest")
        assert_accessible(page)
        screenshot_both(page, screenshot_dir, "similar-shots")

        # a blurred frame's page points to the sharp one
        group.locator("li.photo-card").filter(has_text="burst-0.jpg").get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("burst-0.jpg")
        page.get_by_role("link", name="burst-1.jpg").click()
        expect(page).to_have_url(re.compile(r"/photos/[0-9a-f-]+$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text("burst-1.jpg")
        expect(page.get_by_text("this is the sharpest")).to_be_visible()
        assert_accessible(page)
        screenshot_both(page, screenshot_dir, "similar-shots-photo")

        page.goto(server.url + "/similar")
        messages: list[str] = []
        page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
        page.get_by_role("button", name="Remove only the 2 blurred").click()
        expect(group.get_by_role("heading")).to_contain_text("2 shots")
        assert "keep the 2 sharp ones" in messages[0]
        expect(page.get_by_role("button", name="Remove only")).to_have_count(0)

        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Keep the sharpest, remove the other shot").click()
        expect(page.get_by_role("heading", name="No similar shots")).to_be_visible()
        page.goto(server.url + "/photos?filter=all")
        names = page.locator("li.photo-card .photo-name")
        expect(names).to_have_count(2)
        assert sorted(names.all_inner_texts()) == ["alone.jpg", "burst-1.jpg"]
