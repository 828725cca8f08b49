"""`classify serve`: migrate the database if needed, then serve the app with in-process workers."""

from __future__ import annotations

import argparse
import gc
import ipaddress
import socket
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, default=8000, help="port to listen on (default 8000)")


def port_number(text: str) -> int:
    port = int(text) if text.isdigit() else -1
    if not 0 <= port <= 65535:  # the socket module takes larger numbers modulo 65536
        raise argparse.ArgumentTypeError(f"{text} is not a port (0-65535)")
    return port


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything else starts: a port in use is said at once, before the
    database is migrated and the workers take queued work in a process that cannot serve."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart need not wait
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def listens_here_only(host: str) -> bool:
    """Whether `host` is a loopback address, reachable only from this machine."""
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from app.adapters.offload import tune_allocator
    from app.bootstrap import bootstrap
    from app.cli.database import migrated  # before logging is configured (see there)
    from app.cli.stoppable import StoppableServer
    from app.logs import configure_logging, log
    from app.main import create_app
    from app.settings import Settings

    try:
        sock = listening_socket(args.host, args.port)
    except OSError as exc:
        print(f"classify: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    migrated(settings)
    log.info("database ready", backend="sqlite" if settings.is_sqlite else "postgresql")
    tune_allocator()
    container = bootstrap(settings)
    container.first_run_page = listens_here_only(args.host)
    app = create_app(settings, container)
    # What start-up made (modules, routes, templates: ~150,000 objects) lives as long as the process. Out of
    # the collector's sight, a full collection, which pauses every request, walks only what came after:
    # 65 ms before, under 1 ms after (bench/bench_similar.py).
    gc.collect()
    gc.freeze()
    # One process on purpose: the in-process queue and its workers live in it.
    # host and port only name the socket in the start-up message
    # X-Forwarded-For is believed only from the proxies FORWARDED_ALLOW_IPS names (uvicorn's own setting; its
    # default has changed between versions, so it is given here when unset), and read from the right: trusting
    # every peer took the left-most address, which the client writes, so a guesser could reset the sign-in
    # limit with each request.
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # A stop waits this long at most for answers still going out (a ZIP to a slow client), within Fly's
        # kill_timeout of 30 s; the lifespan's clean-up comes after it.
        timeout_graceful_shutdown=15,
    )
    log.info("serving", url=f"http://{args.host}:{args.port}")  # uvicorn names only the addresses it binds itself
    StoppableServer(config, container.stopping).run(sockets=[sock])
    return 0
