"""When to try an external call again: the one retry policy for Google, Dropbox and the vision API.

A task that hits a limit raises RetryLater; the queue defers the task (arq's Retry, or a timer in the
in-process queue) instead of sleeping in a worker, so a slow service never holds a worker slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from app.domain.model import SOURCE_NAMES

MAX_TRIES = 6
TRYING_AGAIN = "; trying again later."  # how a retryable failure's detail ends, which is no longer so
FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300.0
DEFAULT_RATE_LIMIT_SECONDS = 10.0
# Google Photos asks clients that hit its quota to wait at least 30 s before trying again.
MIN_RATE_LIMIT_SECONDS = {"google_photos": 30.0, "vision": 10.0}


class RetryLater(Exception):
    """Run this task again after `seconds`; `reason` says why, for the logs, and `waiting` for the person
    (the job's page says it waits, and until when)."""

    def __init__(self, seconds: float, reason: str, waiting: str | None = None) -> None:
        super().__init__(reason)
        self.seconds = seconds
        self.reason = reason
        self.waiting = waiting or reason


class GiveUp(Exception):
    """Retries are used up, or the answer is one that a retry cannot change."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    retry_after: str | None = None
    detail: str | None = None  # the service's failure in words, for the reason a job gives up


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def decide(answer: Answer, attempt: int, *, service: str, now: dt.datetime, jitter: float) -> float:
    """Seconds to wait before try number `attempt + 1`; raises GiveUp when another try is pointless.

    `jitter` in [0, 1) spreads retries of many tasks apart (pass random.random()).
    """
    if attempt >= MAX_TRIES:
        name = SOURCE_NAMES.get(service, service)
        if answer.detail:
            detail = answer.detail.removesuffix(TRYING_AGAIN).rstrip(".")  # the service's own full stop, once
            raise GiveUp(f"{name} still failed after {attempt} tries. {detail}.")
        raise GiveUp(f"{name} still answered {answer.status_code} after {attempt} tries.")
    if answer.status_code == 429:
        wait = retry_after_seconds(answer.retry_after, now) or DEFAULT_RATE_LIMIT_SECONDS
        return max(wait, MIN_RATE_LIMIT_SECONDS.get(service, 0.0))
    if answer.status_code >= 500 or answer.status_code == 408:
        backoff = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))
        return backoff * (1 + jitter)
    raise GiveUp(f"{service} answered {answer.status_code}; trying again would not help.")


def retry_later(answer: Answer, attempt: int, *, service: str, now: dt.datetime, jitter: float) -> RetryLater:
    seconds = decide(answer, attempt, service=service, now=now, jitter=jitter)
    name = SOURCE_NAMES.get(service, service)
    waiting = (
        f"{name} asked Classify to slow down"
        if answer.status_code == 429
        else f"{name} is not answering ({answer.status_code})"
    )
    return RetryLater(seconds, f"{service} answered {answer.status_code}; trying again in {seconds:.0f} s", waiting)
