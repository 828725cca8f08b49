"""Telling a database that cannot be reached (for now) from a statement it refused.

Web requests answer the first with a 503 and workers try the task again shortly; the second is a fault of ours
and stays a 500 or a failed task.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

from sqlalchemy.exc import DBAPIError

# SQLite's own words for a database it cannot use at the moment (another writer, a full or missing disk)
SQLITE_OUTAGES = ("database is locked", "unable to open database file", "disk i/o error")
OUTAGE_WAITS = (1.0, 2.0, 4.0, 8.0, 15.0)  # s before a task's tries 2..6: half a minute in all, then the sweep
DISK_FULL_STATE = "53100"  # PostgreSQL's disk_full
NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})
CHAIN_DEPTH = 8  # links of __cause__ / __context__ looked through: SQLAlchemy wraps the driver's error twice


def _links(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, the driver's error it wraps, and what caused them, nearest first."""
    seen: BaseException | None = exc
    for _ in range(CHAIN_DEPTH):
        if seen is None:
            return
        yield seen
        wrapped = seen.orig if isinstance(seen, DBAPIError) else None  # the driver's own error
        seen = wrapped or seen.__cause__ or seen.__context__


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` means the database is down, unreachable, restarting or dropped the connection."""
    from asyncpg.exceptions import CannotConnectNowError, PostgresConnectionError

    return any(
        (isinstance(link, DBAPIError) and link.connection_invalidated)
        or isinstance(link, ConnectionError | PostgresConnectionError | CannotConnectNowError)
        or ("sqlite" in type(link).__module__ and any(words in str(link).lower() for words in SQLITE_OUTAGES))
        for link in _links(exc)
    )


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` is the database refusing a write for want of disk space (SQLite, or PostgreSQL's 53100)."""
    return any(
        getattr(link, "sqlstate", None) == DISK_FULL_STATE
        or "database or disk is full" in str(link)
        or (isinstance(link, OSError) and link.errno in NO_SPACE)
        for link in _links(exc)
    )


def outage_wait(tries_so_far: int) -> float:
    """How long a task that met the database unreachable waits before its next try."""
    return OUTAGE_WAITS[min(max(tries_so_far, 1), len(OUTAGE_WAITS)) - 1]
