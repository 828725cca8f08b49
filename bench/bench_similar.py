#!/usr/bin/env python3
"""Similar shots on blur-dev, through the product's own path, and what grouping a big library costs.

    .venv/bin/python bench/bench_similar.py [--data ../shared/data/blur-dev] [--shots 10000]

Quality: every real photo of blur-dev (`shift/`, frames of 160 scenes, no capture times) gets its thumb made
as an upload's is, and the fingerprint of that thumb. Two photos are linked when their fingerprints are within
MAX_DISTANCE, and linked photos are grouped (single linkage over all pairs, so every photo may join any
other: harsher than the product, which only compares photos taken within MAX_GAP of each other). Printed:
how many groups formed, how many mix scenes, and how many photos found a group.

Cost: `similar_groups` over --shots made-up shots (bursts of 1 to 6 within a day), against sorting the same
shots by time, the least any grouping along the time line does; medians of 5 runs. The Similar shots page's
query over a library of that size in SQLite (`similar_page`: every fingerprint read, grouped, one page of
photos loaded), first with nothing kept in the process, then for the next page, and again for the first page
once a photo of it is marked, against the gallery's first page (`list_photos`) on the same database. And
what the fingerprint adds to a photo's intake: taking it from the thumb, against making the thumb and the
score from the original, on the 12 MP photos of `speed/`; medians of 3 passes.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.adapters.imaging import ImageLimits, make_rendition  # noqa: E402
from app.adapters.intake_task import jpeg_fingerprint, thumb_and_score  # noqa: E402
from app.adapters.offload import run_inline  # noqa: E402
from app.adapters.sql import similar_repositories  # noqa: E402
from app.adapters.sql.migrate import upgrade  # noqa: E402
from app.adapters.sql.models import PhotoRow  # noqa: E402
from app.bootstrap import bootstrap  # noqa: E402
from app.domain.categories import Category  # noqa: E402
from app.domain.grouping import MAX_DISTANCE, Shot, distance, similar_groups  # noqa: E402
from app.domain.services import photos, similar  # noqa: E402
from app.settings import Settings  # noqa: E402


def quality(data: Path) -> None:
    with open(data / "labels.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["source"] == "shift_blur"]
    limits = ImageLimits()
    prints = [jpeg_fingerprint(make_rendition((data / r["path"]).read_bytes(), limits, "thumb").data) for r in rows]
    scenes = [r["scene"] for r in rows]
    parent = list(range(len(rows)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if distance(prints[i], prints[j]) <= MAX_DISTANCE:
                parent[root(i)] = root(j)
    groups: dict[int, set[int]] = {}
    for i in range(len(rows)):
        groups.setdefault(root(i), set()).add(i)
    real = [g for g in groups.values() if len(g) > 1]
    mixed = sum(1 for g in real if len({scenes[i] for i in g}) > 1)
    grouped = sum(len(g) for g in real)
    print(f"blur-dev shift/: {len(rows)} photos of {len(set(scenes))} scenes, linked within {MAX_DISTANCE} bits")
    print(f"  groups: {len(real)}, mixing scenes: {mixed}; photos in a group: {grouped} ({grouped / len(rows):.1%})")
    product_path(prints, scenes)


def product_path(prints: list[str], scenes: list[str]) -> None:
    """The same photos through `similar_groups`, as photos without a capture time, brought in a scene after
    another (as a camera names its files), then as an import's parallel downloads would bring them in: each
    up to 4 places out of order. (blur-dev's own file names are random, which no camera does.)"""
    rng = random.Random(3)
    by_scene = sorted(range(len(prints)), key=lambda i: (scenes[i], i))
    interleaved = [by_scene[k] for k in sorted(range(len(by_scene)), key=lambda k: k + rng.uniform(0, 4))]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for label, order in (("a scene after another", by_scene), ("downloads out of order", interleaved)):
        shots = [
            Shot(uuid.UUID(int=i), prints[i], None, start + dt.timedelta(seconds=at), 0.5) for at, i in enumerate(order)
        ]
        groups = similar_groups(shots)
        members = [[scenes[s.id.int] for s in g.shots] for g in groups]
        mixed = sum(1 for m in members if len(set(m)) > 1)
        grouped = sum(len(m) for m in members)
        split = sum(1 for scene in set(scenes) if sum(scene in m for m in members) > 1)
        print(f"  similar_groups, {label}: {len(groups)} groups, mixing scenes: {mixed}, ", end="")
        print(f"scenes split over several groups: {split}; photos in a group: {grouped / len(prints):.1%}")


def made_up_shots(n: int) -> list[Shot]:
    rng = random.Random(7)
    start, shots = dt.datetime(2026, 1, 1, tzinfo=dt.UTC), []
    while len(shots) < n:
        start += dt.timedelta(minutes=rng.randint(1, 90))
        scene = rng.getrandbits(64)
        for k in range(rng.randint(1, 6)):
            fp = scene ^ (1 << rng.randrange(64)) if k else scene
            taken = start + dt.timedelta(seconds=2 * k)
            shots.append(Shot(uuid.UUID(int=len(shots)), f"{fp:016x}", taken, taken, rng.random()))
    return shots[:n]


def cost(n: int) -> None:
    shots = made_up_shots(n)
    random.Random(1).shuffle(shots)
    group_ms, sort_ms = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        groups = similar_groups(shots)
        t1 = time.perf_counter()
        sorted(shots, key=lambda s: (s.taken_at, s.added_at, s.id))
        t2 = time.perf_counter()
        group_ms.append((t1 - t0) * 1000)
        sort_ms.append((t2 - t1) * 1000)
    g, s = statistics.median(group_ms), statistics.median(sort_ms)
    print(f"{n} shots -> {len(groups)} groups: grouping {g:.1f} ms, sorting alone {s:.1f} ms, ratio {g / s:.1f}x")


async def page_cost(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder), database_url=f"sqlite+aiosqlite:///{folder}/bench.db", secret_key="b" * 40
        )
        upgrade(settings.database_url)
        container = bootstrap(settings, offload=run_inline)
        gc.collect()
        gc.freeze()  # as `classify serve` does once it has started
        try:
            async with container.uow() as tx:
                user = await tx.users.add("bench@example.com", None, None)
                rows = [_row(user.id, shot, i) for i, shot in enumerate(made_up_shots(n))]
                await tx.session.execute(insert(PhotoRow), rows)
                await tx.commit()
            cold_ms, warm_ms, marked_ms, gallery_ms = [], [], [], []
            for run in range(5):
                similar_repositories._SHOTS.clear()  # the shots kept in the process from the last run
                t0 = time.perf_counter()
                first = await similar.similar_page(user, uow=container.uow)
                t1 = time.perf_counter()
                page = await similar.similar_page(user, uow=container.uow, cursor=first.next_cursor)
                t2 = time.perf_counter()
                await photos.list_photos(user, Category.ALL, uow=container.uow)
                t3 = time.perf_counter()
                shot = first.groups[0].photos[-1]
                await photos.mark_photo(user.id, shot.id, ("sharp", None)[run % 2], uow=container.uow)
                t4 = time.perf_counter()
                await similar.similar_page(user, uow=container.uow)
                t5 = time.perf_counter()
                cold_ms.append((t1 - t0) * 1000)
                warm_ms.append((t2 - t1) * 1000)
                gallery_ms.append((t3 - t2) * 1000)
                marked_ms.append((t5 - t4) * 1000)
        finally:
            gc.unfreeze()
            await container.close()
    cold, warm, marked, g = (statistics.median(v) for v in (cold_ms, warm_ms, marked_ms, gallery_ms))
    print(f"{n} photos in SQLite, {page.total_groups} groups; gallery page {g:.1f} ms. Similar shots: ", end="")
    print(f"first page {cold:.1f} ms ({cold / g:.1f}x), next page {warm:.1f} ms ({warm / g:.1f}x), ", end="")
    print(f"first page after a photo is marked {marked:.1f} ms ({marked / g:.1f}x)")


