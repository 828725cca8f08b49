"""Similar shots: fingerprints that survive what a retake changes, and groups along the time line."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from app.domain.grouping import MAX_DISTANCE, MAX_GAP, OPEN, Shot, distance, fingerprint, similar_groups
from tests import images

T0 = dt.datetime(2026, 5, 1, 14, 3, tzinfo=dt.UTC)


def _gray(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


@pytest.mark.parametrize(
    "retake",
    [
        pytest.param({"shift": 8}, id="reframed a little"),
        pytest.param({"sigma": 3.0}, id="blurred"),
        pytest.param({"shift": 4, "sigma": 1.5}, id="both"),
    ],
)
def test_a_retake_of_the_same_scene_keeps_its_fingerprint_and_another_scene_does_not(retake):
    first = fingerprint(_gray(images.shot(1)))
    again = fingerprint(_gray(images.shot(1, **retake)))
    other = fingerprint(_gray(images.shot(2)))
    assert distance(first, again) <= MAX_DISTANCE
    assert distance(first, other) > 2 * MAX_DISTANCE


def test_a_copy_saved_again_smaller_and_worse_keeps_its_fingerprint():
    original = images.shot(4)
    copy = images.encode(Image.open(io.BytesIO(original)).resize((400, 300)), "JPEG", quality=40)
    assert distance(fingerprint(_gray(original)), fingerprint(_gray(copy))) <= 2


def test_the_fingerprint_does_not_depend_on_the_size_it_is_taken_at():
    large = _gray(images.shot(3))
    small = np.asarray(Image.fromarray(large).resize((320, 240), Image.Resampling.LANCZOS))
    assert distance(fingerprint(large), fingerprint(small)) <= 4
    assert len(fingerprint(large)) == 16 and int(fingerprint(large), 16) >= 0


def _shot(name: str, fp: str, seconds: float | None, score: float | None = 0.2, added: int = 0) -> Shot:
    taken = None if seconds is None else T0 + dt.timedelta(seconds=seconds)
    return Shot(uuid.uuid5(uuid.NAMESPACE_URL, name), fp, taken, T0 + dt.timedelta(hours=1, seconds=added), score)


A, A2, B = "f0f0f0f0f0f0f0f0", "f0f0f0f0f0f0f0f3", "0f0f0f0f0f0f0f0f"  # A2 is 2 bits from A, B is 64


def test_a_burst_is_one_group_and_the_sharpest_is_its_best():
    shots = [_shot("1", A, 0, 0.7), _shot("2", A2, 1, 0.1), _shot("3", A, 2, 0.4), _shot("lone", B, 3)]
    [group] = similar_groups(reversed(shots))
    assert [s.id for s in group.shots] == [s.id for s in shots[:3]]  # in the order they were taken
    assert group.best == shots[1]


def test_the_persons_own_pick_is_kept_before_the_lowest_score():
    shots = [_shot("1", A, 0, 0.7), _shot("2", A2, 1, 0.1), _shot("3", A, 2, 0.4)]
    picked = [shots[0], shots[1], replace(shots[2], marked_as="sharp")]
    assert similar_groups(picked)[0].best == picked[2]
    # a shot marked blurred is kept only when every other is too
    doubted = [shots[0], replace(shots[1], marked_as="blurred"), shots[2]]
    assert similar_groups(doubted)[0].best == shots[2]
    all_doubted = [replace(s, marked_as="blurred") for s in shots]
    assert similar_groups(all_doubted)[0].best == all_doubted[1]


def test_a_pause_longer_than_the_gap_starts_a_new_group():
    gap = MAX_GAP.total_seconds()
    paused = [_shot("1", A, 0), _shot("2", A, 1), _shot("3", A, 1 + gap + 1), _shot("4", A, 2 + gap + 1)]
    groups = similar_groups(paused)
    assert [len(g.shots) for g in groups] == [2, 2]
    assert groups[0].shots[0].taken_at > groups[1].shots[0].taken_at  # the most recent group first


def test_a_look_away_in_the_middle_of_a_burst_does_not_split_it():
    interrupted = [_shot("1", A, 0), _shot("2", A, 1), _shot("b", B, 2), _shot("3", A2, 3), _shot("4", A, 4)]
    [group] = similar_groups(interrupted)
    assert [s.id for s in group.shots] == [interrupted[i].id for i in (0, 1, 3, 4)]


def test_two_scenes_that_came_in_interleaved_make_two_groups():
    order = [("a1", A), ("b1", B), ("a2", A2), ("b2", B), ("a3", A)]
    shots = [_shot(name, fp, None, added=i) for i, (name, fp) in enumerate(order)]
    groups = similar_groups(shots)
    assert sorted(len(g.shots) for g in groups) == [2, 3]
    assert {s.fingerprint for g in groups for s in g.shots if len(g.shots) == 2} == {B}


def test_a_group_that_newer_groups_pushed_out_is_closed():
    others = [f"{i:x}" * 16 for i in range(1, OPEN + 1)]  # OPEN scenes far from A and from each other
    assert all(distance(a, b) > MAX_DISTANCE for a in (A, *others) for b in others if a != b)
    order = [("a1", A), *((f"o{i}", fp) for i, fp in enumerate(others)), ("a2", A)]
    shots = [_shot(name, fp, None, added=i) for i, (name, fp) in enumerate(order)]
    assert similar_groups(shots) == []  # a2 came after OPEN other scenes: a1's group was closed by then
    assert len(similar_groups([s for s in shots if s.fingerprint != others[0]])) == 1


def test_a_shot_on_its_own_is_no_group():
    assert similar_groups([_shot("1", A, 0), _shot("2", B, 1)]) == []
    assert similar_groups([]) == []


def test_shots_without_a_capture_time_group_in_the_order_they_came_in():
    shots = [_shot("1", A, None, added=0), _shot("2", A2, None, added=1), _shot("3", B, None, added=2)]
    [group] = similar_groups(shots)
    assert {s.id for s in group.shots} == {shots[0].id, shots[1].id}


def test_a_group_with_nothing_scored_yet_has_no_best():
    [group] = similar_groups([_shot("1", A, 0, None), _shot("2", A, 1, None)])
    assert group.best is None
    [group] = similar_groups([_shot("1", A, 0, None), _shot("2", A, 1, 0.9)])
    assert group.best is not None and group.best.blur_score == 0.9
