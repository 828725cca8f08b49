"""`classify worker`: an arq worker for queued tasks (needs REDIS_URL)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from app.adapters.offload import tune_allocator
    from app.jobs.worker import run_worker
    from app.logs import configure_logging
    from app.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    tune_allocator()  # it holds each photo's bytes on the way to the pool, as the web process does
    asyncio.run(run_worker(settings, burst=args.burst))
    return 0
