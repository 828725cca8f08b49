"""The keyboard's focus survives what htmx replaces under it, and menus and shortcuts behave for the keyboard.

Here the server leaves its tasks to workers (CLASSIFY_RUN_WORKER=0) and none runs, so the photos stay
unprocessed: the gallery's tabs and an unscored photo's page keep polling for scores all through the test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from conftest import ACCOUNT_MENU, create_owner_with_cli, sign_in, upload_as_owner
from playwright.sync_api import Page, expect

from tests import images
from tests.support.live_server import LiveServer, live_server

POLLS = 4_500  # ms: two of the pages' 2-s polls


@pytest.fixture(scope="module")
def unscored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = {
        "CLASSIFY_DATA_DIR": str(tmp_path_factory.mktemp("classify-data")),
        "CLASSIFY_RUN_WORKER": "0",
        "CLASSIFY_IMPORT_ROOT": str(tmp_path_factory.mktemp("server-folders")),  # the gallery's Import panel
    }
    create_owner_with_cli(env)
    with live_server(env, timeout=60) as server:
        for first in (0, 50):  # 48 a page; at most 50 files a request
            upload_as_owner(server, [(f"p{i:02}.jpg", images.jpeg(64, 48, seed=i)) for i in range(first, first + 50)])
        yield server


def test_the_focus_stays_on_a_tab_while_the_counts_poll(page: Page, unscored: LiveServer) -> None:
    sign_in(page, unscored)
    tab = page.locator("#tab-blurred")
    tab.focus()
    page.wait_for_timeout(POLLS)
    expect(tab).to_be_focused()


def test_the_focus_stays_on_an_unscored_photos_page_while_it_waits(page: Page, unscored: LiveServer) -> None:
    sign_in(page, unscored)
    page.locator("#grid a.photo-link").first.click()
    expect(page.locator(".verdict")).to_have_text("Waiting to be scored…")
    download = page.get_by_role("button", name="Download original")
    download.focus()
    page.wait_for_timeout(POLLS)
    expect(download).to_be_focused()


def test_a_photo_scored_while_its_page_is_open_shows_its_map_and_its_place(page: Page, unscored: LiveServer) -> None:
    """The verdict swapped in when a worker scores the photo brings a sharpness-map switch that works, and the
    photo's place in the tab it was opened from as it is now (it has left Unprocessed)."""
    import json
    import sqlite3

    sign_in(page, unscored)
    page.goto(unscored.url + "/photos?filter=unprocessed")
    expect(page.locator("#grid li.photo-card")).to_have_count(48)
    page.locator("#grid a.photo-link").nth(3).click()
    expect(page.locator(".verdict")).to_have_text("Waiting to be scored…")
    expect(page.locator(".photo-place")).to_contain_text("4 of 100")
    filename = page.locator("h1.photo-title").inner_text()
    details = {"sharpness_map": [[0.1, 0.9], [0.2, 0.8]], "reasons": ["out of focus"], "blur_kind": "defocus"}
    database = sqlite3.connect(f"{unscored.env['CLASSIFY_DATA_DIR']}/classify.db")
    scored = "UPDATE photos SET blur_score = ?, blur_kind = ?, blur_details = ?, scored_at = ? WHERE filename = ?"
    try:  # what a worker writes when it scores the photo
        with database:
            database.execute(scored, (0.9, "defocus", json.dumps(details), "2026-01-01 00:00:00.000000", filename))
        expect(page.locator(".verdict")).to_have_attribute("data-verdict", "blurred", timeout=POLLS)
        expect(page.locator("#photo-news")).to_have_text("Scored: blurred, score 0.900.")  # read out where it waits
        expect(page.locator(".photo-place")).to_have_count(0)  # no longer one of the tab's photos
        page.locator("#map-toggle").check()
        expect(page.locator("#sharpness-map")).to_be_visible()
        expect(page.locator("#map-words")).to_have_text("Sharp: top right, bottom right. Soft: top left, bottom left.")
    finally:
        with database:
            database.execute(scored, (None, None, None, None, filename))
        database.close()


