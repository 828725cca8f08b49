"""Sizes and spans of days as people read them, in the unit the settings use (an MB of 1024 x 1024 bytes)."""

import datetime as dt

from app.domain.units import MB, days_ago, days_until, megabytes


def test_sizes_read_in_the_settings_unit_with_a_tenth_below_a_hundred_megabytes():
    assert megabytes(500) == "500 bytes"
    assert megabytes(80 * 1024) == "80 KB"
    assert megabytes(MB // 5) == "0.2 MB"
    assert megabytes(50 * MB) == "50 MB"  # as CLASSIFY_MAX_UPLOAD_MB=50 was set
    assert megabytes(int(10.4 * MB)) == "10.4 MB"  # a quota of 10.5 MB nearly full does not read "10 of 10"
    assert megabytes(7_349_929) == "7.0 MB"
    assert megabytes(520 * MB + 123) == "520 MB"


def test_spans_of_days_read_as_people_say_them():
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    day = dt.timedelta(days=1)
    assert [days_ago(now - n * day, now) for n in (0, 1, 12)] == ["today", "yesterday", "12 days ago"]
    assert days_until(now + 30 * day - dt.timedelta(seconds=5), now) == "in 30 days"
    assert [days_until(now + n * day, now) for n in (0, 1, 2)] == ["today", "tomorrow", "in 2 days"]
