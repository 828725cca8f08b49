"""Sizes, counts and spans of days written the way people read them."""

import datetime as dt
import math

MB = 1024 * 1024  # the unit of CLASSIFY_MAX_UPLOAD_MB and the quota, so "50 MB" reads as configured


def megabytes(size: int) -> str:
    """A byte count the way people read it, in the unit of the settings (MB of 1024 x 1024 bytes): "520 MB",
    "52 MB", "10.4 MB", "0.2 MB", "80 KB". A tenth below 100 MB, so a nearly full quota does not read full."""
    if size < MB // 10:
        return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} bytes"
    value = size / MB
    return f"{value:.0f} MB" if value >= 100 or value == int(value) else f"{value:.1f} MB"


def plural(noun: str, count: int) -> str:
    """The noun for this many: "1 photo", "0 photos", "3 photos" (the nouns we count take an "s")."""
    return noun if count == 1 else f"{noun}s"


def days_ago(when: dt.datetime, now: dt.datetime) -> str:
    """ "today", "yesterday", "12 days ago"."""
    days = (now - when).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def days_until(when: dt.datetime, now: dt.datetime) -> str:
    """ "today", "tomorrow", "in 30 days" (a part of a day counts as one)."""
    days = math.ceil((when - now).total_seconds() / 86400)
    return "today" if days <= 0 else "tomorrow" if days == 1 else f"in {days} days"