def test_a_threshold_between_the_sliders_steps_stays_under_the_arrows(page: Page, unscored: LiveServer) -> None:
    """A threshold of 0.2559 (a suggestion taken) read 0.26 and was saved as 0.26 at the first nudge and back."""
    sign_in(page, unscored)
    slider, said = page.locator("#threshold"), page.locator("#threshold-saved")
    page.evaluate("""() => {  // as the suggestion's button sets it
        const range = document.getElementById("threshold");
        range.step = "any"; range.value = "0.2559"; range.dispatchEvent(new Event("change", {bubbles: true}));
    }""")
    expect(said).to_have_text("Saved: 0.2559")
    page.reload()
    expect(page.locator("#threshold-value")).to_have_text("0.2559")
    slider.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#threshold-value")).to_have_text("0.2659")
    expect(said).to_have_text("Saved: 0.2659")
    page.keyboard.press("ArrowLeft")
    expect(said).to_have_text("Saved: 0.2559")
    box = slider.bounding_box()
    assert box
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # a drag: back to the steps
    expect(said).to_have_text(re.compile(r"^Saved: 0\.\d\d$"))
    expect(page.locator("#threshold-value")).to_have_text(re.compile(r"^0\.\d\d$"))
    page.evaluate("""() => {
        const range = document.getElementById("threshold");
        range.value = "0.5"; range.dispatchEvent(new Event("change", {bubbles: true}));
    }""")
    expect(said).to_have_text("Saved: 0.50")


def test_the_next_page_of_the_grid_takes_the_focus_from_more_photos(page: Page, unscored: LiveServer) -> None:
    sign_in(page, unscored)
    for last, shown in ((47, 96), (95, 100)):  # each page's "More photos…" in turn
        page.locator("#grid input[type=checkbox]").nth(last).focus()
        page.keyboard.press("Tab")  # onto "More photos…", which loads the next page as it comes into view
        expect(page.locator("#grid li.photo-card")).to_have_count(shown)
        expect(page.locator("#grid li.photo-card").nth(last + 1).locator("a.photo-link")).to_be_focused()


def test_enter_on_a_ticked_photo_reaches_the_bar_and_escape_closes_a_menu(page: Page, unscored: LiveServer) -> None:
    sign_in(page, unscored)
    box = page.locator("#grid input[type=checkbox]").nth(30)
    box.focus()
    page.keyboard.press("Space")
    for _ in range(12):  # on through the grid: what takes the focus is scrolled clear of the bar
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.getBoundingClientRect().bottom")
        assert focused <= page.locator("#picked").bounding_box()["y"] + 1
    box.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Mark sharp")).to_be_focused()

    menu = page.locator(ACCOUNT_MENU)
    dropdown = menu.locator("xpath=..")
    menu.focus()
    page.keyboard.press("Enter")
    expect(dropdown).to_have_attribute("open", "")
    page.keyboard.press("Tab")  # on to Settings, in the menu
    page.keyboard.press("Escape")
    expect(dropdown).not_to_have_attribute("open", "")
    expect(menu).to_be_focused()

    panel = page.locator("details.import-more")  # the gallery's Import panel closes on Escape as the menus do
    panel.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(panel).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(panel).not_to_have_attribute("open", "")
    expect(panel.locator("summary")).to_be_focused()


def test_the_order_menu_steps_with_the_arrows_and_applies_on_enter(page: Page, unscored: LiveServer) -> None:
    """The first arrow press on the closed Order menu reloaded the page (its option chosen, the focus lost), so
    the keyboard could never reach the options past the next one."""
    sign_in(page, unscored)
    order = page.get_by_label("Order")
    order.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert "sort=" not in page.url
    expect(order).to_be_focused()
    expect(order).to_have_value("sharpest")
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=sharpest**")


