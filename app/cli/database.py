"""The database a command works on, brought to the newest schema, or one line saying why it cannot be."""

from __future__ import annotations

# Imported before logging is set up, as alembic logs its plugins' set-up as it is imported.
from app.adapters.sql.migrate import shown_url, upgrade
from app.settings import Settings, SettingsError


def migrated(settings: Settings) -> None:
    try:
        upgrade(settings.database_url)
    except Exception as exc:  # unreachable, refused, no such driver: one line that names the setting
        reason = f"{type(exc).__name__}: {exc}"
        raise SettingsError(
            f"cannot use the database at DATABASE_URL={shown_url(settings.database_url)}: {reason}"
        ) from None
