"""The blur verdict: a pure function from an upright grayscale array to a `BlurAnalysis`.

Measurements come from `blur_features` (multi-octave, direction-aware, noise-corrected sharpness
ratios pooled over a tile grid); `blur_model` holds a small logistic model over them, fitted by
tools/calibrate_blur.py on part of the dev set with every coefficient constrained to "sharper means
a lower score", so the score is monotone in blur strength, and a small network that names the blur camera
shake or defocus. Faces, when the caller passes their boxes, can replace the tile grid as the subject
(`analyse` says when). No I/O, no clock.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.domain import blur_model
from app.domain.blur_features import ANALYSIS_SIZE, Measurements, kind_features, measure
from app.domain.noise import NOISY_SIGMA

__all__ = ["ANALYSIS_SIZE", "DEFAULT_THRESHOLD", "BlurAnalysis", "analyse", "is_blurred", "kind_at", "reasons_at"]

DEFAULT_THRESHOLD = 0.5
CLIPPED_SHARE = 0.05
MIXED_SHARE = 0.5  # share of soft textured tiles that makes a sharp photo "subject sharp, background soft"


@dataclass(frozen=True)
class BlurAnalysis:
    blur_score: float  # [0, 1], higher = more blurred; 0.5 is the balanced threshold
    blur_kind: str  # "sharp" | "defocus" | "motion", at the default threshold
    motion_angle: float | None  # degrees in [0, 180), 0 = horizontal, counter-clockwise on screen
    sharpness_map: tuple[tuple[float, ...], ...]  # rows x cols, 1 = sharp, 0.5 where a tile is featureless
    clipped_highlights: float  # share of pixels at 250 or more
    clipped_shadows: float  # share of pixels at 5 or less
    noise: float  # noise sigma in grey levels at analysis resolution
    reasons: tuple[str, ...]  # why, at the default threshold
    blur_type: str = "defocus"  # "defocus" | "motion": what the blur would be called at any threshold
    faces: int = 0
    shake_path: str | None = None  # "straight" | "curved" when the blur is camera shake
    # why, under a threshold that calls the photo blurred and under one that calls it sharp
    reasons_if_blurred: tuple[str, ...] = ()
    reasons_if_sharp: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "blur_score": round(self.blur_score, 4),
            "blur_kind": self.blur_kind,
            "motion_angle": None if self.motion_angle is None else round(self.motion_angle, 1),
            "sharpness_map": [[round(v, 3) for v in row] for row in self.sharpness_map],
            "clipped_highlights": round(self.clipped_highlights, 4),
            "clipped_shadows": round(self.clipped_shadows, 4),
            "noise": round(self.noise, 3),
            "reasons": list(self.reasons),
            "reasons_by_verdict": {"blurred": list(self.reasons_if_blurred), "sharp": list(self.reasons_if_sharp)},
            "faces": self.faces,
            "shake_path": self.shake_path,
        }


def is_blurred(blur_score: float, threshold: float) -> bool:
    return blur_score >= threshold


def kind_at(analysis: BlurAnalysis, threshold: float) -> str:
    """The blur kind under a user's own threshold."""
    return analysis.blur_type if is_blurred(analysis.blur_score, threshold) else "sharp"


def reasons_at(analysis: BlurAnalysis, threshold: float) -> tuple[str, ...]:
    """Why, under a user's own threshold: a photo blurred at 0.3 and sharp at 0.5 is "out of focus" at 0.3."""
    return analysis.reasons_if_blurred if is_blurred(analysis.blur_score, threshold) else analysis.reasons_if_sharp


def analyse(gray: np.ndarray, faces: Sequence[tuple[int, int, int, int]] = ()) -> BlurAnalysis:
    """Score an upright grayscale image; faces are (x, y, w, h) boxes in its coordinates.

    A face in focus makes the photo sharp even where the rest is soft, but a face that reads soft does not
    make blurred a photo whose sharpest tiles are sharp: the lower of the two scores stands. At the
    analysis size a face's own detail (eyes, lashes) is a few pixels wide, so a sharp face reads about as
    soft as a slightly defocused one: in blur-dev's 7 scenes with real faces, letting the face decide
    called 11 of 12 sharp photos blurred (the tiles alone: 1), and the figures of sharp and blurred faces
    overlapped too much for a threshold of their own.
    """
    m = measure(gray)
    if faces and not m.flat:
        by_face = measure(gray, faces)
        if probability(by_face.features) < probability(m.features):
            return _verdict(by_face, len(faces))
    return _verdict(m, 0)


def _verdict(m: Measurements, faces: int) -> BlurAnalysis:
    if m.flat:
        score, blur_type = 1.0, "defocus"
    else:
        score = probability(m.features)
        blur_type = blur_type_of(m, score)
    blurred = is_blurred(score, DEFAULT_THRESHOLD)
    kind = blur_type if blurred else "sharp"
    shake_path = _shake_path(m) if blur_type == "motion" and not m.flat else None
    tiles = sharpness_map(m)
    if_blurred = _reasons(m, blur_type, shake_path, tiles, faces > 0)
    if_sharp = _reasons(m, "sharp", shake_path, tiles, faces > 0)
    return BlurAnalysis(
        blur_score=score,
        blur_kind=kind,
        motion_angle=m.motion_angle if blur_type == "motion" and not m.flat else None,
        sharpness_map=tiles,
        clipped_highlights=m.clipped_highlights,
        clipped_shadows=m.clipped_shadows,
        noise=m.noise,
        reasons=if_blurred if blurred else if_sharp,
        blur_type=blur_type,
        faces=faces,
        shake_path=shake_path,
        reasons_if_blurred=if_blurred,
        reasons_if_sharp=if_sharp,
    )


