"""Similar shots: photos taken moments apart that show the same scene, and the sharpest of each group.

A burst, or a retake after a shaky first try, leaves near-copies in a library, and what a person wants
from them is the best one. Two photos belong together when they were taken at most MAX_GAP apart and
their fingerprints differ in at most MAX_DISTANCE of 64 bits. A group grows along the time line, each
new shot compared with the last few shots of the groups still open, so a burst whose framing drifts stays
one group, and a look away in the middle of it does not split it. Photos without a capture time
(screenshots, files stripped of EXIF) are grouped the same way in the order they came in, by their
fingerprints alone; two scenes that came in interleaved still make two groups.

The fingerprint is a perceptual hash: the signs, against their median, of the lowest 8x8 DCT
coefficients of a 32x32 reduction. Blur, recompression and a shift of a few pixels barely move it; a
different scene moves about half its bits. On blur-dev's 1,332 real photos (frames of 160 scenes, with
no capture times, so by fingerprints alone), linking every pair within 12 bits made 147 groups, one of
which mixed two scenes, and 84 % of the photos found a group (bench/bench_similar.py); a difference hash
(dHash), the other usual choice, mixed scenes in five groups. Through similar_groups, brought in a scene
after another, 74 % found a group and none mixed scenes, in order or out of it. Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

HASH_SIDE = 32  # px: the reduction the DCT is taken of
MAX_DISTANCE = 12  # of 64 bits
MAX_GAP = dt.timedelta(seconds=30)  # a burst, or a retake of the same moment
COMPARED = 8  # a new shot is compared with this many of the group's latest
OPEN = 4  # groups a new shot may join: the ones most recently joined
_PICK_ORDER = {"sharp": 0, None: 1, "blurred": 2}  # which shot of a group to keep, before the scores


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
    marked_as: str | None = None  # the person's own call on it ("sharp", "blurred"), if they made one

    @property
    def when(self) -> dt.datetime:
        return self.taken_at or self.added_at

    def as_now(self, blur_score: float | None, marked_as: str | None) -> Shot:
        """This shot with its score and mark as they are now (a kept shot has them as they were when read)."""
        return replace(self, blur_score=blur_score, marked_as=marked_as)


@dataclass(frozen=True, slots=True)
class SimilarGroup:
    shots: tuple[Shot, ...]  # in the order they were taken

    @property
    def best(self) -> Shot | None:
        """The shot to keep, of those scored so far: the person's own pick (a shot they marked sharp) first,
        then the lowest score, and one they marked blurred only when every shot is; None while none is scored."""
        scored = [s for s in self.shots if s.blur_score is not None]
        return min(scored, key=lambda s: (_PICK_ORDER[s.marked_as], s.blur_score)) if scored else None

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
    """Each shot joins the nearest of the groups still open, or opens one of its own.

    Several stay open, so a look away in the middle of a burst does not split it, and two scenes that came
    in interleaved (an import's parallel downloads) make two groups, not a new one at every switch. A group
    closes when its last shot is more than `max_gap` before the next shot, or when OPEN others have been
    joined or opened since it was last joined.
    """
    done: list[list[Shot]] = []
    open_groups: list[tuple[list[Shot], list[int]]] = []  # (shots, their fingerprints as integers), oldest first
    for shot in shots:
        mine = int(shot.fingerprint, 16)
        if max_gap is not None:
            done += [group for group, _ in open_groups if shot.when - group[-1].when > max_gap]
            open_groups = [(group, bits) for group, bits in open_groups if shot.when - group[-1].when <= max_gap]
        nearest = _nearest(mine, open_groups)
        if nearest is None:
            open_groups.append(([shot], [mine]))
            if len(open_groups) > OPEN:
                done.append(open_groups.pop(0)[0])
            continue
        group, bits = open_groups.pop(nearest)
        group.append(shot)
        bits.append(mine)
        open_groups.append((group, bits))  # the most recently joined last: the last to be pushed out
    done += [group for group, _ in open_groups]
    return [SimilarGroup(tuple(group)) for group in done if len(group) > 1]


def _nearest(mine: int, open_groups: list[tuple[list[Shot], list[int]]]) -> int | None:
    """The index of the open group with a recent shot nearest to `mine`, if one is within MAX_DISTANCE."""
    best, best_distance = None, MAX_DISTANCE + 1
    for index, (_, bits) in enumerate(open_groups):
        nearest = min((mine ^ other).bit_count() for other in bits[-COMPARED:])
        if nearest < best_distance:
            best, best_distance = index, nearest
    return best
