"""`classify serve`: migrate the database if needed, then serve the app with in-process workers."""

from __future__ import annotations

import argparse
import gc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from app.adapters.offload import tune_allocator
    from app.adapters.sql.migrate import upgrade
    from app.logs import configure_logging, log
    from app.main import create_app
    from app.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    log.info("database ready", backend="sqlite" if settings.is_sqlite else "postgresql")
    tune_allocator()
    app = create_app(settings)
    # What start-up made (modules, routes, templates: ~150,000 objects) lives as long as the process. Out of
    # the collector's sight, a full collection, which pauses every request, walks only what came after:
    # 65 ms before, under 1 ms after (bench/bench_similar.py).
    gc.collect()
    gc.freeze()
    # One process on purpose: the in-process queue and its workers live in it.
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, proxy_headers=True, forwarded_allow_ips="*")
    return 0
