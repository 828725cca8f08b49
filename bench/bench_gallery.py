#!/usr/bin/env python3
"""The gallery's queries over a big library: each tab's first page and the tabs' counts, in SQLite.

    .venv/bin/python bench/bench_gallery.py [--photos 100000] [--marked 0.01]

--photos made-up photos (bench_similar.made_up_shots: every one scored, half of them blurred at 0.5), a share
of them (--marked) marked sharp or blurred by their owner. Printed: the medians of 7 reads of each tab's
first page of 50 (`page`), of the All and Blurred tabs' first page in blur-score order (`sort=blurriest` and
`sharpest`), and of the counts every gallery page shows beside it (`counts`); and what a photo's page in the
middle of the library reads: its previous and next photo in each order, where it stands ("12 of 143"), its
similar shots (those taken near it), and the Statistics page's figures. Each as a ratio to the All tab's
first page (newest first), measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.adapters.offload import run_inline  # noqa: E402
from app.adapters.sql.migrate import upgrade  # noqa: E402
from app.adapters.sql.models import PhotoRow  # noqa: E402
from app.bootstrap import bootstrap  # noqa: E402
from app.domain.categories import MARKS, Category, Order  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.bench_similar import _row, made_up_shots  # noqa: E402

REPEATS = 7


async def run(n: int, marked: float) -> None:
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        settings = Settings(data_dir=Path(folder), database_url=url, secret_key="b" * 40)
        upgrade(settings.database_url)
        container = bootstrap(settings, offload=run_inline)
        try:
            async with container.uow() as tx:
                user = await tx.users.add("bench@example.com", None, None)
                rows = [_row(user.id, shot, i) for i, shot in enumerate(made_up_shots(n))]
                for row in rows:
                    row["marked_as"] = rng.choice(MARKS) if rng.random() < marked else None
                await tx.session.execute(insert(PhotoRow), rows)
                await tx.commit()

            async def median_ms(read: Callable[[object], Awaitable[object]]) -> float:
                times = []
                for _ in range(REPEATS):
                    async with container.uow() as tx:
                        start = time.perf_counter()
                        await read(tx)
                        times.append((time.perf_counter() - start) * 1000)
                return statistics.median(times)

            pages = {
                category: await median_ms(lambda tx, c=category: tx.photos.page(user.id, c, 0.5, 50, None))
                for category in Category
            }
            ordered = {
                (category, order): await median_ms(
                    lambda tx, c=category, o=order: tx.photos.page(user.id, c, 0.5, 50, None, order=o)
                )
                for category in (Category.ALL, Category.BLURRED)
                for order in (Order.BLURRIEST, Order.SHARPEST)
            }
            counts = await median_ms(lambda tx: tx.photos.counts(user.id, 0.5))
            async with container.uow() as tx:
                middle = await tx.photos.get(user.id, rows[n // 2]["id"])
            assert middle is not None
            steps = {
                (category, order): await median_ms(
                    lambda tx, c=category, o=order: tx.photos.neighbours(user.id, middle, c, 0.5, o)
                )
                for category in (Category.ALL, Category.BLURRED)
                for order in Order
            }
            places = {
                (category, order): await median_ms(
                    lambda tx, c=category, o=order: tx.photos.place(user.id, middle, c, 0.5, o)
                )
                for category in (Category.ALL, Category.BLURRED)
                for order in (Order.NEWEST, Order.BLURRIEST)
            }
            window = dt.timedelta(seconds=30)
            near = await median_ms(
                lambda tx: tx.similar.shots_near(user.id, middle.taken_at, middle.created_at, window)
            )
            stats = await median_ms(lambda tx: tx.photos.stats(user.id, middle.created_at))
        finally:
            await container.close()
    base = pages[Category.ALL]
    print(f"{n} photos in SQLite, {marked:.0%} marked by their owner; medians of {REPEATS}")
    for category, ms in pages.items():
        print(f"  {category.label:12s} first page {ms:6.1f} ms  ({ms / base:5.1f}x the All tab)")
    for (category, order), ms in ordered.items():
        label = f"{category.label}, {order.label.lower()}"
        print(f"  {label:30s} {ms:6.1f} ms  ({ms / base:5.1f}x the All tab)")
    print(f"  counts of the tabs     {counts:6.1f} ms  ({counts / base:5.1f}x the All tab)")
    print("  a photo's page, in the middle of the library:")
    for (category, order), ms in steps.items():
        label = f"previous and next, {category.label}, {order.label.lower()}"
        print(f"    {label:44s} {ms:6.1f} ms  ({ms / base:5.1f}x the All tab)")
    for (category, order), ms in places.items():
        label = f"where it stands, {category.label}, {order.label.lower()}"
        print(f"    {label:44s} {ms:6.1f} ms  ({ms / base:5.1f}x the All tab)")
    print(f"    {'similar shots (taken near it)':44s} {near:6.1f} ms  ({near / base:5.1f}x the All tab)")
    print(f"  {'the Statistics figures':46s} {stats:6.1f} ms  ({stats / base:5.1f}x the All tab)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=100_000)
    ap.add_argument("--marked", type=float, default=0.01, help="share of photos their owner marked")
    a = ap.parse_args()
    asyncio.run(run(a.photos, a.marked))


if __name__ == "__main__":
    main()
