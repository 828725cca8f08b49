"""AI tagging in a real browser, against the local fake OpenAI server: upload three photos, tag two of them
with the photo page's button, see the tags there, then filter the gallery by a tag and see only the photos
that carry it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests import images
from tests.browser.conftest import create_owner
from tests.fakes.openai_fake import FakeOpenAI
from tests.support.live_server import LiveServer, live_server

SCORING_TIMEOUT = 30_000  # ms
LIGHTHOUSE, FOREST, PLAIN = "lighthouse.jpg", "forest.jpg", "plain.jpg"
# What the fake model answers for each photo; "dusk" is on both tagged photos, the others on one each.
ANSWERS: dict[str, dict[str, Any]] = {
    LIGHTHOUSE: {
        "tags": ["lighthouse", "dusk", "coast", "rocks"],
        "caption": "A lighthouse on a rocky coast at dusk.",
        "proposed_name": "lighthouse-at-dusk",
        "subject": "lighthouse",
    },
    FOREST: {
        "tags": ["forest", "dusk", "moss"],
        "caption": "A mossy forest path at dusk.",
        "proposed_name": "forest-path",
        "subject": "forest",
    },
}


@pytest.fixture
def ai_server(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[LiveServer]:
    env = {
        "CLASSIFY_DATA_DIR": str(tmp_path / "data"),
        "OPENAI_BASE_URL": fake_openai.base_url,
        "OPENAI_API_KEY": fake_openai.api_key,
    }
    with live_server(env, timeout=60) as server:
        yield server


def card(page: Page, name: str) -> Locator:
    return page.locator("li.photo-card").filter(has=page.locator(".photo-name", has_text=re.compile(f"^{name}$")))


def shown_names(page: Page) -> Locator:
    return page.locator("#grid li.photo-card .photo-name")


def open_photo(page: Page, name: str) -> None:
    card(page, name).locator("a.photo-link").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    expect(page.locator(".verdict")).to_have_attribute("data-verdict", re.compile(r"^(sharp|blurred)$"))


def tag_on_photo_page(page: Page, fake: FakeOpenAI, name: str) -> None:
    """On the photo's page: press the Tag button and see the model's tags and caption appear in place."""
    answer = ANSWERS[name]
    fake.responder = lambda body, image: answer
    tags = page.locator("#photo-tags").get_by_role("list", name="Tags")
    expect(tags).to_have_count(0)  # not tagged yet
    fake.delay_next(1.0)
    page.get_by_role("button", name="Tag with AI").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Asking the AI server…")).to_be_visible()  # the wait is said, not a still page
    expect(tags.get_by_role("listitem")).to_have_text(answer["tags"])
    expect(page.get_by_text("Asking the AI server…")).to_be_hidden()
    expect(page.locator("#photo-tags .caption")).to_have_text(answer["caption"])
    expect(page.locator("#photo-tags [data-proposed-name]")).to_have_text(answer["proposed_name"])
    expect(page.get_by_role("button", name="Describe again")).to_be_focused()  # not the page's top


def back_to_gallery(page: Page, server: LiveServer) -> None:
    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="Photos").click()
    expect(page).to_have_url(server.url + "/")


def test_tag_a_photo_then_filter_the_gallery_by_its_tag(
    page: Page, ai_server: LiveServer, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    url = ai_server.url
    create_owner(page, ai_server)
    files = [
        images.write(tmp_path / name, images.jpeg(800, 600, seed=40 + i))
        for i, name in enumerate((LIGHTHOUSE, FOREST, PLAIN))
    ]
    page.locator("#file-input").set_input_files(files)
    expect(page.locator("#tabs-wrap span.count[data-count=all]")).to_have_text("3", timeout=SCORING_TIMEOUT)
    expect(page.locator("#tabs-wrap span.count[data-count=unprocessed]")).to_have_text("0", timeout=SCORING_TIMEOUT)
    page.reload()
    expect(page.locator("li.photo-card")).to_have_count(3)
    expect(page.get_by_role("button", name="Tag keepers with AI")).to_be_visible()  # AI is set up

    # --- tag two photos from their pages; the third stays untagged --------------------------------
    open_photo(page, LIGHTHOUSE)
    tag_on_photo_page(page, fake_openai, LIGHTHOUSE)
    page.reload()  # the tags were saved, not just swapped into the page
    expect(page.locator("#photo-tags").get_by_role("listitem")).to_have_text(ANSWERS[LIGHTHOUSE]["tags"])
    back_to_gallery(page, ai_server)
    open_photo(page, FOREST)
    tag_on_photo_page(page, fake_openai, FOREST)
    back_to_gallery(page, ai_server)

    # The gallery's cards show their first tags as links; the untagged photo shows none.
    expect(card(page, LIGHTHOUSE).locator(".photo-tags-line .tag")).to_have_text(["lighthouse", "dusk", "coast"])
    expect(card(page, FOREST).locator(".photo-tags-line .tag")).to_have_text(["forest", "dusk", "moss"])
    expect(card(page, PLAIN).locator(".tag")).to_have_count(0)

    # --- filter by a tag only one photo has -------------------------------------------------------
    card(page, LIGHTHOUSE).get_by_role("link", name="lighthouse", exact=True).click()
    expect(page).to_have_url(url + "/photos?tag=lighthouse")
    expect(page.locator("#grid li.photo-card")).to_have_count(1)
    expect(shown_names(page)).to_have_text([LIGHTHOUSE])
    expect(page.get_by_text(FOREST, exact=True)).to_have_count(0)
    expect(page.get_by_text(PLAIN, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Clear tag “lighthouse”")).to_be_visible()

    # --- a tag both tagged photos share: both, but still not the untagged one ---------------------
    card(page, LIGHTHOUSE).get_by_role("link", name="dusk", exact=True).click()
    expect(page).to_have_url(url + "/photos?tag=dusk")
    expect(page.locator("#grid li.photo-card")).to_have_count(2)
    expect(card(page, LIGHTHOUSE)).to_be_visible()
    expect(card(page, FOREST)).to_be_visible()
    expect(card(page, PLAIN)).to_have_count(0)

    # --- the tag links on a photo's page filter the gallery too ---------------------------------
    open_photo(page, FOREST)
    page.locator("#photo-tags").get_by_role("link", name="moss", exact=True).click()
    expect(page).to_have_url(url + "/photos?tag=moss")
    expect(shown_names(page)).to_have_text([FOREST])

    # --- clearing the filter brings every photo back ----------------------------------------------
    page.get_by_role("link", name="Clear tag “moss”").click()
    expect(page.locator("#grid li.photo-card")).to_have_count(3)
    assert sorted(shown_names(page).all_inner_texts()) == sorted([LIGHTHOUSE, FOREST, PLAIN])


def test_a_refused_tagging_says_why_the_next_try_works_and_describe_again_asks_afresh(
    page: Page, ai_server: LiveServer, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    create_owner(page, ai_server)
    page.locator("#file-input").set_input_files(images.write(tmp_path / LIGHTHOUSE, images.jpeg(800, 600, seed=21)))
    expect(page.locator("#tabs-wrap span.count[data-count=all]")).to_have_text("1", timeout=SCORING_TIMEOUT)
    expect(page.locator("#tabs-wrap span.count[data-count=unprocessed]")).to_have_text("0", timeout=SCORING_TIMEOUT)
    page.reload()
    open_photo(page, LIGHTHOUSE)

    fake_openai.fail_next(401, message="Incorrect API key provided: sk-abc12***cret.")
    page.get_by_role("button", name="Tag with AI").click()
    refused = page.locator("#photo-tags [role=alert]")
    expect(refused).to_contain_text("The AI server refused this server's credentials (401)")
    expect(refused).to_contain_text("OPENAI_API_KEY")
    expect(refused).not_to_contain_text("sk-abc12")  # the provider's words, quoting the key, go to the log only
    expect(page.get_by_role("button", name="Tag with AI")).to_be_enabled()  # the section and its button stay

    tag_on_photo_page(page, fake_openai, LIGHTHOUSE)  # the next try works, and the message goes
    expect(page.locator("#photo-tags [role=alert]")).to_have_count(0)

    fake_openai.responder = lambda body, image: ANSWERS[FOREST]  # the model would now say something else
    page.get_by_role("button", name="Describe again").click()
    tags = page.locator("#photo-tags").get_by_role("list", name="Tags")
    expect(tags.get_by_role("listitem")).to_have_text(ANSWERS[FOREST]["tags"])  # asked afresh, not the cache
    assert fake_openai.calls() == 3  # the refused call, the first answer, the second
