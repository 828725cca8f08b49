"""Sorting photos into All / Blurred / Not blurred / Unprocessed by a person's own threshold.

The category is derived from the stored score at read time, so moving the threshold re-sorts at once
and never re-scores anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_THRESHOLD = 0.5


class Category(StrEnum):
    ALL = "all"
    BLURRED = "blurred"
    NOT_BLURRED = "not_blurred"
    UNPROCESSED = "unprocessed"

    @property
    def label(self) -> str:
        return {
            "all": "All",
            "blurred": "Blurred",
            "not_blurred": "Not blurred",
            "unprocessed": "Unprocessed",
        }[self.value]


MARKS = ("sharp", "blurred")  # a person's own call on a photo: where there is one, the score no longer decides


def is_blurred(blur_score: float | None, threshold: float, marked_as: str | None = None) -> bool | None:
    """The person's own mark when the photo has one; else None while it has no score, or the verdict at
    this threshold."""
    if marked_as is not None:
        return marked_as == "blurred"
    if blur_score is None:
        return None
    return blur_score >= threshold


def category_of(blur_score: float | None, threshold: float, marked_as: str | None = None) -> Category:
    verdict = is_blurred(blur_score, threshold, marked_as)
    if verdict is None:
        return Category.UNPROCESSED
    return Category.BLURRED if verdict else Category.NOT_BLURRED


def kind_at(
    blur_score: float | None,
    stored_kind: str | None,
    motion_angle: float | None,
    threshold: float,
    marked_as: str | None = None,
) -> str | None:
    """The blur kind under a person's own threshold (or mark): "sharp" when not blurred; when blurred, the kind
    the scorer found, or None if it has not scored the photo.

    The stored kind was decided at the default threshold, so a photo under it was stored as "sharp"; its
    shake direction (kept whenever the lost detail had one) tells camera shake from defocus.
    """
    verdict = is_blurred(blur_score, threshold, marked_as)
    if verdict is None:
        return None
    if not verdict:
        return "sharp"
    if stored_kind in ("motion", "defocus"):
        return stored_kind
    if blur_score is None:
        return None
    return "motion" if motion_angle is not None else "defocus"


def validate_mark(value: str | None) -> str | None:
    """A person's mark: "sharp", "blurred", or None to let the score decide again."""
    if value is not None and value not in MARKS:
        raise ValueError('A mark is "sharp", "blurred", or null to let the score decide.')
    return value


def validate_threshold(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError("The threshold must be between 0 and 1.")
    return round(float(value), 4)


@dataclass(frozen=True)
class CategoryCounts:
    all: int
    blurred: int
    not_blurred: int
    unprocessed: int

    def as_dict(self) -> dict[str, int]:
        return {
            "all": self.all,
            "blurred": self.blurred,
            "not_blurred": self.not_blurred,
            "unprocessed": self.unprocessed,
        }

    def of(self, category: Category) -> int:
        return self.as_dict()[category.value]


def counts_from_scores(scores: Iterable[float | None], threshold: float) -> CategoryCounts:
    """Counts for a threshold that is not saved yet (the slider's preview) from the stored scores."""
    total = blurred = unprocessed = 0
    for score in scores:
        total += 1
        verdict = is_blurred(score, threshold)
        if verdict is None:
            unprocessed += 1
        elif verdict:
            blurred += 1
    return CategoryCounts(total, blurred, total - blurred - unprocessed, unprocessed)


def histogram(scores: Iterable[float], bins: int = 20) -> list[int]:
    """How many scores fall in each of `bins` equal slices of [0, 1]."""
    counts = [0] * bins
    for score in scores:
        counts[min(int(score * bins), bins - 1)] += 1
    return counts
