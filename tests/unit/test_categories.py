"""The sorting rules: derived from the stored score and the person's threshold, or from their own mark."""

import pytest

from app.domain.categories import (
    Category,
    category_of,
    histogram,
    is_blurred,
    kind_at,
    suggest_threshold,
    validate_mark,
    validate_threshold,
)


def test_a_photo_without_a_score_is_unprocessed_whatever_the_threshold():
    assert category_of(None, 0.0) is category_of(None, 1.0) is Category.UNPROCESSED
    assert is_blurred(None, 0.5) is None


@pytest.mark.parametrize(
    ("score", "threshold", "expected"),
    [
        (0.5, 0.5, Category.BLURRED),  # the threshold itself counts as blurred
        (0.4999, 0.5, Category.NOT_BLURRED),
        (0.0, 0.0, Category.BLURRED),
        (1.0, 1.0, Category.BLURRED),
        (0.99, 1.0, Category.NOT_BLURRED),
    ],
)
def test_the_threshold_splits_blurred_from_not_blurred(score, threshold, expected):
    assert category_of(score, threshold) is expected


@pytest.mark.parametrize("score", [None, 0.0, 0.49, 0.5, 1.0])
@pytest.mark.parametrize("threshold", [0.0, 0.5, 1.0])
def test_a_mark_decides_whatever_the_score_and_the_threshold(score, threshold):
    assert category_of(score, threshold, "sharp") is Category.NOT_BLURRED
    assert category_of(score, threshold, "blurred") is Category.BLURRED
    assert category_of(score, threshold, None) is category_of(score, threshold)
    assert kind_at(score, "motion", 12.0, threshold, "sharp") == "sharp"


def test_the_kind_of_a_photo_marked_blurred_is_the_scorers_or_unknown():
    assert kind_at(0.2, "sharp", 30.0, 0.5, "blurred") == "motion"  # the shake direction it found below the line
    assert kind_at(0.2, "sharp", None, 0.5, "blurred") == "defocus"
    assert kind_at(None, None, None, 0.5, "blurred") is None  # not scored: nobody knows what kind of blur yet


def test_only_sharp_blurred_or_none_is_a_mark():
    assert [validate_mark(m) for m in ("sharp", "blurred", None)] == ["sharp", "blurred", None]
    for bad in ("", "Sharp", "blurry"):
        with pytest.raises(ValueError, match="null to let the score decide"):
            validate_mark(bad)


def test_marks_point_to_the_middle_of_the_thresholds_that_agree_with_most_of_them():
    marks = [(0.55, False), (0.6, False), (0.8, True), (0.9, True)]  # "those two are fine", "those two are not"
    suggestion = suggest_threshold(marks, 0.5)
    assert suggestion is not None and suggestion.threshold == 0.7
    assert (suggestion.agree, suggestion.marks, suggestion.agree_now) == (4, 4, 2)
    # marks that contradict each other: the threshold that agrees with the most, still the middle of its span
    assert suggest_threshold([*marks, (0.85, False)], 0.5).threshold == 0.7
    # only "fine" marks: just above the highest of them, not halfway to 1, which would move photos nobody marked
    assert suggest_threshold([(0.6, False), (0.7, False), (0.8, False)], 0.5).threshold == 0.82
    # only "blurred" marks: just below the lowest of them
    assert suggest_threshold([(0.2, True), (0.3, True), (0.4, True)], 0.5).threshold == 0.18
    assert suggest_threshold([(0.6, False), (0.7, False), (0.99, False)], 0.5).threshold == 0.995  # no room for 0.02


def test_no_suggestion_from_too_few_marks_or_when_the_threshold_already_agrees():
    assert suggest_threshold([(0.55, False), (0.6, False)], 0.5) is None
    assert suggest_threshold([(0.2, False), (0.6, True), (0.9, True)], 0.5) is None
    assert suggest_threshold([(1.0, False)] * 3, 0.5) is None  # no threshold calls a score of 1 sharp
    narrow = suggest_threshold([(0.551, False), (0.552, True), (0.9, True)], 0.9)
    assert narrow is not None and 0.551 < narrow.threshold <= 0.552  # off the slider's step rather than outside


def test_moving_the_threshold_moves_photos_and_every_photo_has_one_tab():
    scores = [None, 0.1, 0.3, 0.5, 0.7, 0.9]
    strict = [category_of(score, 0.2) for score in scores]
    lenient = [category_of(score, 0.8) for score in scores]
    assert strict.count(Category.BLURRED) == 4 and lenient.count(Category.BLURRED) == 1
    for tabs in (strict, lenient):
        assert tabs.count(Category.UNPROCESSED) == 1 and Category.ALL not in tabs


def test_threshold_outside_zero_to_one_is_refused():
    assert validate_threshold(0.42424242) == 0.4242
    assert f"{validate_threshold(-0.0):.2f}" == "0.00"  # not "-0.00"
    for bad in (-0.01, 1.01):
        with pytest.raises(ValueError, match="between 0 and 1"):
            validate_threshold(bad)


def test_histogram_puts_every_score_in_a_bin():
    counts = histogram([0.0, 0.049, 0.05, 0.5, 0.999, 1.0], bins=20)
    assert sum(counts) == 6 and counts[0] == 2 and counts[1] == 1 and counts[10] == 1 and counts[19] == 2


def test_a_photo_scored_before_the_reasons_were_kept_for_both_verdicts_gives_none_that_contradict_it():
    """Its stored reasons are those of 0.5: "sharp" under a Blurred verdict at 0.3 was the bug being fixed."""
    import datetime as dt
    import uuid

    from app.domain.model import Photo

    old = {"reasons": ["sharp"], "blur_kind": "sharp", "motion_angle": None}
    photo = Photo(
        id=uuid.uuid4(), user_id=uuid.uuid4(), source="upload", filename="a.jpg", mime_type="image/jpeg", width=8,
        height=8, file_size=1, sha256="x", storage_key="k", created_at=dt.datetime.now(dt.UTC), blur_score=0.4,
        blur_kind="sharp", blur_details=old,
    )  # fmt: skip
    assert photo.reasons_at(0.5) == ("sharp",) and photo.reasons_at(0.45) == ("sharp",)
    assert photo.reasons_at(0.3) == ("out of focus",)  # blurred there: what the score says, in words
    assert photo.details_at(0.3)["reasons"] == ["out of focus"] and photo.details_at(0.3)["blur_kind"] == "defocus"
