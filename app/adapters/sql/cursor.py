"""Opaque cursors for keyset pagination over (created_at, id), newest first."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from app.domain.errors import InvalidInput


def encode_cursor(created_at: dt.datetime, photo_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{photo_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, photo_id = raw.split("|", 1)
        return dt.datetime.fromisoformat(created), uuid.UUID(photo_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The cursor is not valid; start again from the first page.") from None
