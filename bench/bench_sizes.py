#!/usr/bin/env python3
"""Does the blur verdict depend on how many pixels the camera had? The same scenes at the sizes photos come in.

    .venv/bin/python bench/bench_sizes.py [--photos DIR] [--seeds 8] [--jobs N]

A 4000-px JPEG decodes (1/8 DCT scaling) at exactly the analysis size; every other size leaves a last
resize, or none when it decodes within 4 % of it (4032 x 3024, the commonest phone photo, at 504 px). The
baseline is each scene's own 4000-px version, scored in the same run through the product's decode and
scoring path (`scorer.score_image` on JPEG bytes, quality 92). For every size the script prints the mean
shift of the score in logits against the baseline (0 = the same score; +1 multiplies the odds of
"blurred" by e), and the share of verdicts that differ from the baseline's at the default threshold.

Scenes: `tests.images.drawn_scene`, drawn at each size (as a camera of that many pixels would take it)
with sensor noise of 2 grey levels, sharp and with a mild defocus (sigma 1 px per 1024 px of the long
side). `--photos DIR` adds every JPEG of at least 4000 px in DIR, reduced to each size by area
averaging; real photos, but each reduction also softens them a little.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from app.adapters.scorer import score_image  # noqa: E402
from app.domain.blur import DEFAULT_THRESHOLD  # noqa: E402
from tests.images import drawn_scene  # noqa: E402

SIZES = (6000, 5472, 5000, 4608, 4032, 4000, 3264, 3000, 2560, 2048, 1600, 1280, 1024)
BASELINE = 4000
NOISE = 2.0
MILD = 1.0  # defocus sigma per 1024 px of the long side


def _jpeg(img: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _drawn(job: tuple[int, float]) -> dict[int, float]:
    seed, sigma = job
    cv2.setNumThreads(1)
    rng = np.random.default_rng(seed)
    scores = {}
    for size in SIZES:
        img = drawn_scene(size, size * 3 // 4, seed=seed).astype(np.float32)
        if sigma:
            img = cv2.GaussianBlur(img, (0, 0), sigma * size / 1024)
        img = np.clip(img + rng.normal(0, NOISE, img.shape), 0, 255).astype(np.uint8)
        scores[size] = score_image(_jpeg(img)).blur_score
    return scores


def _photo(job: tuple[str, float]) -> dict[int, float]:
    path, sigma = job
    cv2.setNumThreads(1)
    src = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    long_side = max(src.shape)
    if sigma:
        src = cv2.GaussianBlur(src, (0, 0), sigma * long_side / 1024)
    scores = {}
    for size in SIZES:
        if size > long_side:
            continue
        scale = size / long_side
        img = src if size == long_side else cv2.resize(src, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        scores[size] = score_image(_jpeg(img)).blur_score
    return scores


def report(name: str, runs: list[dict[int, float]]) -> None:
    runs = [r for r in runs if BASELINE in r]
    print(f"\n{name} ({len(runs)} scenes)")
    print(f"  {'size':>6} {'logit shift':>12} {'verdict differs':>16}")
    for size in SIZES:
        have = [r for r in runs if size in r]
        if not have:
            continue
        shift = np.mean([_logit(r[size]) - _logit(r[BASELINE]) for r in have])
        differs = np.mean([(r[size] >= DEFAULT_THRESHOLD) != (r[BASELINE] >= DEFAULT_THRESHOLD) for r in have])
        mark = "  (baseline)" if size == BASELINE else ""
        print(f"  {size:>6} {shift:>+12.2f} {differs:>16.3f}{mark}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=Path, help="a folder of JPEGs of at least 4000 px to add")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    with Pool(a.jobs) as pool:
        for sigma, label in ((0.0, "sharp"), (MILD, "mild defocus")):
            report(f"drawn scenes, {label}", pool.map(_drawn, [(s, sigma) for s in range(a.seeds)]))
            if a.photos:
                paths = sorted(str(p) for p in a.photos.glob("*.jp*g"))
                runs = pool.map(_photo, [(p, sigma) for p in paths])
                report(f"photos in {a.photos}, {label}", runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
