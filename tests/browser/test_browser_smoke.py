"""Smoke test of the browser tooling: Debian chromium + Playwright against a static page."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.support.live_server import LiveServer

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>smoke</title></head>
<body>
  <button id="go" onclick="document.getElementById('out').textContent = 'clicked'">Go</button>
  <p id="out">waiting</p>
</body></html>
"""


def test_chromium_loads_a_page_and_clicks(
    page: Page, make_live_server: Callable[..., LiveServer], screenshot_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "index.html").write_text(PAGE, encoding="utf-8")
    server = make_live_server(
        {},
        command=[sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        ready_path="/",
        timeout=20,
    )
    page.goto(server.url + "/")
    expect(page).to_have_title("smoke")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#out")).to_have_text("clicked")
    shot = screenshot_dir / "smoke.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 0
