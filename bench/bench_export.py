#!/usr/bin/env python3
"""Exports of a big library: how soon the download starts and how much memory it takes, in SQLite.

    .venv/bin/python bench/bench_export.py [--photos 100000]

--photos made-up photos (bench_similar.made_up_shots) in a fresh SQLite database, each with an original of 1 KB
(so that an archive's time is the export's own work more than the disk's). Each export runs in a process of
its own, so that its peak memory is its own: the CSV list (`/api/v1/export/csv`) and the ZIP (`/api/v1/export`).
Printed, medians of 3 processes: the time to the first chunk and to the last, each as a ratio to the gallery's
first page in the same process, and how much the export adds to the process's peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.adapters.csv_export import csv_stream  # noqa: E402
from app.adapters.offload import run_inline  # noqa: E402
from app.adapters.sql.migrate import upgrade  # noqa: E402
from app.adapters.sql.models import PhotoRow  # noqa: E402
from app.adapters.zip_export import zip_stream  # noqa: E402
from app.bootstrap import bootstrap  # noqa: E402
from app.domain.categories import Category  # noqa: E402
from app.domain.services import export, photos  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.bench_similar import _row, made_up_shots  # noqa: E402

EMAIL = "bench@example.com"
PROCESSES = 3
ORIGINAL = bytes(range(256)) * 4  # 1 KB


def _settings(folder: str) -> Settings:
    return Settings(data_dir=Path(folder), database_url=f"sqlite+aiosqlite:///{folder}/bench.db", secret_key="b" * 40)


async def make(folder: str, n: int) -> None:
    upgrade(_settings(folder).database_url)
    container = bootstrap(_settings(folder), offload=run_inline)
    async with container.uow() as tx:
        user = await tx.users.add(EMAIL, None, None)
        await tx.session.execute(insert(PhotoRow), [_row(user.id, shot, i) for i, shot in enumerate(made_up_shots(n))])
        await tx.commit()
    for i in range(n):  # a small original each, so that the archive stores every photo
        path = container.storage.original_path(f"k{i}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ORIGINAL)
    await container.close()


async def measure(folder: str, kind: str) -> dict[str, float]:
    container = bootstrap(_settings(folder), offload=run_inline)
    async with container.uow() as tx:
        user = await tx.users.by_email(EMAIL)
    t0 = time.perf_counter()
    await photos.list_photos(user, Category.ALL, uow=container.uow)
    gallery = time.perf_counter() - t0
    before = _peak_mb()
    t0 = time.perf_counter()
    if kind == "csv":
        chunks = csv_stream(export.LIST_COLUMNS, await export.list_rows(user, Category.ALL, uow=container.uow))
    else:
        names, storage = "original", container.storage
        chunks = zip_stream(await export.export_entries(user, Category.ALL, names, uow=container.uow, storage=storage))
    first = None
    async for _ in chunks:
        first = first or time.perf_counter() - t0
    last = time.perf_counter() - t0
    peak = _peak_mb()
    await container.close()
    return {"gallery": gallery, "first": first or last, "last": last, "added_mb": peak - before}


def _peak_mb() -> float:
    """This process's peak resident memory since it started (VmHWM; ru_maxrss would count the parent's from
    before the exec)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=100_000)
    ap.add_argument("--measure", nargs=2, metavar=("FOLDER", "KIND"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(measure(*args.measure))))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(make(folder, args.photos))
        for kind in ("csv", "zip"):
            runs = [_child(folder, kind) for _ in range(PROCESSES)]
            m = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(f"{args.photos} photos, {kind}: first chunk {m['first'] * 1000:.0f} ms "
                  f"({m['first'] / m['gallery']:.1f}x the gallery's first page), all of it {m['last']:.1f} s "
                  f"({m['last'] / m['gallery']:.0f}x), peak memory +{m['added_mb']:.0f} MB")  # fmt: skip


def _child(folder: str, kind: str) -> dict[str, float]:
    command = [sys.executable, __file__, "--measure", folder, kind]
    return json.loads(subprocess.run(command, check=True, capture_output=True, cwd=ROOT).stdout)


if __name__ == "__main__":
    main()
