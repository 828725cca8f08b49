import datetime as dt

import pytest

from app.domain.retry import Answer, GiveUp, decide, retry_after_seconds

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def test_429_honours_retry_after_in_seconds_and_as_a_date():
    assert decide(Answer(429, "12"), 1, service="dropbox", now=NOW, jitter=0.5) == 12
    date = "Mon, 23 Nov 2026 12:01:00 GMT"
    assert decide(Answer(429, date), 1, service="dropbox", now=NOW, jitter=0) == 60


def test_google_photos_rate_limits_wait_at_least_30_seconds():
    assert decide(Answer(429, "2"), 1, service="google_photos", now=NOW, jitter=0) == 30
    assert decide(Answer(429), 1, service="google_photos", now=NOW, jitter=0) == 30


def test_server_errors_back_off_exponentially_from_one_second_with_jitter():
    waits = [decide(Answer(503), n, service="drive", now=NOW, jitter=0) for n in range(1, 6)]
    assert waits == [1, 2, 4, 8, 16]
    assert decide(Answer(500), 2, service="drive", now=NOW, jitter=0.5) == 3


def test_tries_are_capped_and_client_errors_are_not_retried():
    with pytest.raises(GiveUp, match="after 6 tries"):
        decide(Answer(503), 6, service="drive", now=NOW, jitter=0)
    with pytest.raises(GiveUp, match="would not help"):
        decide(Answer(404), 1, service="drive", now=NOW, jitter=0)


def test_unreadable_retry_after_falls_back():
    assert retry_after_seconds("soon", NOW) is None
    assert decide(Answer(429, "soon"), 1, service="openai", now=NOW, jitter=0) == 10