def probability(features: dict[str, float]) -> float:
    """The blur score: the logistic model of `blur_model` over the sharpness features."""
    m = blur_model
    return _logistic(features, m.FEATURES, m.MEAN, m.SCALE, m.COEF, m.INTERCEPT)


KIND_CHECK_SCORE = 0.05  # below this a photo is sharp at any sensible threshold: the cheap rule names its blur


def blur_type_of(m: Measurements, score: float) -> str:
    """Camera shake ("motion") or "defocus": the kernel-shape model where the photo may be blurred; for a
    clearly sharp photo, whose blur type only shows under a very low threshold, anisotropy alone."""
    if score < KIND_CHECK_SCORE:
        return "motion" if m.anisotropy >= blur_model.MOTION_ANISOTROPY else "defocus"
    return "motion" if motion_probability(kind_features(m)) >= 0.5 else "defocus"


def motion_probability(features: dict[str, float]) -> float:
    """How likely the blur is camera shake: the small network of `blur_model` over the kernel-shape features.

    A network, not a logistic model: what tells shake from defocus changes with how strong the blur is.
    """
    mean, scale, w1, b1, w2 = _kind_network()
    x = (np.nan_to_num(np.array([features[name] for name in blur_model.KIND_FEATURES])) - mean) / scale
    z = float(np.tanh(x @ w1 + b1) @ w2) + blur_model.KIND_B2
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@functools.cache
def _kind_network() -> tuple[np.ndarray, ...]:
    m = blur_model
    return tuple(np.array(v) for v in (m.KIND_MEAN, m.KIND_SCALE, m.KIND_W1, m.KIND_B1, m.KIND_W2))


def _logistic(features, names, means, scales, coefs, intercept: float) -> float:
    z = intercept
    for name, mean, scale, coef in zip(names, means, scales, coefs, strict=True):
        z += coef * (features[name] - mean) / scale
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


def sharpness_map(m: Measurements) -> tuple[tuple[float, ...], ...]:
    z = (m.tile_sharpness - blur_model.MAP_CENTER) / blur_model.MAP_SCALE
    values = np.where(np.isnan(z), 0.5, 1.0 / (1.0 + np.exp(-np.clip(np.nan_to_num(z), -60, 60))))
    return tuple(tuple(float(v) for v in row) for row in values)


def _direction(angle: float) -> str:
    a = angle % 180.0
    if a < 22.5 or a >= 157.5:
        return "roughly horizontal"
    if 67.5 <= a < 112.5:
        return "roughly vertical"
    return "diagonal, rising to the right" if a < 90 else "diagonal, falling to the right"


def _shake_path(m: Measurements) -> str:
    """A shake whose blur is nearly as round as defocus went along a curve, not one way."""
    return "curved" if m.anisotropy < blur_model.MOTION_ANISOTROPY else "straight"


def _reasons(m: Measurements, kind: str, shake_path: str | None, tiles, has_faces: bool) -> tuple[str, ...]:
    if m.flat:
        reasons = ["no detail to judge (flat or tiny image)"]
    elif kind == "motion":
        # a shake that went round in a curve has no one direction worth naming
        curved = shake_path == "curved"
        reasons = ["camera shake, along a curve" if curved else f"camera shake, {_direction(m.motion_angle)}"]
    elif kind == "defocus":
        reasons = ["out of focus"]
    else:
        textured = ~np.isnan(m.tile_sharpness)
        soft = np.asarray(tiles)[textured] < 0.5
        mixed = textured.any() and soft.mean() >= MIXED_SHARE
        reasons = ["subject sharp, background soft" if mixed else "sharp"]
    if has_faces and not m.flat:
        reasons.append("face in focus" if kind == "sharp" else "face blurred")
    if m.noise >= NOISY_SIGMA:
        reasons.append("very noisy")
    if m.clipped_highlights >= CLIPPED_SHARE:
        reasons.append("highlights clipped")
    if m.clipped_shadows >= CLIPPED_SHARE:
        reasons.append("shadows clipped")
    return tuple(reasons)


FACE_CHECK_SCORES = (0.1, 0.9)  # outside this band the verdict is left to the tiles alone


def needs_faces(analysis: BlurAnalysis) -> bool:
    """Whether finding faces could change the verdict: part of the frame sharp and part soft, and the
    verdict not already clear.

    In a photo that is sharp (or soft) all over, a face is sharp (or soft) too and cannot change the
    answer; face detection costs twenty times the rest of the analysis, so it is kept for these cases.
    A face can only make a photo sharper (`analyse` says why), so a portrait whose focus missed the face
    and hit the background stays sharp.
    """
    low, high = FACE_CHECK_SCORES
    if not low <= analysis.blur_score <= high:
        return False
    values = [v for row in analysis.sharpness_map for v in row if v != 0.5]
    if len(values) < 4:
        return False
    soft = sum(v < 0.5 for v in values) / len(values)
    return 0.15 <= soft <= 0.85
