"""Faces on real photos: a face is found where it is, what only one cascade takes for a face is not, and a
sharp face that reads soft at the analysis size does not make a sharp photo blurred."""

import dataclasses
from pathlib import Path

import cv2
import numpy as np

from app.adapters.scorer import PRIMARY_CASCADE, _cascade, find_faces, score_gray
from app.domain import blur
from app.domain.blur import DEFAULT_THRESHOLD
from app.domain.blur_features import measure

DATA = Path(__file__).resolve().parents[1] / "data"


def photo(name: str) -> np.ndarray:
    return cv2.imread(str(DATA / name), cv2.IMREAD_GRAYSCALE)


def test_a_real_face_is_found_where_it_is():
    ((x, y, w, h),) = find_faces(photo("astronaut.jpg"))
    assert 120 <= x + w / 2 <= 160 and 50 <= y + h / 2 <= 95  # her face, in the upper middle
    assert 45 <= w <= 80


def test_faces_come_back_in_the_photos_own_coordinates():
    small = photo("astronaut.jpg")
    (box,) = find_faces(small)
    (big_box,) = find_faces(cv2.resize(small, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_CUBIC))
    assert np.allclose(big_box, np.multiply(box, 2.5), atol=6)


def test_what_only_one_cascade_takes_for_a_face_is_not_a_face():
    coins = photo("coins.jpg")
    side = round(0.08 * max(coins.shape))
    taken = _cascade(PRIMARY_CASCADE).detectMultiScale(coins, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    assert len(taken) >= 1  # the default cascade alone sees faces on these coins
    assert find_faces(coins) == ()


def portrait_with_soft_surroundings() -> np.ndarray:
    """The astronaut as she is within about two and a half face widths of her face, defocused beyond."""
    sharp = photo("astronaut.jpg")
    soft = cv2.GaussianBlur(sharp, (0, 0), 3)
    mask = np.zeros(sharp.shape, np.float32)
    cv2.ellipse(mask, (140, 70), (160, 160), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 3)
    return (mask * sharp + (1 - mask) * soft).astype(np.uint8)


def test_a_sharp_face_that_reads_soft_does_not_make_the_photo_blurred():
    img = portrait_with_soft_surroundings()
    faces = find_faces(img)
    assert len(faces) == 1  # the face search finds her
    assert blur.probability(measure(img, faces).features) >= DEFAULT_THRESHOLD  # her face alone reads soft
    by_tiles = blur.analyse(img)
    with_face = blur.analyse(img, faces)
    assert with_face.blur_score == by_tiles.blur_score < DEFAULT_THRESHOLD
    result = score_gray(img)
    assert result.blur_score < DEFAULT_THRESHOLD and "face blurred" not in result.reasons


def _analysis(score: float, tiles: list[list[float]]) -> blur.BlurAnalysis:
    return dataclasses.replace(blur.analyse(photo("astronaut.jpg")), blur_score=score,
                               sharpness_map=tuple(tuple(row) for row in tiles))  # fmt: skip


def test_faces_are_looked_for_only_where_they_could_change_the_verdict():
    mixed = [[0.9, 0.9, 0.2], [0.9, 0.2, 0.2], [0.5, 0.2, 0.9]]  # 0.5: a featureless tile
    assert blur.needs_faces(_analysis(0.4, mixed))
    assert not blur.needs_faces(_analysis(0.02, mixed))  # clearly sharp already
    assert not blur.needs_faces(_analysis(0.97, mixed))  # clearly blurred
    assert not blur.needs_faces(_analysis(0.4, [[0.9] * 3] * 3))  # sharp all over: so is any face
    assert not blur.needs_faces(_analysis(0.4, [[0.1] * 3] * 3))  # soft all over: so is any face
