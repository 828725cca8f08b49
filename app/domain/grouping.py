"""Similar shots: photos taken moments apart that show the same scene, and the sharpest of each group.

A burst, or a retake after a shaky first try, leaves near-copies in a library, and what a person wants
from them is the best one. Two photos belong together when they were taken at most MAX_GAP apart and
their fingerprints differ in at most MAX_DISTANCE of 64 bits. A group grows along the time line, each
new shot compared with the last few of the group, so a burst whose framing drifts stays one group.
Photos without a capture time (screenshots, files stripped of EXIF) are grouped the same way in the
order they came in, by their fingerprints alone.

The fingerprint is a perceptual hash: the signs, against their median, of the lowest 8x8 DCT
coefficients of a 32x32 reduction. Blur, recompression and a shift of a few pixels barely move it; a
different scene moves about half its bits. On blur-dev's 1,332 real photos (frames of 160 scenes, with
no capture times, so by fingerprints alone), linking every pair within 12 bits made 147 groups, one of
which mixed two scenes, and 84 % of the photos found a group (bench/bench_similar.py); a difference hash
(dHash), the other usual choice, mixed scenes in five groups. Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

HASH_SIDE = 32  # px: the reduction the DCT is taken of
MAX_DISTANCE = 12  # of 64 bits
MAX_GAP = dt.timedelta(seconds=30)  # a burst, or a retake of the same moment
COMPARED = 8  # a new shot is compared with this many of the group's latest


def fingerprint(gray: np.ndarray) -> str:
    """The 64-bit perceptual hash of an upright grayscale image, as 16 hex digits."""
    import cv2  # here: the web process groups shots but never takes a fingerprint, and OpenCV costs it ~30 MB

    small = cv2.resize(np.asarray(gray, np.uint8), (HASH_SIDE, HASH_SIDE), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small.astype(np.float32))[:8, :8].ravel()
    return np.packbits(low > np.median(low[1:])).tobytes().hex()  # the DC term says only how bright


def distance(a: str, b: str) -> int:
    """How many of the 64 bits two fingerprints differ in."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


@dataclass(frozen=True, slots=True)
class Shot:
    id: uuid.UUID
    fingerprint: str
    taken_at: dt.datetime | None
    added_at: dt.datetime  # when it came in: the order of shots without a capture time
    blur_score: float | None

    @property
    def when(self) -> dt.datetime:
        return self.taken_at or self.added_at


@dataclass(frozen=True, slots=True)
class SimilarGroup:
    shots: tuple[Shot, ...]  # in the order they were taken

    @property
    def best(self) -> Shot | None:
        """The sharpest shot scored so far; None while none is scored."""
        scored = [s for s in self.shots if s.blur_score is not None]
        return min(scored, key=lambda s: s.blur_score or 0.0) if scored else None

    @property
    def key(self) -> tuple[dt.datetime, uuid.UUID]:
        """Where the group stands among the others: its first shot's time, then id."""
        return self.shots[0].when, self.shots[0].id


def similar_groups(shots: Iterable[Shot]) -> list[SimilarGroup]:
    """Groups of two or more similar shots, the most recent first."""
    timed, untimed = [], []
    for shot in shots:
        (timed if shot.taken_at else untimed).append(shot)
    timed.sort(key=lambda s: (s.taken_at, s.added_at, s.id))
    untimed.sort(key=lambda s: (s.added_at, s.id))
    groups = _chain(timed, MAX_GAP) + _chain(untimed, None)
    groups.sort(key=lambda g: g.key, reverse=True)
    return groups


def _chain(shots: Sequence[Shot], max_gap: dt.timedelta | None) -> list[SimilarGroup]:
    groups: list[SimilarGroup] = []
    current: list[Shot] = []
    bits: list[int] = []  # the current group's fingerprints as integers, parsed once
    for shot in shots:
        mine = int(shot.fingerprint, 16)
        near = max_gap is None or (bool(current) and shot.when - current[-1].when <= max_gap)
        if near and any((mine ^ other).bit_count() <= MAX_DISTANCE for other in bits[-COMPARED:]):
            current.append(shot)
            bits.append(mine)
            continue
        if len(current) > 1:
            groups.append(SimilarGroup(tuple(current)))
        current, bits = [shot], [mine]
    if len(current) > 1:
        groups.append(SimilarGroup(tuple(current)))
    return groups
