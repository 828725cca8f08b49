#!/usr/bin/env python3
"""Throughput of classify's scoring path against the classic pipeline and a decode-only floor, on one core;
then the peak memory of scoring a 100 MP JPEG in a fresh process.

    .venv/bin/python bench/bench_score.py [--images ../shared/data/blur-dev/speed] [--reps 7]

Paths timed, interleaved per repetition (single process, cv2.setNumThreads(1)):
  classify  load_gray + analyse (app.adapters.scorer.score_image)
  classic   cv2.imread colour, cvtColor gray, full-resolution cv2.Laplacian(gray, CV_64F).var()
  floor     cv2.imread(path, IMREAD_REDUCED_GRAYSCALE_8) and nothing else
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _classic(path: str) -> float:
    import cv2

    gray = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _floor(path: str):
    import cv2

    return cv2.imread(path, cv2.IMREAD_REDUCED_GRAYSCALE_8)


def throughput(paths: list[str], reps: int) -> dict[str, float]:
    import cv2

    from app.adapters.scorer import score_image

    cv2.setNumThreads(1)
    pipelines = {"classify": score_image, "classic": _classic, "floor": _floor}
    for fn in pipelines.values():  # warm up caches and lazy imports
        fn(paths[0])
    times: dict[str, list[float]] = {name: [] for name in pipelines}
    for _ in range(reps):
        spent = dict.fromkeys(pipelines, 0.0)
        for p in paths:  # interleaved image by image, so a noisy neighbour hits every path alike
            for name, fn in pipelines.items():
                start = time.perf_counter()
                fn(p)
                spent[name] += time.perf_counter() - start
        for name in pipelines:
            times[name].append(len(paths) / spent[name])
    return {name: statistics.median(v) for name, v in times.items()}


MAKE_BIG = """
import sys, cv2, numpy as np
rng = np.random.default_rng(7)
h, w = 8400, 12000
img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
for _ in range(400):
    x, y, r = int(rng.integers(0, w)), int(rng.integers(0, h)), int(rng.integers(20, 600))
    cv2.circle(img, (x, y), r, tuple(int(c) for c in rng.integers(0, 256, 3)), -1, cv2.LINE_AA)
cv2.imwrite(sys.argv[1], img, [cv2.IMWRITE_JPEG_QUALITY, 85])
"""

MEASURE_BIG = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
def hwm_kb():  # peak RSS of this process image (ru_maxrss would carry the parent's peak across exec)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
import cv2, numpy as np
from app.adapters.scorer import score_image
cv2.setNumThreads(1)
base = hwm_kb()
t = time.perf_counter()
a = score_image(sys.argv[1])
ms = (time.perf_counter() - t) * 1000
peak = hwm_kb()
print(json.dumps({"base_kb": base, "peak_kb": peak, "ms": ms, "score": a.blur_score}))
"""


def peak_memory_100mp() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big_100mp.jpg")
        subprocess.run([sys.executable, "-c", MAKE_BIG, path], check=True)
        size_mb = os.path.getsize(path) / 1e6
        out = subprocess.run([sys.executable, "-c", MEASURE_BIG, path, str(ROOT)], check=True,
                             capture_output=True, text=True).stdout  # fmt: skip
    res = json.loads(out.strip().splitlines()[-1])
    res["file_mb"] = size_mb
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", default=str(ROOT.parent / "shared" / "data" / "blur-dev" / "speed"))
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--skip-memory", action="store_true")
    a = ap.parse_args()
    paths = sorted(glob.glob(os.path.join(a.images, "*.jpg")))
    if not paths:
        print(f"no JPEGs in {a.images}", file=sys.stderr)
        return 2
    ips = throughput(paths, a.reps)
    print(f"{len(paths)} images from {a.images}, {a.reps} repetitions, one core, medians")
    for name in ("classify", "classic", "floor"):
        print(f"  {name:9s} {ips[name]:7.1f} images/s  ({1000 / ips[name]:6.1f} ms/image)")
    print(f"  classify / classic = {ips['classify'] / ips['classic']:.2f}x   (target >= 4x)")
    print(f"  classify / floor   = {ips['classify'] / ips['floor']:.1%}   (target >= 85 %)")
    if not a.skip_memory:
        m = peak_memory_100mp()
        peak, base = m["peak_kb"] / 1024, m["base_kb"] / 1024
        print(f"100 MP JPEG (12000 x 8400, {m['file_mb']:.0f} MB), fresh process: peak RSS {peak:.0f} MB")
        print(f"  (after imports {base:.0f} MB, +{peak - base:.0f} MB for scoring), {m['ms']:.0f} ms, "
              f"score {m['score']:.2f}   (target < 150 MB)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
