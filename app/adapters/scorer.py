"""Decode, find faces when they could matter, analyse: the imperative shell around `app.domain.blur`.

Faces come from OpenCV's Haar cascade (`haarcascade_frontalface_default.xml`), which the pinned
opencv-python-headless 4.x wheel ships under `cv2.data.haarcascades`: nothing is downloaded at run
time. YuNet (`cv2.FaceDetectorYN`) is more accurate but needs an ONNX model that no installed package
ships, and OpenCV 5 wheels dropped both `CascadeClassifier` and the cascade files (hence the `<5` pin).
Haar costs ~40 ms at 320 px on one core, ten times the rest of the analysis, so it only runs when the
sharpness map is mixed (`blur.needs_faces`): there a sharp face makes the photo sharp and a soft face
makes it blurred; in a photo that is sharp or soft all over a face cannot change the verdict.
Everything here is safe in a worker process: top-level functions, process-local caches.
"""

from __future__ import annotations

import os
import time
from functools import cache

import cv2
import numpy as np

from app.adapters.decode import load_gray
from app.domain import blur
from app.domain.blur import BlurAnalysis

FACE_SIZE = 320  # long side at which faces are searched
MIN_FACE = 0.08  # smallest face, as a share of the long side


@cache
def _cascade() -> cv2.CascadeClassifier | None:
    path = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
    cascade = cv2.CascadeClassifier(path)
    return None if cascade.empty() else cascade


def find_faces(gray: np.ndarray) -> tuple[tuple[int, int, int, int], ...]:
    """Frontal faces as (x, y, w, h) in gray's coordinates."""
    cascade = _cascade()
    if cascade is None or min(gray.shape[:2]) < 32:
        return ()
    scale = min(1.0, FACE_SIZE / max(gray.shape[:2]))
    small = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    side = max(24, round(MIN_FACE * max(small.shape[:2])))
    found = cascade.detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
    return tuple(tuple(round(v / scale) for v in box) for box in found)


def score_image(source: bytes | str | os.PathLike) -> BlurAnalysis:
    """Decode and analyse one image; raises decode.UndecodableImage."""
    return score_gray(load_gray(source))


def score_gray(gray: np.ndarray) -> BlurAnalysis:
    """Analyse an upright grayscale image, looking for faces only where they could change the verdict."""
    analysis = blur.analyse(gray)
    if blur.needs_faces(analysis):
        faces = find_faces(gray)
        if faces:
            analysis = blur.analyse(gray, faces)
    return analysis


def score_file_timed(source: bytes | str | os.PathLike) -> tuple[BlurAnalysis, float]:
    start = time.perf_counter()
    analysis = score_image(source)
    return analysis, (time.perf_counter() - start) * 1000.0
