"""Sizes and spans of days as people read them, in the unit the settings use (an MB of 1024 x 1024 bytes)."""

import datetime as dt

from app.domain.units import MB, days_ago, days_until, megabytes, score_text, threshold_text


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


def test_a_threshold_reads_as_the_one_in_use_and_a_score_on_its_side_of_it():
    assert [threshold_text(t) for t in (0.5, 0.0, 1.0, 0.26, 0.2559, 0.255)] == [
        "0.50", "0.00", "1.00", "0.26", "0.2559", "0.255"
    ]  # fmt: skip
    assert score_text(0.0557, 0.5) == "0.06" and score_text(0.0557, 0.06) == "0.0557"  # not "0.06 · sharp"
    assert score_text(0.2585, 0.2559, 3) == "0.259" and score_text(0.2557, 0.2559, 3) == "0.2557"
    assert score_text(0.8, 0.8) == "0.80"
    # stored scores have four places (blur.BlurAnalysis.to_dict): "0.8000" is as near as a kept score comes
    assert score_text(0.79996, 0.8, 3) == "0.8000"
