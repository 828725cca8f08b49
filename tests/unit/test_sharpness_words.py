"""The sharpness map said in words: which of nine areas are sharp and which soft."""

from __future__ import annotations

from app.domain.sharpness_words import map_in_words


def grid(rows: int, cols: int, value) -> list[list[float]]:
    return [[value(r, c) for c in range(cols)] for r in range(rows)]


def test_a_sharp_centre_in_a_soft_frame():
    centre = grid(6, 9, lambda r, c: 0.95 if 2 <= r < 4 and 3 <= c < 6 else 0.05)
    frame = "top left, top, top right, left, right, bottom left, bottom, bottom right"
    assert map_in_words(centre) == f"Sharp: centre. Soft: {frame}."


def test_all_over_and_the_featureless_left_unsaid():
    assert map_in_words(grid(6, 8, lambda r, c: 0.9)) == "Sharp all over."
    assert map_in_words(grid(6, 8, lambda r, c: 0.1)) == "Soft all over."
    sky = grid(6, 8, lambda r, c: 0.5 if r < 2 else 0.9)  # a featureless sky says nothing of itself
    assert map_in_words(sky) == "Sharp: left, centre, right, bottom left, bottom, bottom right."
    assert map_in_words(grid(6, 8, lambda r, c: 0.5)) == "Neither clearly sharp nor clearly soft anywhere."
    assert map_in_words([]) == "The map has nothing to show."


def test_a_tiny_grid_still_reads():
    assert map_in_words([[0.9]]) == "Sharp all over."
    assert map_in_words([[0.9, 0.1]]).startswith("Sharp: ")
