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


def threshold_text(threshold: float) -> str:
    """A threshold as the slider steps it, "0.50", or to the four places it is kept where it is between two of
    its steps ("0.2559", taken from a suggestion or the API): rounded, it would not be the one in use."""
    stepped = round(threshold, 2)
    return f"{stepped:.2f}" if abs(threshold - stepped) < 1e-9 else f"{threshold:.4f}".rstrip("0")


def score_text(score: float, threshold: float, places: int = 2) -> str:
    """A score to `places`, or to the four it is kept to where rounding would carry it across the threshold:
    0.0557 under a threshold of 0.06 is "0.0557", not "0.06", which would read as blurred."""
    shown = f"{score:.{places}f}"
    return shown if (float(shown) >= threshold) == (score >= threshold) else f"{score:.4f}"
