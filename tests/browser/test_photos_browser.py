"""Photos in a real browser: upload several at once, watch them get sorted, move the threshold, open a
photo, export a ZIP, and reach the main controls by keyboard. Screenshots of every page at desktop
and phone widths go to tests/browser/screenshots/."""

from __future__ import annotations

import csv
import itertools
import re
import time
import zipfile
from pathlib import Path

from conftest import assert_accessible, create_owner, screenshot_both, upload_as_owner
from playwright.sync_api import FileChooser, Locator, Page, expect

from tests import images
from tests.support.live_server import LiveServer

SCORING_TIMEOUT = 30_000  # ms: six small photos, scored in the server's own worker
SHARP = [f"sharp-{i}.jpg" for i in range(1, 5)]
BLURRED = [f"blurred-{i}.jpg" for i in range(1, 3)]
NOT_A_PHOTO = "not-a-photo.jpg"


def make_files(folder: Path) -> list[Path]:
    """Four detailed sharp JPEGs, two strongly blurred ones and an HTML page named .jpg."""
    files = [images.write(folder / name, images.jpeg(800, 600, seed=10 + i)) for i, name in enumerate(SHARP)]
    files += [
        images.write(folder / name, images.blurred_jpeg(800, 600, sigma=8, seed=20 + i))
        for i, name in enumerate(BLURRED)
    ]
    files.append(images.write(folder / NOT_A_PHOTO, images.html_as_bytes()))
    return files


def count(page: Page, category: str) -> Locator:
    return page.locator(f"#tabs-wrap span.count[data-count={category}]")


def count_value(page: Page, category: str) -> int:
    return int(count(page, category).inner_text().strip())


def preview(page: Page, category: str) -> Locator:
    return page.locator(f"#threshold-preview [data-preview={category}]")


def card(page: Page, name: str) -> Locator:
    return page.locator("li.photo-card").filter(has=page.locator(".photo-name", has_text=re.compile(f"^{name}$")))


def open_photo(page: Page, name: str) -> None:
    """Open a photo's page from its card, ready for the keyboard (its script listens once it has run)."""
    card(page, name).locator("a.photo-link").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    page.wait_for_load_state()


def open_one_blurred_photo(page: Page, server: LiveServer, tab: str) -> Locator:
    """A new owner's one photo, soft.jpg, scored blurred, opened from `tab`; its verdict."""
    create_owner(page, server)
    upload_as_owner(server, [("soft.jpg", images.blurred_jpeg(800, 600, sigma=8, seed=31))])
    page.goto(server.url + tab)
    expect(count(page, "blurred")).to_have_text("1", timeout=SCORING_TIMEOUT)
    page.reload()
    open_photo(page, "soft.jpg")
    verdict = page.locator(".verdict")
    expect(verdict).to_have_attribute("data-verdict", "blurred")
    return verdict


def set_threshold(page: Page, value: float) -> None:
    """Move the slider as a pointer would: `input` events while dragging, one `change` on release."""
    page.locator("#threshold").evaluate(
        """(el, value) => {
            el.value = String(value);
            el.dispatchEvent(new Event("input", { bubbles: true }));
        }""",
        value,
    )


def release_threshold(page: Page) -> None:
    page.locator("#threshold").dispatch_event("change")


