"""Apply the Alembic migrations in `migrations/` to a database (used by `classify serve` and the tests)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.adapters.sql.outage import is_outage

MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Bring the database to the newest revision; a no-op when it is already there."""
    # env.py calls asyncio.run(), which cannot nest inside a running loop: give it a thread of its own.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            command.upgrade(alembic_config(database_url), "head")
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="migrate")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    _owner_only(sqlite_file(database_url))


def _owner_only(database: Path | None) -> None:
    """A SQLite file holds emails, password hashes and captions: readable by its owner alone, whatever the
    umask made it (SQLite gives its -wal and -shm files the database's own mode)."""
    if database is None:
        return
    for path in (database, *(database.with_name(database.name + end) for end in ("-wal", "-shm"))):
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def shown_url(database_url: str) -> str:
    """The URL as it may be printed: its password hidden."""
    return make_url(database_url).render_as_string(hide_password=True)


def sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database (or SQLite in memory)."""
    url = make_url(database_url)
    return Path(url.database).resolve() if url.get_backend_name() == "sqlite" and url.database else None


def head_revision() -> str:
    """The newest revision in `migrations/`."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "migrations/ holds no revision"
    return head


def revision_of(database_url: str) -> str | None:
    """The revision a database is at; None when it has none yet (or cannot say)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    async def read() -> str | None:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                return await conn.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception:  # no table yet, or no database: upgrade() says what is wrong
            return None
        finally:
            await engine.dispose()

    return asyncio.run(read())


async def not_ready(engine: AsyncEngine, database_url: str) -> str | None:
    """Why a worker cannot use this database, or None. It must be the web server's, which `classify serve` has
    migrated; a worker never creates or migrates one (a wrong or missing DATABASE_URL made a worker create an
    empty SQLite file and fail every task it took)."""
    file = sqlite_file(database_url)
    if file and not await asyncio.to_thread(file.exists):
        return "has no database file"
    try:
        async with engine.connect() as conn:
            revision = await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:
        if is_outage(exc):
            return f"cannot be reached ({type(exc).__name__}: {exc})"
        said = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
        if "alembic_version" in said and ("no such table" in said or "does not exist" in said):
            return "has no Classify tables"
        return f"cannot be used ({said})"  # an unknown role, password or database; a role without rights
    if revision != (head := head_revision()):
        return f"is at revision {revision}, not {head}: start `classify serve` first, which migrates it"
    return None
