#!/usr/bin/env python3
"""How the blur verdict holds up when blur-dev's held-out photos are changed the way real photos are.

    .venv/bin/python bench/bench_robustness.py [--data ../shared/data/blur-dev] [--split test] [--jobs N]

Each condition is applied to every photo of the split (tools/blur_split.csv; "test" is never fitted), the
result goes through the product's own decode and scoring path (`scorer.score_image` on JPEG bytes), and the
figures are printed next to those of the photos as published, measured in the same run:

  published      the files as they are
  jpeg q70, q50  re-saved at a lower JPEG quality, as messaging apps and web uploads do
  noise 4, 8     Gaussian sensor-like noise of that many grey levels added at full size, saved at q90
  rotated        turned a quarter turn (the verdict should not care which way is up)
  half size      reduced to half the width and height: blur of a few pixels shrinks with the photo, so
                 fewer blurred photos are called blurred; this row shows how much
"""

from __future__ import annotations

import argparse
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
from tools.calibrate_blur import auc, load_rows, scene_split  # noqa: E402

WIDTHS = {"accuracy": 8, "AUC": 6, "sharp kept": 10, "blurred caught": 14, "same verdict": 12}
CONDITIONS = ("published", "jpeg q70", "jpeg q50", "noise 4", "noise 8", "rotated", "half size")


def _changed(path: str, condition: str, seed: int) -> bytes:
    if condition == "published":
        return Path(path).read_bytes()
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    quality = 90
    if condition.startswith("jpeg"):
        quality = int(condition.removeprefix("jpeg q"))
    elif condition.startswith("noise"):
        sigma = float(condition.removeprefix("noise "))
        noise = np.random.default_rng(seed).normal(0.0, sigma, img.shape)
        img = np.clip(img + noise, 0, 255).astype(np.uint8)
    elif condition == "rotated":
        img = cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE)
    elif condition == "half size":
        img = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return jpeg.tobytes()


def _score(job: tuple[str, str, int]) -> float:
    path, condition, seed = job
    return score_image(_changed(path, condition, seed)).blur_score


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "blur-dev")
    ap.add_argument("--split", choices=("test", "fit", "all"), default="test")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()

    rows = load_rows(args.data)
    split = scene_split(rows)
    rows = [r for r in rows if args.split == "all" or split[r["scene"]] == args.split]
    blurred = np.array([r["y"] for r in rows])
    paths = [r["abspath"] for r in rows]
    print(f"{len(rows)} photos ({int(blurred.sum())} blurred), {args.split!r} split, threshold {DEFAULT_THRESHOLD}")
    header = ("condition", "accuracy", "AUC", "sharp kept", "blurred caught", "same verdict")
    print(f"{header[0]:10s} " + " ".join(f"{name:>{WIDTHS[name]}s}" for name in header[1:]))
    published = None
    with Pool(args.jobs) as pool:
        for condition in CONDITIONS:
            jobs = [(p, condition, i) for i, p in enumerate(paths)]
            scores = np.array(pool.map(_score, jobs, chunksize=8))
            verdict = scores >= DEFAULT_THRESHOLD
            published = verdict if published is None else published
            figures = {
                "accuracy": np.mean(verdict == blurred),
                "AUC": auc(blurred, scores),
                "sharp kept": np.mean(~verdict[~blurred]),
                "blurred caught": np.mean(verdict[blurred]),
                "same verdict": np.mean(verdict == published),
            }
            print(f"{condition:10s} " + " ".join(f"{v:{WIDTHS[k]}.3f}" for k, v in figures.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