def test_upload_sort_threshold_photo_page_and_export(
    page: Page, app_server: LiveServer, screenshot_dir: Path, tmp_path: Path
) -> None:
    url = app_server.url
    create_owner(page, app_server)
    expect(count(page, "all")).to_have_text("0")

    # --- upload several files at once through the file input ----------------------------------
    files = make_files(tmp_path / "upload")
    page.locator("#file-input").set_input_files(files)
    rows = page.locator("#upload-list li")
    # One line sums the batch up; once it is in, only the refused file stays listed, saying why.
    expect(page.locator("#upload-summary")).to_have_text(
        f"7 files done: {len(BLURRED)} blurred, {len(SHARP)} not blurred, 1 refused.", timeout=15_000
    )
    expect(page.locator("#upload-summary")).to_have_attribute("aria-busy", "false")  # read out once, at the end
    expect(rows).to_have_count(1)
    bad = rows.filter(has_text=NOT_A_PHOTO).locator(".result")
    expect(bad).to_have_class(re.compile(r"\bbad\b"), timeout=15_000)
    expect(bad).not_to_be_empty()
    # It says what is wrong with this file (not a bare status code) and what would be accepted.
    expect(bad).to_contain_text(NOT_A_PHOTO)
    expect(bad).to_contain_text(re.compile(r"HTML", re.IGNORECASE))
    expect(bad).to_contain_text("JPEG")
    # The next batch's list is its own (the last batch's refusal stayed under its summary until then), and the
    # list is no live region: the summary speaks for the batch, not one line a file.
    page.locator("#file-input").set_input_files([f for f in files if f.name == SHARP[0]])
    expect(page.locator("#upload-summary")).to_have_text("1 file done: 1 already in Classify.")
    expect(rows).to_have_count(0)
    assert page.locator("#upload-list").get_attribute("aria-live") is None

    # --- they get sorted: nothing unprocessed, both kinds present, adding up to All ------------
    expect(count(page, "all")).to_have_text("6", timeout=SCORING_TIMEOUT)
    expect(count(page, "unprocessed")).to_have_text("0", timeout=SCORING_TIMEOUT)
    blurred, not_blurred = count_value(page, "blurred"), count_value(page, "not_blurred")
    assert blurred > 0 and not_blurred > 0, (blurred, not_blurred)
    assert blurred + not_blurred == 6
    # What the user sees on the grid follows the tabs: every card shows its score, none "waiting to be scored".
    page.reload()
    expect(page.locator("li.photo-card")).to_have_count(6)
    for name in SHARP:
        expect(card(page, name).locator(".badge")).to_have_text(re.compile(r"^\s*0\.\d\d\s*·\s*sharp"))
    for name in BLURRED:
        expect(card(page, name).locator(".badge")).to_have_text(re.compile(r"^\s*[01]\.\d\d\s*·\s*blurred"))
    expect(count(page, "blurred")).to_have_text(str(len(BLURRED)))
    expect(count(page, "not_blurred")).to_have_text(str(len(SHARP)))
    screenshot_both(page, screenshot_dir, "gallery-photos")

    # --- the threshold slider: preview while moving, re-sorted once released -------------------
    original = float(page.locator("#threshold").input_value())
    set_threshold(page, 0)
    expect(page.locator("#threshold-value")).to_have_text("0.00")
    expect(preview(page, "blurred")).to_have_text("6")
    expect(preview(page, "not_blurred")).to_have_text("0")
    expect(count(page, "blurred")).to_have_text(str(len(BLURRED)))  # nothing saved yet
    release_threshold(page)
    expect(page.locator("#threshold-saved")).to_contain_text("0.00")
    expect(count(page, "blurred")).to_have_text("6")
    expect(count(page, "not_blurred")).to_have_text("0")
    for name in SHARP:
        expect(card(page, name).locator(".badge")).to_contain_text("blurred")
    page.reload()  # saved on the server, not just on the page
    expect(page.locator("#threshold")).to_have_value(re.compile(r"^0(\.0+)?$"))
    expect(count(page, "blurred")).to_have_text("6")

    # a quick drag (or arrow keys held down): the preview ends on the value the slider shows, not one it passed
    page.locator("#threshold").evaluate(
        """(el) => {
            for (let step = 1; step <= 20; step++) {
                el.value = String(step / 100);
                el.dispatchEvent(new Event("input", { bubbles: true }));
            }
        }"""
    )
    expect(page.locator("#threshold-value")).to_have_text("0.20")
    expect(page.locator("#threshold-preview")).to_contain_text("At 0.20:")

    set_threshold(page, original)
    expect(preview(page, "blurred")).to_have_text(str(len(BLURRED)))
    expect(preview(page, "not_blurred")).to_have_text(str(len(SHARP)))
    release_threshold(page)
    expect(count(page, "blurred")).to_have_text(str(len(BLURRED)))
    expect(count(page, "not_blurred")).to_have_text(str(len(SHARP)))

    # --- open a photo, see its verdict and score, toggle the sharpness map, go back ------------
    card(page, BLURRED[0]).locator("a.photo-link").click()
    expect(page).to_have_url(re.compile(re.escape(url) + r"/photos/[0-9a-f-]{36}\?filter=all$"))
    expect(page.get_by_role("heading", name=BLURRED[0])).to_be_visible()
    verdict = page.locator(".verdict")
    expect(verdict).to_have_attribute("data-verdict", "blurred")
    expect(verdict).to_contain_text(re.compile(r"Blurred — score [01]\.\d{3}"))
    expect(page.locator("#photo-img")).to_have_attribute("alt", BLURRED[0])
    expect(page.locator("#photo-img")).to_have_js_property("complete", True)
    assert page.locator("#photo-img").evaluate("img => img.naturalWidth") > 0
    toggle = page.locator("#map-toggle")
    if toggle.count():
        expect(page.locator("#sharpness-map")).to_be_hidden()
        expect(page.locator("#map-words")).to_be_hidden()
        toggle.check()
        expect(page.locator("#sharpness-map")).to_be_visible()
        # in words too, for whoever cannot tell its shading apart (or sees no map at all)
        expect(page.locator("#map-words")).to_have_text(re.compile(r"^(Sharp|Soft)\b"))
    screenshot_both(page, screenshot_dir, "photo-blurred")

    page.go_back()
    expect(page).to_have_url(url + "/")
    expect(card(page, BLURRED[0]).locator("a.photo-link")).to_be_focused()  # the keyboard goes on from its card
    card(page, SHARP[0]).locator("a.photo-link").click()
    expect(page.locator(".verdict")).to_have_attribute("data-verdict", "sharp")
    expect(page.locator(".verdict")).to_contain_text(re.compile(r"Not blurred — score 0\.\d{3}"))
    screenshot_both(page, screenshot_dir, "photo-sharp")
    page.go_back()
    expect(page).to_have_url(url + "/")

    # --- export the Not blurred tab as a ZIP ---------------------------------------------------
    page.locator("nav.tabs a[data-category=not_blurred]").click()
    expect(page).to_have_url(url + "/photos?filter=not_blurred")
    expect(page.locator("li.photo-card")).to_have_count(len(SHARP))
    page.get_by_role("button", name="Export Not blurred").click()  # opens the export menu
    with page.expect_download() as info:
        page.get_by_role("link", name="ZIP, original names").click()
    download = info.value
    assert download.suggested_filename.endswith(".zip"), download.suggested_filename
    zip_path = tmp_path / download.suggested_filename
    download.save_as(zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        names = sorted(Path(n).name for n in archive.namelist() if not n.endswith("/"))
        assert archive.testzip() is None
    assert names == sorted(SHARP), names
    # the menu closed once its item was chosen (it stayed open over the page); it lists the tab as a spreadsheet
    export = page.get_by_role("button", name="Export Not blurred")
    expect(export.locator("xpath=..")).not_to_have_attribute("open", "")
    export.click()
    with page.expect_download() as info:  # from the keyboard: the focus comes back to the menu, not the page's top
        page.get_by_role("link", name="List as CSV, for a spreadsheet").focus()
        page.keyboard.press("Enter")
    assert info.value.suggested_filename.endswith(".csv"), info.value.suggested_filename
    expect(export).to_be_focused()
    listed = list(csv.DictReader(Path(info.value.path()).read_text(encoding="utf-8-sig").splitlines()))
    assert sorted(row["filename"] for row in listed) == sorted(SHARP)
    assert {row["category"] for row in listed} == {"not_blurred"}

    # --- from a photo of the tab, the arrow keys step through that tab -------------------------
    page.goto(url + page.locator("li.photo-card a.photo-link").first.get_attribute("href"))
    expect(page.locator("#photo-next")).to_be_visible()
    expect(page.locator("#photo-previous")).to_have_count(0)  # the newest photo of the tab
    first_url = page.url
    page.locator("#map-toggle").click()  # the map's switch keeps the focus, and leaves the keys to the page
    expect(page.locator("#map-toggle")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page).to_have_url(re.compile(re.escape(url) + r"/photos/[0-9a-f-]{36}\?filter=not_blurred$"))
    expect(page).not_to_have_url(first_url)
    expect(page.locator(".verdict")).to_have_attribute("data-verdict", "sharp")
    expect(page.locator("#photo-previous")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page).to_have_url(first_url)

    # --- the other pages, now that there is something to show ----------------------------------
    for path, heading, shot in (
        ("/stats", "Statistics", "stats"),
        ("/jobs", "Jobs", "jobs"),
        ("/system", "System", "system"),
    ):
        page.goto(url + path)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        screenshot_both(page, screenshot_dir, shot)
    page.goto(url + "/stats")
    expect(page.locator(".stat-cards")).to_contain_text("6")

    # --- the order: most blurred first as soon as it is chosen, and the photo page follows it ----
    page.goto(url + "/photos?filter=all")
    page.get_by_label("Order").select_option("blurriest")
    expect(page).to_have_url(re.compile(r"sort=blurriest"))
    badges = page.locator("li.photo-card .badge")
    expect(badges).to_have_count(6)
    scores = [float(re.search(r"[01]\.\d\d", text).group()) for text in badges.all_inner_texts()]
    assert scores == sorted(scores, reverse=True), scores
    page.locator("li.photo-card a.photo-link").first.click()
    expect(page.locator("#photo-next")).to_have_attribute("href", re.compile(r"sort=blurriest"))

    # --- remove the Blurred tab from Classify: asked first, then done as a job -----------------
    page.goto(url + "/photos?filter=blurred")
    remove = page.get_by_role("button", name=f"Remove Blurred ({len(BLURRED)})")
    page.once("dialog", lambda dialog: dialog.dismiss())
    remove.click()
    expect(page.locator("li.photo-card")).to_have_count(len(BLURRED))  # said no: nothing removed
    page.once("dialog", lambda dialog: dialog.accept())
    remove.click()
    expect(page.locator("#job-area .job")).to_have_attribute("data-status", "done", timeout=SCORING_TIMEOUT)
    expect(page.get_by_role("heading", name="No blurred photos at this threshold")).to_be_visible()
    expect(count(page, "all")).to_have_text(str(len(SHARP)))

    # --- tick photos in the grid: the bar counts them, clears them, and removes the ticked ones -----
    page.goto(url + "/photos?filter=all")
    bar = page.locator("#picked")
    expect(bar).to_be_hidden()
    before = card(page, SHARP[0]).bounding_box()
    page.get_by_label(f"Select {SHARP[0]}").check()
    expect(bar).to_be_visible()
    # a tick shows as one (waiting out Pico's colour transition); an empty box is white on any photo
    white = "rgb(255, 255, 255)"
    expect(page.get_by_label(f"Select {SHARP[0]}")).not_to_have_css("background-color", white)
    expect(page.get_by_label(f"Select {SHARP[1]}")).to_have_css("background-color", white)
    assert card(page, SHARP[0]).bounding_box() == before  # the bar does not push the grid from under the finger
    bar_box, window = bar.bounding_box(), page.viewport_size
    assert bar_box and window and bar_box["y"] >= 0 and bar_box["y"] + bar_box["height"] <= window["height"]
    page.get_by_label(f"Select {SHARP[1]}").check()
    expect(bar).to_contain_text("2 selected")
    screenshot_both(page, screenshot_dir, "gallery-ticked")
    page.get_by_role("button", name="Clear selection").focus()
    page.keyboard.press("Enter")
    expect(bar).to_be_hidden()
    expect(page.locator("#grid .photo-link").first).to_be_focused()  # not lost at the top of the page
    # a tick stays while the grid reloads (here: the threshold saved again), and goes once acted on
    page.get_by_label(f"Select {SHARP[1]}").check()
    page.locator("#grid").evaluate("grid => { grid.dataset.before = 'reload'; }")
    release_threshold(page)
    expect(page.locator("#grid[data-before]")).to_have_count(0)  # the grid was loaded afresh
    expect(page.get_by_label(f"Select {SHARP[1]}")).to_be_checked()
    expect(bar).to_contain_text("1 selected")
    warnings: list[str] = []
    page.on("console", lambda message: warnings.append(message.text))
    page.get_by_role("button", name="Mark blurred").click()  # no question: a call is undone with another
    expect(page.locator("#job-area")).to_contain_text("Marked 1 photo blurred.")
    expect(page.locator("#job-area")).to_be_focused()  # where the answer is, in view
    expect(bar).to_be_hidden()
    expect(count(page, "blurred")).to_have_text("1")
    expect(card(page, SHARP[1]).locator(".badge")).to_contain_text("your call")
    # the form's "find button" was looked for inside the button: nothing was disabled while the call was sent
    assert not [w for w in warnings if "hx-disabled-elt" in w]
    page.get_by_label(f"Select {SHARP[0]}").check()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Remove selected…").click()
    expect(count(page, "all")).to_have_text(str(len(SHARP) - 1), timeout=SCORING_TIMEOUT)
    assert asked[0].startswith("Remove this photo from Classify?")  # the question says how many
    expect(card(page, SHARP[0])).to_have_count(0)


def test_your_call_from_the_keyboard_moves_a_photo_between_tabs(
    page: Page, app_server: LiveServer, screenshot_dir: Path
) -> None:
    """S, B and U on a photo's page: the scorer is overruled, the tabs follow, and U hands back to the score."""
    url = app_server.url
    verdict = open_one_blurred_photo(page, app_server, "/photos?filter=blurred")
    expect(page.locator("#mark-score")).to_have_attribute("aria-pressed", "true")
    assert_accessible(page)

    page.keyboard.press("s")
    expect(verdict).to_have_attribute("data-verdict", "sharp")
    expect(verdict).to_contain_text(re.compile(r"Not blurred — your call \(score [01]\.\d{3}\)"))
    expect(page.locator("#mark-sharp")).to_have_attribute("aria-pressed", "true")
    note = page.locator(".action-note")  # the page came back: where the focus is, it says what was done
    expect(note).to_have_text("Your call is saved: sharp.")
    expect(note).to_be_focused()
    page.get_by_role("switch", name="keys on").uncheck()  # speech input types letters: the keys can go off
    page.locator("body").focus()
    page.keyboard.press("b")
    page.wait_for_timeout(500)
    expect(verdict).to_have_attribute("data-verdict", "sharp")
    page.get_by_role("switch", name="keys on").check()
    screenshot_both(page, screenshot_dir, "photo-marked-sharp")
    page.goto(url + "/")
    expect(count(page, "blurred")).to_have_text("0")
    expect(count(page, "not_blurred")).to_have_text("1")
    expect(card(page, "soft.jpg").locator(".badge")).to_have_text(re.compile(r"^\s*[01]\.\d\d · sharp · your call"))

    open_photo(page, "soft.jpg")
    page.keyboard.press("u")
    expect(verdict).to_have_attribute("data-verdict", "blurred")
    expect(verdict).to_contain_text("(your threshold 0.50)")
    page.get_by_role("button", name="Sharp", exact=True).focus()
    page.keyboard.press("Enter")  # the buttons work from the keyboard like any other
    expect(verdict).to_have_attribute("data-verdict", "sharp")

    # Delete removes the photo at once (it is not asked first: the note can undo it), and the tab is empty.
    page.locator("body").focus()
    page.keyboard.press("Delete")
    expect(page).to_have_url(
        re.compile(re.escape(url) + r"/photos\?filter=all&removed=soft\.jpg&removed_id=[0-9a-f-]+$")
    )
    expect(page.locator(".action-note")).to_be_focused()  # "Removed “soft.jpg” …": where the keyboard is
    expect(count(page, "all")).to_have_text("0")

    # Z, or the note's Undo, brings it back to its own page, as it was: your call included
    expect(page.get_by_role("button", name="Undo")).to_be_visible()
    page.keyboard.press("z")
    expect(page.locator(".action-note")).to_have_text("Put back, as it was.")
    expect(verdict).to_have_attribute("data-verdict", "sharp")
    page.go_back()  # the page of the removal's note: it no longer says so, nor offers an Undo
    expect(count(page, "all")).to_have_text("1")
    expect(page.locator(".removed-note")).to_have_count(0)


def test_a_removal_is_undone_from_its_job_and_the_bin_puts_back_or_deletes(
    page: Page, app_server: LiveServer, screenshot_dir: Path
) -> None:
    url = app_server.url
    create_owner(page, app_server)
    sharp = [(f"keep-{i}.jpg", images.jpeg(640, 480, seed=80 + i)) for i in range(3)]
    upload_as_owner(app_server, sharp)
    page.goto(url + "/photos?filter=all")
    expect(count(page, "all")).to_have_text("3", timeout=SCORING_TIMEOUT)
    page.reload()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove All (3)…").click()
    job = page.locator("#job-area .job")
    expect(job).to_have_attribute("data-status", "done", timeout=SCORING_TIMEOUT)
    expect(count(page, "all")).to_have_text("0")
    job.get_by_role("button", name="Undo: put them back").click()
    expect(page.locator(".action-note")).to_have_text("Put back 3 photos.")
    assert "filter=all&restored=3" in page.url  # back to the tab it was undone from
    expect(count(page, "all")).to_have_text("3")

    # one photo removed again, then put back from Recently removed, ticked
    open_photo(page, "keep-0.jpg")
    page.get_by_role("button", name=re.compile("^Remove")).click()
    page.locator(".action-note").get_by_role("link", name="Recently removed").click()
    expect(page.get_by_role("heading", name="Recently removed")).to_be_visible()
    assert_accessible(page)
    put_back = page.get_by_role("button", name="Put back the ticked photos")
    expect(put_back).to_be_disabled()  # nothing ticked yet
    page.get_by_label("keep-0.jpg").check()
    put_back.click()
    expect(page.locator(".action-note")).to_have_text("Put back 1 photo.")
    expect(page.get_by_role("heading", name="Nothing removed lately")).to_be_visible()

    # deleting for good asks first, from a button of the form as from the form
    open_photo_from(page, url, "keep-1.jpg")
    page.get_by_role("button", name=re.compile("^Remove")).click()
    page.goto(url + "/removed")
    page.get_by_label("keep-1.jpg").check()
    screenshot_both(page, screenshot_dir, "recently-removed")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete the ticked for good…").click()
    expect(page.get_by_label("keep-1.jpg")).to_be_visible()  # said no: still here
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete all for good…").click()
    expect(page.get_by_label("keep-1.jpg")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete the ticked for good…").click()
    expect(page.locator(".action-note")).to_have_text("Deleted 1 photo for good.")
    page.goto(url + "/")
    expect(count(page, "all")).to_have_text("2")


def open_photo_from(page: Page, url: str, name: str) -> None:
    page.goto(url + "/photos?filter=all")
    open_photo(page, name)


def test_a_long_upload_shows_its_photos_as_they_come_and_can_be_stopped(
    page: Page, app_server: LiveServer, tmp_path: Path
) -> None:
    """Leaving the page mid-upload dropped the files not sent yet without a word, nothing could stop an upload
    chosen by mistake, and the grid stayed "No photos yet" until the whole batch was in."""
    create_owner(page, app_server)
    files = [images.write(tmp_path / f"p{i:02}.jpg", images.jpeg(320, 240, seed=60 + i)) for i in range(30)]

    def slowly(route) -> None:  # each file takes a while, as over a real network
        time.sleep(0.5)
        route.continue_()

    page.route("**/upload", slowly)
    page.goto(app_server.url + "/")
    page.locator("footer").click()  # the browser asks before leaving only a page the person has used
    page.locator("#file-input").set_input_files(files)
    summary = page.locator("#upload-summary")
    expect(summary).to_contain_text(re.compile(r"Uploading 1\d of 30"), timeout=20_000)
    expect(page.locator("li.photo-card")).not_to_have_count(0)  # the first ones show while the rest come
    assert 10 <= count_value(page, "all") < 30

    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.locator("a[href='/stats']").first.click()
    page.wait_for_timeout(300)
    assert asked == ["beforeunload"] and page.url.rstrip("/") == app_server.url  # asked, and stayed

    page.get_by_role("button", name="Stop uploading").click()
    expect(summary).to_contain_text(re.compile(r"^30 files done: .*\d+ not uploaded \(stopped\)\.$"))
    expect(page.get_by_role("button", name="Stop uploading")).to_be_hidden()
    kept = int(re.search(r"(\d+) not blurred", summary.inner_text()).group(1))
    stopped = int(re.search(r"(\d+) not uploaded", summary.inner_text()).group(1))
    assert kept + stopped == 30 and stopped > 0
    page.wait_for_timeout(1000)  # a request cut off on its way may still have arrived
    page.reload()
    assert kept <= count_value(page, "all") < 30


def test_a_photo_page_shows_the_whole_photo_in_the_window_with_its_map_over_it(
    page: Page, app_server: LiveServer
) -> None:
    """A portrait photo was drawn 1,040 px high in a 768-px window: half of what is being judged was below the
    fold, on every step with the arrow keys."""
    create_owner(page, app_server)
    upload_as_owner(app_server, [("tall.jpg", images.jpeg(900, 1200, seed=70)), ("wide.jpg", images.jpeg(seed=71))])
    for width, height in ((1366, 768), (1280, 900), (375, 740)):
        page.set_viewport_size({"width": width, "height": height})
        for name in ("tall.jpg", "wide.jpg"):
            page.goto(app_server.url + "/")
            open_photo(page, name)
            photo = page.locator("#photo-img")
            expect(photo).to_have_js_property("complete", True)
            box = photo.bounding_box()
            assert box and box["y"] + box["height"] <= max(height, box["y"] + 16 * 16), (width, name, box)
            assert box["width"] <= width
            if page.locator("#map-toggle").count():
                page.locator("#map-toggle").check()
                box = photo.bounding_box()  # the switch is under the photo: reaching it may scroll
                overlay = page.locator("#sharpness-map").bounding_box()
                assert overlay and all(abs(overlay[k] - box[k]) <= 1 for k in ("x", "y", "width", "height")), (
                    overlay,
                    box,
                )


def test_back_shows_what_changed_since_the_page_was_left(page: Page, app_server: LiveServer) -> None:
    """Back after a mark or a removal: the browser's copy of the photo page and the gallery is replaced by
    what is true now (it showed the old verdict and counts), and a removed photo's page says it is gone."""
    verdict = open_one_blurred_photo(page, app_server, "/")
    page.keyboard.press("s")
    expect(page.locator(".action-note")).to_have_text("Your call is saved: sharp.")

    page.go_back()  # the photo's page as it was before the mark
    expect(verdict).to_have_attribute("data-verdict", "sharp")
    page.go_back()  # the gallery
    expect(count(page, "blurred")).to_have_text("0")
    expect(count(page, "not_blurred")).to_have_text("1")
    expect(card(page, "soft.jpg").locator(".badge")).to_contain_text("your call")

    open_photo(page, "soft.jpg")
    page.keyboard.press("Delete")
    expect(count(page, "all")).to_have_text("0")
    page.go_back()  # the removed photo's page: where it went, and the way back
    expect(page.get_by_role("heading", name="“soft.jpg” is in Recently removed")).to_be_visible()
    expect(page.get_by_role("button", name="Put it back")).to_be_visible()
    page.go_back()  # the gallery that still showed it
    expect(count(page, "all")).to_have_text("0")
    expect(card(page, "soft.jpg")).to_have_count(0)


def test_marks_point_to_a_threshold_and_one_click_takes_it(page: Page, app_server: LiveServer) -> None:
    """Three photos the scorer calls sharp, two of them marked blurred from the keyboard: the gallery offers the
    threshold that agrees with the marks, and taking it moves the slider and the third photo's tab."""
    url = app_server.url
    create_owner(page, app_server)
    softer = [(f"soft{i}.jpg", images.blurred_jpeg(800, 600, sigma=s, seed=41)) for i, s in enumerate((0.9, 1.3, 1.5))]
    upload_as_owner(app_server, softer)
    page.goto(url + "/")
    expect(count(page, "not_blurred")).to_have_text("3", timeout=SCORING_TIMEOUT)
    expect(page.locator("#threshold-suggestion")).to_have_text("")
    for name, key in (("soft0.jpg", "s"), ("soft1.jpg", "b"), ("soft2.jpg", "b")):
        page.goto(url + "/")
        open_photo(page, name)
        page.keyboard.press(key)
        expect(page.locator("#mark-sharp" if key == "s" else "#mark-blurred")).to_have_attribute("aria-pressed", "true")
    page.goto(url + "/")
    offer = page.locator("#threshold-suggestion")
    offered = r"Your calls on photos point to a threshold of 0\.\d\d\. It agrees with 3 of your\s+3\s+calls"
    expect(offer).to_contain_text(re.compile(offered))
    value = offer.locator("strong").inner_text()
    assert_accessible(page)  # the offer and its button, as shown
    offer.get_by_role("button", name=f"Use {value}").click()
    expect(page.locator("#threshold")).to_have_value(re.compile(rf"^{value.rstrip('0')}0*$"))
    expect(page.locator("#threshold-value")).to_have_text(value)
    expect(count(page, "blurred")).to_have_text("2")
    expect(offer).to_have_text("")  # the threshold now agrees with every mark: nothing more to offer
    took = page.locator("#took-note")
    expect(took).to_contain_text(f"Your threshold is now {value}")
    page.locator("#threshold").focus()
    page.keyboard.press("ArrowRight")  # it is no longer so
    expect(took).to_have_count(0)


def opens_file_chooser(page: Page, key: str) -> FileChooser:
    # `expect_file_chooser` turns interception on as its wait starts, and under load the key press could win
    # that race: the chooser opened unseen and the test failed though the app was right. A listener added
    # first, and a round trip to the page after it, turn interception on before the key is pressed.
    choosers: list[FileChooser] = []

    def seen(chooser: FileChooser) -> None:
        choosers.append(chooser)

    page.on("filechooser", seen)
    try:
        page.evaluate("0")
        page.keyboard.press(key)
        for _ in range(100):
            if choosers:
                return choosers[0]
            page.wait_for_timeout(100)
    finally:
        page.remove_listener("filechooser", seen)
    raise AssertionError(f"{key} opened no file chooser within 10 s")


def test_main_controls_are_reachable_by_keyboard(page: Page, app_server: LiveServer) -> None:
    create_owner(page, app_server)
    page.locator("body").focus()
    seen: list[str] = []
    for _ in range(25):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => document.activeElement && (document.activeElement.id || document.activeElement.tagName)"
            )
        )
        if seen[-1] == "threshold":
            break
    assert "dropzone" in seen or "file-input" in seen, seen
    assert "threshold" in seen, seen
    assert seen.index("threshold") > max(seen.index(i) for i in ("dropzone", "file-input") if i in seen)

    # The drop zone opens the file chooser from the keyboard.
    page.locator("#dropzone").focus()
    assert opens_file_chooser(page, "Enter").is_multiple()

    # The slider moves with the keyboard, and the preview follows.
    page.locator("#threshold").focus()
    page.keyboard.press("Home")
    expect(page.locator("#threshold-value")).to_have_text("0.00")
    expect(page.locator("#threshold-preview [data-preview=blurred]")).to_have_text("0")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#threshold-value")).to_have_text("0.01")
    expect(page.locator("#threshold-saved")).to_contain_text("0.01")


