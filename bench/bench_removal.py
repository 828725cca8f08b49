#!/usr/bin/env python3
"""Removing many photos from Classify, and putting them back: the batch job against one photo at a time, in
SQLite.

    .venv/bin/python bench/bench_removal.py [--photos 20000] [--runs 3]

Each run makes two libraries of --photos made-up photos (bench_similar.made_up_shots), each photo with a 1 KB
original and a thumb on disk. One is removed whole by the job's code (`removal.start_removal`, then
`removal.run_removal`: 500 rows a transaction move to Recently removed), then put back whole
(`recently_removed.restore(everything=True)`: 500 a transaction); from the other, the same number of photos
is removed through `photos.delete_photo`, one transaction a photo, as "Remove from Classify" does (timed on
the first tenth and scaled, since it is the slow side). Printed, medians over the runs: milliseconds a photo
each way, and the ratios to the one-at-a-time removal measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.adapters.offload import run_inline  # noqa: E402
from app.adapters.sql.migrate import upgrade  # noqa: E402
from app.adapters.sql.models import PhotoRow  # noqa: E402
from app.bootstrap import Container, bootstrap  # noqa: E402
from app.domain.categories import Category  # noqa: E402
from app.domain.services import photos, recently_removed, removal  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.bench_similar import _row, made_up_shots  # noqa: E402

EMAIL = "bench@example.com"
FILE = bytes(range(256)) * 4  # 1 KB


class _HeldQueue:
    async def enqueue(self, name: str, *args: Any, **options: Any) -> None:  # the bench runs the task itself
        pass


async def _library(folder: str, n: int) -> tuple[Container, Any, list[Any]]:
    settings = Settings(data_dir=Path(folder), database_url=f"sqlite+aiosqlite:///{folder}/b.db", secret_key="b" * 40)
    upgrade(settings.database_url)
    container = bootstrap(settings, offload=run_inline, queue=_HeldQueue())
    async with container.uow() as tx:
        user = await tx.users.add(EMAIL, None, None)
        rows = [_row(user.id, shot, i) for i, shot in enumerate(made_up_shots(n))]
        await tx.session.execute(insert(PhotoRow), rows)
        await tx.commit()
    for i in range(n):
        await container.storage.put_original(f"k{i}", FILE)
        await container.storage.put_rendition(f"k{i}", "thumb", FILE)
    return container, user, [row["id"] for row in rows]


async def batch_ms(folder: str, n: int) -> tuple[float, float]:
    """Milliseconds a photo: the removal job, then putting them all back."""
    container, user, _ = await _library(folder, n)
    t0 = time.perf_counter()
    job = await removal.start_removal(user, Category.ALL, uow=container.uow, queue=container.queue)
    removed = await removal.run_removal(job.id, uow=container.uow, clock=container.clock)
    t1 = time.perf_counter()
    restored = await recently_removed.restore(user, uow=container.uow, everything=True)
    t2 = time.perf_counter()
    assert removed == n == len(restored.photos), (removed, len(restored.photos))
    await container.close()
    return (t1 - t0) * 1000 / n, (t2 - t1) * 1000 / n


async def one_by_one_ms(folder: str, n: int) -> float:
    container, user, ids = await _library(folder, n)
    sample = ids[: max(1, n // 10)]
    t0 = time.perf_counter()
    for photo_id in sample:
        await photos.delete_photo(user.id, photo_id, uow=container.uow, clock=container.clock)
    elapsed = time.perf_counter() - t0
    await container.close()
    return elapsed * 1000 / len(sample)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    batch, back, single = [], [], []
    for _ in range(args.runs):  # alternating, so that a noisy neighbour hits both sides alike
        with tempfile.TemporaryDirectory() as folder:
            removed_ms, restored_ms = asyncio.run(batch_ms(folder, args.photos))
            batch.append(removed_ms)
            back.append(restored_ms)
        with tempfile.TemporaryDirectory() as folder:
            single.append(asyncio.run(one_by_one_ms(folder, args.photos)))
    b, r, s = statistics.median(batch), statistics.median(back), statistics.median(single)
    n = args.photos
    print(f"{n} photos, ms a photo (medians): the removal job {b:.3f} ({b * n / 1000:.1f} s in all), putting them "
          f"all back {r:.3f} ({r * n / 1000:.1f} s), one at a time {s:.3f}")  # fmt: skip
    print(f"  against one at a time: the job {s / b:.1f}x faster, putting back {s / r:.1f}x faster")
    each = (", ".join(f"{x:.3f}" for x in runs) for runs in (batch, back, single))
    print("  each run, ms a photo: the job {}; putting back {}; one at a time {}".format(*each))


if __name__ == "__main__":
    main()
