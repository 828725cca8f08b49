"""Cursors read back exactly what they were made of, and anything else is a clear 422, never a 500."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import pytest

from app.domain.cursors import decode_cursor, decode_score_cursor, encode_cursor, encode_score_cursor
from app.domain.errors import InvalidInput

ID = uuid.UUID("01a24a52-be2e-7148-860a-422fbc780e04")


def test_each_cursor_reads_back_exactly():
    at = dt.datetime(2026, 12, 6, 8, 30, 1, 123456, tzinfo=dt.UTC)
    assert decode_cursor(encode_cursor(at, ID)) == (at, ID)
    for score in (0.0, 1.0, 0.1 + 0.2, 2.0, -1.0):  # the last two: where unscored photos sort
        assert decode_score_cursor(encode_score_cursor(score, ID)) == (score, ID)


@pytest.mark.parametrize("raw", ["score:nan|" + str(ID), "score:inf|" + str(ID), "score:0.5", "0.5|" + str(ID)])
def test_a_score_cursor_that_is_not_ours_is_refused(raw):
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    with pytest.raises(InvalidInput, match="not valid for this order"):
        decode_score_cursor(cursor)


def test_a_cursor_of_the_other_order_is_refused_both_ways():
    with pytest.raises(InvalidInput):
        decode_score_cursor(encode_cursor(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), ID))
    with pytest.raises(InvalidInput):
        decode_cursor(encode_score_cursor(0.5, ID))
    with pytest.raises(InvalidInput):
        decode_score_cursor("%%%")