FIRST_SCREENS = ((1280, 800), (1024, 768), (768, 1024), (390, 844))  # a laptop, a small one, a tablet, a phone


def test_the_first_row_of_photos_is_on_the_first_screen_and_the_controls_read_in_the_order_shown(
    page: Page, app_server: LiveServer
) -> None:
    """The drop zone, the slider's three lines, the search and the tabs took the whole first screen of a
    1280x800 laptop and of a phone: no photo was in sight until one scrolled. Now a whole row of cards is,
    nothing runs off the side, and the search's controls are tabbed through in the order they are seen."""
    create_owner(page, app_server)
    upload_as_owner(app_server, [(f"shot-{i}.jpg", images.jpeg(640, 480, seed=90 + i)) for i in range(8)])
    for width, height in FIRST_SCREENS:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(app_server.url + "/")
        cards = page.locator("#grid > li.photo-card")
        expect(cards).to_have_count(8)
        boxes = [cards.nth(i).bounding_box() for i in range(8)]
        first_row = [box for box in boxes if box and abs(box["y"] - boxes[0]["y"]) < 1]
        assert all(box["y"] + box["height"] <= height for box in first_row), (width, height, boxes[0])
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        controls = page.locator("form.search").locator("input[type=search], button, select")
        places = [controls.nth(i).bounding_box() for i in range(controls.count())]
        assert [controls.nth(i).get_attribute("name") or "" for i in range(controls.count())] == [
            "q",
            "",
            "source",
            "sort",
        ]
        for before, after in itertools.pairwise(places):  # left to right, then the next line
            assert before and after
            assert after["y"] > before["y"] + before["height"] / 2 or (
                abs(after["y"] - before["y"]) < before["height"] / 2 and after["x"] > before["x"]
            ), (width, places)


