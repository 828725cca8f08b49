"""INSERT ... ON CONFLICT DO NOTHING in the session's own dialect (SQLite or PostgreSQL).

A row that is there already (the same photo, the same answer, arriving twice at once) is then no error to the
database. On SQLite that matters beyond tidiness: a failed insert's cursor was left to the garbage collector,
which then waited on that connection's lock on the event loop's thread, and the whole server stood still for
the 30 s busy timeout.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def insert_unless_there(session: AsyncSession, model: Any, values: dict[str, Any]) -> Any:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(model).values(values).on_conflict_do_nothing()
