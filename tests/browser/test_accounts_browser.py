"""Accounts in a real browser: first run, sign out, sign in (wrong and right password), protected pages, a
new password, signing out everywhere else."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import httpx
from conftest import (
    ACCOUNT_MENU,
    OWNER,
    assert_accessible,
    assert_served_as_html,
    create_owner,
    screenshot_both,
    sign_in,
    sign_out,
    upload_as_owner,
)
from playwright.sync_api import Page, expect

from tests import images
from tests.support.live_server import LiveServer


def test_first_run_creates_the_owner_then_sign_out_and_sign_in_again(
    page: Page, app_server: LiveServer, screenshot_dir: Path
) -> None:
    url = app_server.url
    # No account yet: the app sends a visitor to the first-run form.
    page.goto(url + "/")
    expect(page).to_have_url(url + "/setup")
    expect(page.get_by_role("heading", name="Welcome to Classify")).to_be_visible()
    screenshot_both(page, screenshot_dir, "setup")
    assert_accessible(page)

    # Two different passwords: a clear error, nothing created, the name and the email kept.
    page.get_by_label("Name").fill(OWNER.name)
    page.get_by_label("Email").fill(OWNER.email)
    page.get_by_label("Password", exact=True).fill(OWNER.password)
    page.get_by_label("Password again").fill(OWNER.password + "!")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("not the same")
    expect(page.get_by_label("Email")).to_have_value(OWNER.email)
    expect(page.get_by_label("Name")).to_have_value(OWNER.name)

    # The real thing: signed in on the (empty) gallery, the name in the account menu.
    create_owner(page, app_server)
    expect(page.get_by_role("heading", name="No photos yet")).to_be_visible()
    screenshot_both(page, screenshot_dir, "gallery-empty")

    # The first-run form is gone for good.
    page.goto(url + "/setup")
    expect(page).not_to_have_url(re.compile(r"/setup$"))

    # Sign out from the account menu.
    page.goto(url + "/")
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(url) + r"/login"))
    assert_served_as_html(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("details.dropdown")).to_have_count(0)
    # Back, on a shared computer: the browser's copy of the signed-in gallery is gone with the session
    page.go_back()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("details.dropdown")).to_have_count(0)
    page.goto(url + "/login")
    screenshot_both(page, screenshot_dir, "login")

    # A wrong password: a clear error, still signed out, the email kept.
    page.get_by_label("Email").fill(OWNER.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile("password", re.IGNORECASE))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value(OWNER.email)
    # the keyboard goes on where the person must start again, and that field names the refusal
    expect(page.get_by_label("Password")).to_be_focused()
    expect(page.get_by_label("Password")).to_have_accessible_description(re.compile("password", re.IGNORECASE))
    screenshot_both(page, screenshot_dir, "login-error")
    assert_accessible(page)
    page.goto(url + "/stats")
    expect(page).to_have_url(re.compile(re.escape(url) + r"/login"))

    # The right password works.
    page.get_by_label("Email").fill(OWNER.email)
    page.get_by_label("Password").fill(OWNER.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("details.dropdown summary")).to_contain_text(OWNER.name)


def test_protected_pages_send_a_signed_out_visitor_to_sign_in_and_back(page: Page, app_server: LiveServer) -> None:
    url = app_server.url
    create_owner(page, app_server)
    sign_out(page)
    expect(page).to_have_url(re.compile(re.escape(url) + r"/login"))

    for path in ("/", "/photos?filter=blurred", "/jobs", "/system"):
        page.goto(url + path)
        expect(page).to_have_url(re.compile(re.escape(url) + r"/login"))
        assert_served_as_html(page)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    # Signing in from a protected page brings the visitor back to it.
    sign_in(page, app_server, path="/stats")
    expect(page).to_have_url(url + "/stats")
    expect(page.get_by_role("heading", name="Statistics", exact=True)).to_be_visible()


def test_the_top_bar_fits_every_width(page: Page, app_server: LiveServer) -> None:
    """From a phone to a desktop: the account menu stays beside the name, every link is on screen and
    nothing scrolls sideways; the menu still opens by touch at the narrowest."""
    create_owner(page, app_server)
    brand = page.get_by_role("link", name="Classify")
    account = page.locator(ACCOUNT_MENU)
    for width in (360, 390, 768, 900, 1024, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(app_server.url + "/similar")
        brand_box, account_box = brand.bounding_box(), account.bounding_box()
        assert brand_box and account_box
        middle = brand_box["y"] + brand_box["height"] / 2
        assert account_box["y"] <= middle <= account_box["y"] + account_box["height"], width
        for name in ("Photos", "Similar shots", "Statistics", "Jobs", "System"):
            box = page.get_by_role("navigation").get_by_role("link", name=name, exact=True).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (width, name)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, width
    account.click()
    expect(page.get_by_role("link", name="Settings")).to_be_visible()


OVERFLOWING = """() => [...document.querySelectorAll("main *")]
    .filter((el) => {
        const box = el.getBoundingClientRect();  // a visually hidden 1 px element (the file input) is not seen
        return el.getClientRects().length && box.width > 1 && box.right > window.innerWidth + 1;
    })
    .map((el) => el.tagName + (el.className ? "." + el.className : "") + ": " + el.textContent.trim().slice(0, 40))"""


def test_nothing_on_the_pages_is_cut_off_on_a_phone(page: Page, app_server: LiveServer) -> None:
    """At 360 px every element of every page ends inside the screen: nothing needs sideways scrolling or is
    clipped at the right edge (the System page's table used to cut its Detail column off)."""
    create_owner(page, app_server)
    page.set_viewport_size({"width": 360, "height": 800})
    for path in ("/", "/similar", "/stats", "/jobs", "/system", "/settings"):
        page.goto(app_server.url + path)
        assert page.evaluate(OVERFLOWING) == [], path


def test_pages_load_without_a_console_error_or_a_request_off_the_server(page: Page, app_server: LiveServer) -> None:
    """Every page names its icon (it used to ask for a /favicon.ico that was not there), and the API docs page
    takes its own instead of Litestar's from a CDN: nothing fails, nothing leaves the machine."""
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("request", lambda request: elsewhere.append(request.url) if app_server.url not in request.url else None)
    create_owner(page, app_server)
    upload_as_owner(app_server, [("one.jpg", images.jpeg(seed=8))])  # a photo's page, its map and its forms too
    page.goto(app_server.url + "/")
    page.locator("a.photo-link").first.wait_for()
    photo = page.locator("a.photo-link").first.get_attribute("href")
    for path in ("/", photo, "/similar", "/stats", "/jobs", "/system", "/settings", "/schema"):
        page.goto(app_server.url + path)
        page.wait_for_load_state("networkidle")
    assert errors == [] and elsewhere == []  # a script or style the content policy refused is a console error
    icon = httpx.get(app_server.url + "/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")


# the lines each element's text takes
LINES_OF_TEXT = """elements => elements.map(element => {
    const range = document.createRange(); range.selectNodeContents(element);
    return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size;
})"""
LONG_NAME = "holiday_" + "x" * 60 + "__motion_strong.jpg"


def test_a_photo_with_a_long_name_fits_the_screen_on_a_phone_and_a_desktop(page: Page, app_server: LiveServer) -> None:
    """A long file name wraps in the breadcrumb, the title and the facts instead of widening the page."""
    create_owner(page, app_server)
    upload_as_owner(app_server, [(LONG_NAME, images.jpeg(seed=4)), ("short.jpg", images.blurred_jpeg(sigma=6))])
    token = httpx.post(f"{app_server.url}/api/v1/auth/login", json={"email": OWNER.email, "password": OWNER.password})
    settings = httpx.patch(
        f"{app_server.url}/api/v1/settings",
        json={"blur_threshold": 0.97},  # the Statistics page's threshold label at the histogram's right edge
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert settings.status_code == 200, settings.text
    page.goto(app_server.url + "/photos")
    page.locator("a.photo-link").first.wait_for()
    photo_url = page.locator("li.photo-card", has_text=LONG_NAME).locator("a.photo-link").get_attribute("href")
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        for path in (photo_url, "/stats"):
            page.goto(app_server.url + path)
            assert page.evaluate(OVERFLOWING) == [], (width, path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (width, path)
        page.goto(app_server.url + "/photos")  # the tab's Export menu, opened, at the right of a wide window
        page.locator(".export-menu summary").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (width, "export menu")
        lines = page.eval_on_selector_all(".export-menu ul a", LINES_OF_TEXT)
        assert lines and (max(lines) == 1 or width < 400), lines  # they wrapped in a menu as wide as its button

    # once removed: the note that names it, and its card in Recently removed (Pico fitted the card to the name)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(app_server.url + photo_url)
    page.get_by_role("button", name="Remove from Classify").click()
    expect(page.locator(".action-note")).to_contain_text(LONG_NAME)
    for width in (320, 390, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        for path in (page.url, app_server.url + "/removed"):
            page.goto(path)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (width, path)


def test_a_new_password_or_signing_out_everywhere_else_ends_the_other_browsers(
    page: Page, app_server: LiveServer
) -> None:
    url = app_server.url
    create_owner(page, app_server)
    elsewhere = page.context.browser.new_context().new_page()  # another browser, signed in too
    sign_in(elsewhere, app_server)

    page.goto(url + "/settings")
    page.get_by_label("Current password").fill(OWNER.password)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a different passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("The two new passwords are not the same.")
    current = page.get_by_label("Current password")
    expect(current).to_be_focused()
    expect(current).to_have_accessible_description("The two new passwords are not the same.")
    page.get_by_label("Current password").fill(OWNER.password)
    page.get_by_label("New password", exact=True).fill("a brand new passphrase")
    page.get_by_label("New password again").fill("a brand new passphrase")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    assert_accessible(page)

    elsewhere.goto(url + "/stats")  # that browser's sign-in has ended, and it is told why
    expect(elsewhere).to_have_url(re.compile(re.escape(url) + r"/login"))
    expect(elsewhere.get_by_role("status")).to_contain_text("You were signed out here: the password was changed")
    sign_in(elsewhere, app_server, replace(OWNER, password="a brand new passphrase"), path="/stats")
    page.goto(url + "/jobs")  # and this one goes on
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()

    # Signing out everywhere else, the password unchanged: that browser signs in again, this one goes on.
    page.goto(url + "/settings")
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.get_by_role("status")).to_contain_text("Signed out everywhere else")
    assert_accessible(page)
    elsewhere.goto(url + "/stats")
    expect(elsewhere).to_have_url(re.compile(re.escape(url) + r"/login"))
    page.goto(url + "/jobs")
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    elsewhere.context.close()


def test_deleting_the_account_from_settings_takes_the_password_and_starts_afresh(
    page: Page, app_server: LiveServer
) -> None:
    url = app_server.url
    create_owner(page, app_server)
    page.goto(url + "/settings")
    page.get_by_label("Your password, to confirm").fill("not the password")
    page.get_by_role("button", name="Delete my account and my photos").click()
    expect(page.get_by_role("alert")).to_contain_text("The password is not right; nothing was deleted.")
    # the refusal is at the foot of a long page: the focus is taken there, not left at the top
    expect(page.get_by_label("Your password, to confirm")).to_be_focused()
    assert_accessible(page)

    page.get_by_label("Your password, to confirm").fill(OWNER.password)
    page.get_by_role("button", name="Delete my account and my photos").click()
    # the only account is gone: the server is as on its first run, and says what happened
    expect(page).to_have_url(url + "/setup?deleted=1")
    expect(page.get_by_role("status")).to_contain_text("Your account and everything Classify kept of it are deleted.")
    page.goto(url + "/photos")
    expect(page).to_have_url(re.compile(re.escape(url) + r"/setup"))