def test_shift_ticks_a_run_of_photos_and_select_all_ticks_every_one_shown(page: Page, app_server: LiveServer) -> None:
    """Cleaning up meant ticking photos one box at a time. Shift with a click or with Space now sets every box
    from the last one ticked or unticked to this one, and the bar selects all the photos shown."""
    create_owner(page, app_server)
    upload_as_owner(app_server, [(f"run-{i}.jpg", images.jpeg(320, 240, seed=120 + i)) for i in range(8)])
    page.goto(app_server.url + "/")
    expect(count(page, "unprocessed")).to_have_text("0", timeout=SCORING_TIMEOUT)
    page.reload()
    boxes = page.locator('#grid input[form="picked"]')
    expect(boxes).to_have_count(8)
    selected = page.locator("#picked-count")

    boxes.nth(1).check()
    boxes.nth(4).click(modifiers=["Shift"])
    expect(selected).to_have_text("4 selected")
    assert [boxes.nth(i).is_checked() for i in range(8)] == [False, True, True, True, True, False, False, False]
    boxes.nth(2).click(modifiers=["Shift"])  # unticked, from the last one (the fifth) back to the third
    expect(selected).to_have_text("1 selected")
    assert [boxes.nth(i).is_checked() for i in range(8)] == [False, True, False, False, False, False, False, False]

    boxes.nth(7).focus()  # and from the keyboard
    page.keyboard.press("Space")
    boxes.nth(5).focus()
    page.keyboard.press("Shift+Space")
    expect(selected).to_have_text("4 selected")
    assert [boxes.nth(i).is_checked() for i in range(8)] == [False, True, False, False, False, True, True, True]

    assert_accessible(page)  # the bar with its hint
    page.get_by_role("button", name="Clear selection").click()  # and the run starts afresh
    boxes.nth(6).click(modifiers=["Shift"])
    expect(selected).to_have_text("1 selected")
    select_all = page.get_by_role("button", name="Select all 8 shown")
    select_all.focus()
    page.keyboard.press("Enter")
    expect(selected).to_have_text("8 selected")
    expect(select_all).to_be_hidden()  # nothing more to select
    expect(selected).to_be_focused()  # the focus stays in the bar
    page.get_by_role("button", name="Mark blurred").click()
    expect(page.locator("#job-area")).to_contain_text("Marked 8 photos")


