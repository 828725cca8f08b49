"""What a vision model tells us about a photo, cleaned into tags, a caption and a file name."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

MIN_TAGS, MAX_TAGS = 3, 8
_WORD = re.compile(r"[^\W_][\w-]*")  # letters and digits of any script ("café", "海"), hyphens inside


@dataclass(frozen=True)
class VisionResult:
    tags: tuple[str, ...]
    caption: str
    proposed_name: str
    subject: str | None


class VisionUnavailable(Exception):
    """No AI server is configured, or it cannot be reached; `detail` says which."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class VisionBusy(VisionUnavailable):
    """The AI server keeps answering "too many requests" (after the SDK's own retries)."""

    def __init__(self, detail: str, retry_after: float | None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class VisionAnswerInvalid(VisionUnavailable):
    """The model answered, but not with the JSON we asked for."""


def folded(text: str) -> str:
    """A tag as it is kept and looked for: composed (NFC) and case-folded, in its own script. Folded to ASCII,
    a model's answer in Japanese had no tag and no name left, and "Café" was kept as "cafe", which ?tag=café
    did not find."""
    return unicodedata.normalize("NFC", text).casefold()


def clean_tags(raw: object) -> tuple[str, ...]:
    """Lower-case single words of any script (hyphens allowed), no repeats, at most eight; fewer than three is
    refused."""
    if not isinstance(raw, list):
        raise VisionAnswerInvalid("The model's answer has no list of tags.")
    tags: list[str] = []
    for item in raw:
        for word in _WORD.findall(folded(str(item)).replace(" ", "-")):
            word = word.strip("-")[:40]
            if word and word not in tags:
                tags.append(word)
    if len(tags) < MIN_TAGS:
        raise VisionAnswerInvalid(f"The model gave {len(tags)} usable tags; at least {MIN_TAGS} are needed.")
    return tuple(tags[:MAX_TAGS])


def slug(text: str, max_length: int = 60) -> str:
    words = _WORD.findall(folded(text).replace("_", " ").replace("-", " "))
    return "-".join(words)[:max_length].strip("-")


def parse_answer(data: object) -> VisionResult:
    if not isinstance(data, dict):
        raise VisionAnswerInvalid("The model's answer is not a JSON object.")
    caption = " ".join(str(data.get("caption") or "").split())[:500]
    name = slug(str(data.get("proposed_name") or "")) or slug(caption)
    if not caption or not name:
        raise VisionAnswerInvalid("The model's answer lacks a caption or a name.")
    subject = str(data["subject"])[:255] if data.get("subject") else None
    return VisionResult(clean_tags(data.get("tags")), caption, name, subject)


def ai_file_stem(proposed_name: str, taken_at: dt.datetime | None) -> str:
    """`2024-07-14_sunset-over-harbour`: the capture date first when known, so names sort by time."""
    stem = slug(proposed_name) or "photo"
    return f"{taken_at.date().isoformat()}_{stem}" if taken_at else stem


def month_start(now: dt.datetime) -> dt.datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(now: dt.datetime) -> dt.date:
    start = month_start(now)
    return (
        start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    ).date()
