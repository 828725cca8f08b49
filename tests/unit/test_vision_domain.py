import datetime as dt

import pytest

from app.domain.vision import VisionAnswerInvalid, ai_file_stem, clean_tags, next_month, parse_answer, slug


def test_tags_are_lowercase_words_without_repeats_and_capped():
    assert clean_tags(["Beach", "SUNSET", "beach", "Palm Tree", "Été"]) == (
        "beach",
        "sunset",
        "palm-tree",
        "été",
    )  # in its own script
    assert len(clean_tags([f"w{i}" for i in range(20)])) == 8
    with pytest.raises(VisionAnswerInvalid, match="at least 3"):
        clean_tags(["one", "!!"])
    with pytest.raises(VisionAnswerInvalid):
        clean_tags("beach, sunset")


def test_parse_answer_needs_a_caption_and_a_usable_name():
    result = parse_answer(
        {"tags": ["a1", "b2", "c3"], "caption": "A  dog.", "proposed_name": "Dog on Sofa!", "subject": "dog"}
    )
    assert result.proposed_name == "dog-on-sofa" and result.caption == "A dog."
    assert (
        parse_answer({"tags": ["a1", "b2", "c3"], "caption": "Red car", "proposed_name": "%%"}).proposed_name
        == "red-car"
    )
    with pytest.raises(VisionAnswerInvalid):
        parse_answer(["not", "an", "object"])


def test_file_stem_and_slug():
    assert ai_file_stem("Sunset over Harbour", dt.datetime(2024, 7, 14, 20, 1)) == "2024-07-14_sunset-over-harbour"
    assert ai_file_stem("../../etc/passwd", None) == "etc-passwd"
    assert slug("") == "" and ai_file_stem("", None) == "photo"


def test_budget_month_rolls_over():
    assert next_month(dt.datetime(2026, 12, 20, tzinfo=dt.UTC)) == dt.date(2027, 1, 1)
    assert next_month(dt.datetime(2026, 11, 23, tzinfo=dt.UTC)) == dt.date(2026, 12, 1)