def test_the_arrow_keys_go_from_photo_to_photo_in_the_grid(page: Page, app_server: LiveServer) -> None:
    """Going through a grid from the keyboard took a Tab or more a card (its link, its box, its tags); the
    arrows now move a photo at a time, and up and down a row, as the grid is laid out at that width."""
    create_owner(page, app_server)
    upload_as_owner(app_server, [(f"grid-{i}.jpg", images.jpeg(320, 240, seed=140 + i)) for i in range(7)])
    page.set_viewport_size({"width": 1280, "height": 800})  # five a row
    page.goto(app_server.url + "/")
    expect(count(page, "unprocessed")).to_have_text("0", timeout=SCORING_TIMEOUT)
    page.reload()  # scored: the grid is not reloaded under the focus
    links = page.locator("#grid a.photo-link")
    expect(links).to_have_count(7)
    links.nth(0).focus()
    page.keyboard.press("ArrowLeft")  # at the first photo: stays
    expect(links.nth(0)).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(links.nth(1)).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(links.nth(6)).to_be_focused()
    page.keyboard.press("ArrowDown")  # no row below: stays
    expect(links.nth(6)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(links.nth(1)).to_be_focused()
    links.nth(4).focus()
    page.keyboard.press("ArrowDown")  # the last row is shorter: its last photo
    expect(links.nth(6)).to_be_focused()
    page.set_viewport_size({"width": 390, "height": 844})  # two a row
    links.nth(0).focus()
    page.keyboard.press("ArrowDown")
    expect(links.nth(2)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile(r"^grid-\d\.jpg$"))).to_be_visible()


