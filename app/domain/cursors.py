"""Opaque cursors for keyset pagination over (time, id), newest first: the gallery's photos, and the
Similar shots page's groups (by their first shot), so a page never repeats or skips one when photos arrive."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

from app.domain.errors import InvalidInput


def encode_cursor(at: dt.datetime, item_id: uuid.UUID) -> str:
    raw = f"{at.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, item_id = raw.split("|", 1)
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None:  # ours always carry UTC; a naive time cannot be compared with them
            raise ValueError(at)
        return when, uuid.UUID(item_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput("The cursor is not valid; start again from the first page.") from None
