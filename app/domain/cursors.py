"""Opaque cursors for keyset pagination over (time, id), newest first: the gallery's photos, and the
Similar shots page's groups (by their first shot), so a page never repeats or skips one when photos arrive."""

from __future__ import annotations

import base64
import datetime as dt
import math
import uuid

from app.domain.errors import InvalidInput

OUT_OF_DATE = "This link to more photos is out of date"  # a cursor is only ever in a link or a next_cursor
START_AGAIN = "start again from the first page."


def encode_cursor(at: dt.datetime, item_id: uuid.UUID) -> str:
    raw = f"{at.isoformat()}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def encode_score_cursor(score: float, item_id: uuid.UUID) -> str:
    """A cursor for a tab in blur-score order: the last photo's score (repr, so it reads back exactly) and id."""
    raw = f"score:{score!r}|{item_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_score_cursor(cursor: str) -> tuple[float, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        score, item_id = raw.removeprefix("score:").split("|", 1)
        value = float(score)
        if not raw.startswith("score:") or not math.isfinite(value):
            raise ValueError(raw)  # a cursor of another order, or not one of ours
        return value, uuid.UUID(item_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{OUT_OF_DATE} (its cursor is not valid for this order); {START_AGAIN}") from None


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, item_id = raw.split("|", 1)
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None:  # ours always carry UTC; a naive time cannot be compared with them
            raise ValueError(at)
        return when, uuid.UUID(item_id)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(f"{OUT_OF_DATE} (its cursor is not valid); {START_AGAIN}") from None