def test_a_reload_of_the_grid_keeps_the_ticks_and_the_focus_past_its_first_page(
    page: Page, unscored: LiveServer
) -> None:
    """A photo scored or the threshold moved reloads the grid: it came back with its first page only, so a tick
    on the second page was dropped and the focus on one of its photos fell to the top of the page."""
    sign_in(page, unscored)
    cards = page.locator("#grid li.photo-card")
    page.locator("#grid input[type=checkbox]").nth(47).focus()
    page.keyboard.press("Tab")  # "More photos…" loads the second page
    expect(cards).to_have_count(96)
    cards.nth(60).locator("input[type=checkbox]").check()
    cards.nth(2).locator("input[type=checkbox]").check()
    expect(page.locator("#picked-count")).to_have_text("2 selected")
    link = cards.nth(60).locator("a.photo-link")
    link.focus()
    href = link.get_attribute("href")
    with page.expect_response(lambda r: "shown=96" in r.url):
        page.evaluate("document.body.dispatchEvent(new CustomEvent('threshold-changed', {bubbles: true}))")
    expect(page.locator("#picked-count")).to_have_text("2 selected")
    expect(cards).to_have_count(96)
    assert cards.nth(60).locator("input[type=checkbox]").is_checked()
    expect(page.locator(f'#grid a.photo-link[href="{href}"]')).to_be_focused()


def test_back_from_a_photo_past_the_first_page_of_a_changed_gallery_returns_to_its_card(
    page: Page, unscored: LiveServer
) -> None:
    """The gallery's counts changed while a photo opened from its second page was shown (here: marked sharp), so
    Back reloads the gallery, with its first page only; the focus fell to the top of the page."""
    sign_in(page, unscored)
    cards = page.locator("#grid li.photo-card")
    page.locator("#grid input[type=checkbox]").nth(47).focus()
    page.keyboard.press("Tab")  # "More photos…" loads the second page
    expect(cards).to_have_count(96)
    link = cards.nth(70).locator("a.photo-link")
    href = link.get_attribute("href")
    link.click()
    expect(page.locator(".verdict")).to_have_text("Waiting to be scored…")
    page.keyboard.press("s")
    expect(page.locator(".action-note")).to_have_text("Your call is saved: sharp.")
    page.go_back()  # the photo's page before the mark, which reloads: Back once it has, or its reload wins
    expect(page.locator(".verdict")).to_contain_text("your call")
    page.go_back()  # the gallery, which reloads: its counts changed
    expect(page.locator(f'#grid a.photo-link[href="{href}"]')).to_be_focused()
    expect(cards).to_have_count(96)
    page.keyboard.press("Enter")  # and the photo goes back to its score, for the other tests
    expect(page.locator(".verdict")).to_contain_text("your call")
    page.keyboard.press("u")
    expect(page.locator(".action-note")).to_have_text("Back to the score: your threshold decides.")


def test_a_letter_steps_the_filters_too_and_enter_applies_both(page: Page, unscored: LiveServer) -> None:
    """A letter that jumps to an option reloaded the page at once, as the arrows did before; and a source
    stepped to with the arrows was dropped when Enter was pressed on the order."""
    sign_in(page, unscored)
    source, order = page.get_by_label("Where the photos came from"), page.get_by_label("Order")
    order.focus()
    page.keyboard.press("m")  # "Most blurred first"
    page.wait_for_timeout(500)
    assert "sort=" not in page.url
    expect(order).to_have_value("blurriest")
    source.focus()
    page.keyboard.press("ArrowDown")
    expect(source).to_have_value("upload")
    order.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"source=upload.*sort=blurriest"))
    expect(page.get_by_label("Order")).to_be_focused()  # the page that came back: where the keyboard was


def test_the_skip_link_shows_at_the_first_tab_without_covering_the_header(page: Page, unscored: LiveServer) -> None:
    sign_in(page, unscored)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    shown, brand = skip.bounding_box(), page.locator("a.brand").bounding_box()
    assert shown and brand and shown["x"] >= 0 and shown["y"] >= 0
    assert shown["y"] + shown["height"] <= brand["y"], f"the skip link {shown} covers the name {brand}"
    page.keyboard.press("Enter")
    expect(page).to_have_url(unscored.url + "/#main")

    # On the gallery, a second one goes past the upload zone, the threshold and the search to the photos
    page.goto(unscored.url + "/")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the photos")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("#tab-all")).to_be_focused()


def test_the_focus_goes_to_the_answer_of_a_button_that_waited(page: Page, unscored: LiveServer) -> None:
    """A button that sends a request is disabled while it waits, which dropped the focus to the top of the page
    (after "Remove All" from the keyboard, the next Tab started at "Skip to content"); it goes to the job's card."""
    sign_in(page, unscored)
    page.get_by_role("button", name="Score unprocessed photos").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#job-area .job")).to_be_visible()
    expect(page.locator("#job-area")).to_be_focused()
