"""A tab in blur-score order, most blurred or sharpest first: through the API's pages, on the gallery, and
from one photo to the next."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from typing import Any

from sqlalchemy import event

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain.categories import Category, Order
from tests import images
from tests.conftest import run_sql
from tests.integration.test_pages import _signed_in


def _library(api) -> list[str]:
    """Five photos of rising blur, and the order of their ids from the sharpest."""
    ids = [api.upload(("sharp.jpg", images.jpeg(seed=1))).json()["photos"][0]["id"]]
    for sigma in (1.5, 3, 6, 9):
        data = images.blurred_jpeg(sigma=sigma, seed=2)
        ids.append(api.upload((f"sigma{sigma}.jpg", data)).json()["photos"][0]["id"])
    api.wait_scored()
    scores = {p["id"]: p["blur_score"] for p in api.get("/api/v1/photos").json()["items"]}
    assert sorted(ids, key=scores.__getitem__) == ids, scores  # the scores rise with the blur
    return ids


def _walk(api, query: str, limit: int = 2) -> list[str]:
    seen, cursor = [], None
    while True:
        page = api.get(f"/api/v1/photos?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [p["id"] for p in page["items"]]
        if not (cursor := page["next_cursor"]):
            return seen


def test_the_api_lists_a_tab_in_blur_order_page_after_page_with_unscored_photos_last(api, settings):
    ids = _library(api)
    assert _walk(api, "filter=all&sort=sharpest") == ids
    assert _walk(api, "filter=all&sort=blurriest") == ids[::-1]
    assert _walk(api, "filter=all") == ids[::-1]  # newest first, as ever: they came in from the sharpest
    blurred = _walk(api, "filter=blurred&sort=sharpest", limit=1)
    assert blurred and blurred == [i for i in ids if i in set(blurred)]

    run_sql(settings.database_url, "UPDATE photos SET blur_score = NULL WHERE id = :id", id=_db_id(ids[2], settings))
    assert _walk(api, "filter=all&sort=blurriest")[-1] == ids[2]
    assert _walk(api, "filter=all&sort=sharpest")[-1] == ids[2]

    wrong = api.get("/api/v1/photos?sort=fuzziest")
    assert wrong.status_code == 422 and "sort must be one of newest, blurriest, sharpest" in wrong.json()["detail"]
    newest_cursor = api.get("/api/v1/photos?limit=1").json()["next_cursor"]
    mixed = api.get(f"/api/v1/photos?sort=blurriest&cursor={newest_cursor}")
    assert mixed.status_code == 422 and "not valid for this order" in mixed.json()["detail"]


def _db_id(photo_id: str, settings) -> object:
    """The id as the database keeps it (a UUID's bytes in SQLite, a uuid in PostgreSQL)."""
    return uuid.UUID(photo_id) if settings.database_url.startswith("postgresql") else uuid.UUID(photo_id).bytes


def test_the_gallery_orders_its_tab_and_a_photo_steps_through_that_order(client, api):
    ids = _library(api)
    _signed_in(client)
    page = client.get("/photos?filter=all&sort=blurriest").text
    assert '<option value="blurriest" selected>Most blurred first</option>' in page
    linked = re.findall(r'href="/photos/([0-9a-f-]{36})\?filter=all&amp;sort=blurriest"', page)
    assert linked == ids[::-1]
    tabs = html.unescape(page)
    assert '/photos?filter=blurred&sort=blurriest"' in tabs  # the other tabs keep the order

    middle = client.get(f"/photos/{ids[2]}?filter=all&sort=blurriest").text
    assert f'href="/photos/{ids[3]}?filter=all&amp;sort=blurriest" id="photo-previous"' in middle
    assert f'href="/photos/{ids[1]}?filter=all&amp;sort=blurriest" id="photo-next"' in middle
    sharpest_first = client.get(f"/photos/{ids[2]}?filter=all&sort=sharpest").text
    assert f'href="/photos/{ids[3]}?filter=all&amp;sort=sharpest" id="photo-next"' in sharpest_first
    stale = client.get(f"/photos/{ids[2]}?filter=all&sort=fuzziest")  # an old link still shows the photo
    assert stale.status_code == 200 and f'href="/photos/{ids[1]}?filter=all" id="photo-next"' in stale.text

    # where the photo stands in the tab it was opened from, in that order
    def place(photo_id: str, query: str) -> str | None:
        found = re.search(r"Photo </span>(\d+ of \d+)</span>", client.get(f"/photos/{photo_id}?{query}").text)
        return found.group(1) if found else None

    assert place(ids[4], "filter=all&sort=blurriest") == "1 of 5"
    assert place(ids[4], "filter=all&sort=sharpest") == "5 of 5"
    assert place(ids[1], "filter=all&sort=sharpest") == "2 of 5"
    assert place(ids[0], "filter=all") == "5 of 5"  # newest first: the sharp one came in first
    blurred = [i for i in ids if i in set(_walk(api, "filter=blurred"))]
    assert place(blurred[-1], "filter=blurred&sort=blurriest") == f"1 of {len(blurred)}"
    assert place(ids[0], "filter=blurred") is None  # not in that tab (any more): no place to give


INDEXED_PAGES = (
    (Category.ALL, Order.BLURRIEST, "ix_photos_user_blurriest"),
    (Category.ALL, Order.SHARPEST, "ix_photos_user_sharpest"),
    (Category.UNPROCESSED, Order.NEWEST, "ix_photos_user_unscored"),
)


def test_a_tab_in_blur_score_order_and_the_unprocessed_tab_are_read_from_their_indexes(settings):
    """A big tab's first page seeks in an index instead of sorting or walking the whole library
    (bench/bench_gallery.py, 100,000 photos in SQLite: blur-score order 33-53 ms -> 3-5 ms; the Unprocessed
    tab 42-61 ms -> 1.7 ms). Databases use an index on an expression only when the query spells the same
    expression, and a partial one only when the query implies its condition: this fails if they drift apart."""
    container = bootstrap(settings, offload=run_inline)
    statements: list[tuple[str, Any]] = []

    @event.listens_for(container.engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    async def plans() -> list[str]:
        found = []
        async with container.uow() as tx:
            user = await tx.users.add("order@example.com", None, None)
            connection = await tx.session.connection()
            postgres = connection.dialect.name == "postgresql"
            if postgres:  # an empty table is cheaper to read whole: ask what it would do on a big one
                await connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            for category, order, _ in INDEXED_PAGES:
                await tx.photos.page(user.id, category, 0.5, 50, None, order=order)
                statement, parameters = statements[-1]
                explain = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
                found.append(str((await connection.exec_driver_sql(explain + statement, parameters)).all()))
        await container.close()
        return found

    for (_, _, index), plan in zip(INDEXED_PAGES, asyncio.run(plans()), strict=True):
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan  # SQLite's sort, when it sorts
