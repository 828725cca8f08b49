"""Sorting photos into All / Blurred / Not blurred / Unprocessed by a person's own threshold.

The category is derived from the stored score at read time, so moving the threshold re-sorts at once
and never re-scores anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import Conflict
from app.domain.units import plural, threshold_text

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


class Order(StrEnum):
    """The order of a gallery tab (and of a photo's previous and next): by arrival, or by blur score."""

    NEWEST = "newest"
    BLURRIEST = "blurriest"  # to confirm the worst first
    SHARPEST = "sharpest"

    @property
    def label(self) -> str:
        return {"newest": "Newest first", "blurriest": "Most blurred first", "sharpest": "Sharpest first"}[self.value]


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


MIN_MARKS_TO_SUGGEST = 3  # fewer marks say too little about where a person draws the line
OPEN_MARGIN = 0.02  # how far past the last mark the line goes when every mark is on one side of it


@dataclass(frozen=True)
class ThresholdSuggestion:
    threshold: float
    agree: int  # of the person's marks on scored photos, how many this threshold agrees with
    marks: int
    agree_now: int  # how many their current threshold agrees with
    counts: CategoryCounts | None = None  # what the tabs would hold at the suggested threshold, when known


def suggest_threshold(marked: Iterable[tuple[float, bool]], current: float) -> ThresholdSuggestion | None:
    """The threshold that agrees with most of a person's marks, given as (score, marked blurred) pairs: the
    middle of the widest span of thresholds that does. None with fewer than MIN_MARKS_TO_SUGGEST marks, or when
    the current threshold agrees with as many.

    Each mark says which side of the line its score belongs on; the middle of the best span leaves the most room
    on both sides, so that the next photo scored near the line falls as the marks suggest. A span beyond every
    mark has marks on one side only: there the line goes just past the last mark (OPEN_MARGIN), since nothing
    says where beyond it the person would draw it, and its middle would move photos nobody marked.
    """
    pairs = sorted(marked)
    if len(pairs) < MIN_MARKS_TO_SUGGEST:
        return None
    # the spans of thresholds that sort the marked photos alike: 0 itself, then (0, s0], (s0, s1], ..., (sn, 1]
    edges = sorted({0.0, 1.0, *(score for score, _ in pairs)})
    spans = [(0.0, 0.0), *itertools.pairwise(edges)]
    lowest, highest = pairs[0][0], pairs[-1][0]
    candidates = ((high - low, _inside(low, high, _target(low, high, lowest, highest))) for low, high in spans)
    best = max((agreeing(pairs, threshold), width, threshold) for width, threshold in candidates)
    agree_now = agreeing(pairs, current)
    if best[0] <= agree_now:
        return None
    return ThresholdSuggestion(best[2], best[0], len(pairs), agree_now)


def _target(low: float, high: float, lowest: float, highest: float) -> float:
    """Where in the span (low, high] the line goes: its middle, or just past the marks when it is beyond them."""
    middle = (low + high) / 2
    if low >= highest:  # above every mark
        return min(low + OPEN_MARGIN, middle)
    if 0.0 < high <= lowest:  # below every mark (the span [0, 0] aside)
        return max(high - OPEN_MARGIN, middle)
    return middle


def _inside(low: float, high: float, target: float) -> float:
    """`target`, on the slider's step of 0.01 where that stays inside (low, high]; 0 for the span [0, 0]."""
    return next((t for t in (round(target, 2), round(target, 4)) if low < t <= high), high)


def agreeing(marked: Iterable[tuple[float, bool]], threshold: float) -> int:
    """How many of a person's marks, as (score, marked blurred) pairs, this threshold agrees with."""
    return sum(is_blurred(score, threshold) == blurred for score, blurred in marked)


def validate_threshold(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError("The threshold must be between 0 and 1.")
    return round(float(value), 4) + 0.0  # -0.0 is 0 (it read "Saved: -0.00")


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


def histogram(scores: Iterable[float], bins: int = 20) -> list[int]:
    """How many scores fall in each of `bins` equal slices of [0, 1]."""
    counts = [0] * bins
    for score in scores:
        counts[min(int(score * bins), bins - 1)] += 1
    return counts


@dataclass(frozen=True)
class TabAsShown:
    """What a page showed of a tab when it offered to act on all of it ("Remove Blurred (15)…", "Create the
    album" for 40 keepers): the threshold and the count, so that a tab changed in another window since (the
    threshold moved, photos came, went or were marked) is not acted on unseen."""

    threshold: float
    total: int

    def check(self, category: Category, threshold: float, total: int, nothing_done: str, what: str = "") -> None:
        if threshold == self.threshold and total == self.total:
            return
        what = what or f"the {category.label} tab"
        counted = f"{total} {plural('photo', total)} now, not {self.total}"
        if threshold != self.threshold:
            changed = f"changed: {counted}" if total != self.total else "may be other photos"
            now, then = threshold_text(threshold), threshold_text(self.threshold)
            said = f"Your threshold is {now} now, not {then}, so {what} {changed}."
        else:
            said = f"{what[0].upper()}{what[1:]} changed since the page was shown: {counted}."
        raise Conflict(f"{said} {nothing_done}")