def test_delete_held_down_removes_one_photo(page: Page, app_server: LiveServer) -> None:
    """Removing a photo no longer asks first, and a held key repeats: the next photo's page took the repeat and
    went too, with an Undo for only that one."""
    create_owner(page, app_server)
    upload_as_owner(app_server, [(f"held-{i}.jpg", images.jpeg(320, 240, seed=160 + i)) for i in range(3)])
    page.goto(app_server.url + "/")
    expect(count(page, "unprocessed")).to_have_text("0", timeout=SCORING_TIMEOUT)
    page.reload()
    open_photo(page, "held-1.jpg")
    page.keyboard.down("Delete")
    expect(page.locator(".action-note")).to_contain_text("Removed “held-1.jpg”")
    page.wait_for_load_state()
    page.keyboard.down("Delete")  # the key still held: a repeat
    page.keyboard.down("Delete")
    page.keyboard.up("Delete")
    page.wait_for_timeout(800)
    page.goto(app_server.url + "/")
    expect(count(page, "all")).to_have_text("2")

    # pressed twice quickly, as the page leaves: one photo goes, and the next one's page says so
    open_photo(page, "held-2.jpg")
    page.keyboard.press("Delete")
    page.keyboard.press("Delete")
    expect(page.locator(".action-note")).to_contain_text("Removed “held-2.jpg”")
    page.goto(app_server.url + "/")
    expect(count(page, "all")).to_have_text("1")

    # the bin's boxes take a run with Shift too
    open_photo(page, "held-0.jpg")
    page.get_by_role("button", name="Remove from Classify").click()
    page.goto(app_server.url + "/removed")
    bin_boxes = page.locator("#grid input[type=checkbox]")
    expect(bin_boxes).to_have_count(3)
    bin_boxes.nth(0).check()
    bin_boxes.nth(2).click(modifiers=["Shift"])
    expect(page.get_by_role("button", name="Put back the ticked photos")).to_be_enabled()
    assert [bin_boxes.nth(i).is_checked() for i in range(3)] == [True, True, True]