def _row(user_id: uuid.UUID, shot: Shot, i: int) -> dict:
    return {
        "id": uuid.uuid4(), "user_id": user_id, "source": "upload", "filename": f"{i}.jpg", "mime_type": "image/jpeg",
        "width": 4000, "height": 3000, "file_size": 2_000_000, "sha256": f"{i:064x}", "storage_key": f"k{i}",
        "taken_at": shot.taken_at, "blur_score": shot.blur_score, "fingerprint": shot.fingerprint, "flags": [],
        "tags": [], "created_at": shot.added_at, "updated_at": shot.added_at,
    }  # fmt: skip


def intake_share(data: Path) -> None:
    limits, intake_ms, fingerprint_ms = ImageLimits(), [], []
    for _ in range(3):
        for path in sorted((data / "speed").glob("*.jpg")):
            original = path.read_bytes()
            t0 = time.perf_counter()
            thumb, _, _ = thumb_and_score(original, limits)
            t1 = time.perf_counter()
            jpeg_fingerprint(thumb.data)
            t2 = time.perf_counter()
            intake_ms.append((t1 - t0) * 1000)
            fingerprint_ms.append((t2 - t1) * 1000)
    i, f = statistics.median(intake_ms), statistics.median(fingerprint_ms)
    print(f"12 MP intake: thumb + score {i:.1f} ms, fingerprint {f:.2f} ms, ratio {f / i:.3f}")


PAUSE_SCRIPT = """
import gc, statistics, time
from app.main import create_app
from app.settings import Settings
import uvicorn
create_app(Settings.from_env())
def full():
    t = time.perf_counter(); gc.collect(); return (time.perf_counter() - t) * 1000
before = statistics.median(full() for _ in range(5))
gc.freeze()
print(gc.get_freeze_count(), before, statistics.median(full() for _ in range(5)))
"""


def collection_pause() -> None:
    """A full garbage collection in the web process as it starts, and once `classify serve` has frozen what
    start-up made (its own process: this one holds OpenCV and the blur-dev runs)."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "CLASSIFY_DATA_DIR": folder}
        out = subprocess.run([sys.executable, "-c", PAUSE_SCRIPT], env=env, cwd=ROOT, check=True, capture_output=True)
    frozen, before, after = out.stdout.decode().split()[-3:]
    print(f"web process: a full collection {float(before):.1f} ms; with start-up's {frozen} objects frozen, ", end="")
    print(f"{float(after):.2f} ms ({float(after) / float(before):.2%} of it)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "blur-dev")
    ap.add_argument("--shots", type=int, default=10_000)
    args = ap.parse_args()
    quality(args.data)
    cost(args.shots)
    asyncio.run(page_cost(args.shots))
    collection_pause()
    intake_share(args.data)


if __name__ == "__main__":
    main()
