"""Blur kernels that blur-dev lacks: camera shake along a curve, lens defocus (a disc), and blur heavier
than blur-dev's "strong".

blur-dev's motion blur is a straight streak and its defocus a Gaussian, at two strengths; real hand shake
wanders, a real lens spreads a point into a disc, and a photo whose focus was missed altogether is far
softer than "strong". tools/calibrate_blur.py makes them from every sharp photo to teach (fit split) and
check (test split) the camera-shake-or-defocus model: one curved shake and one disc at blur-dev's two
strengths (`blur_jpeg`), and one of each of the four shapes at a strength drawn from mild to three times
strong (`continuum_jpeg`). Strengths follow blur-dev's recipe (README: s = long side / 1024), with each
kernel scaled to the same RMS radius as the streak or Gaussian of that strength, so "mild" means equally
blurred whatever the shape. A shallow depth of field made the same way (`bokeh_jpeg`) checks that a sharp
subject on a soft background stays sharp.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

TURNS = (0.2, 0.35, 0.6)  # how much the hand's direction wanders per step: gently curved to loopy
STEPS = 200


# (at least px, px per 1024 px of the long side) for each strength; "heavy" is ours, the others blur-dev's
SHAKE_LENGTH = {"mild": (7.0, 9), "strong": (15.0, 25), "heavy": (30.0, 60)}
DEFOCUS_SIGMA = {"mild": (1.0, 1.5), "strong": (2.5, 4), "heavy": (5.0, 10)}


def shake_length(long_side: int, strength: str) -> float:
    least, per = SHAKE_LENGTH[strength]
    return max(least, per * (long_side / 1024))


def defocus_sigma(long_side: int, strength: str) -> float:
    least, per = DEFOCUS_SIGMA[strength]
    return max(least, per * (long_side / 1024))


def between(low: float, high: float, u: float) -> float:
    """The strength a share `u` of the way from `low` to `high`, on a log scale (as blur is perceived)."""
    return math.exp(math.log(low) + u * (math.log(high) - math.log(low)))


def straight_shake(length: float, angle: float) -> np.ndarray:
    """A straight streak of `length` px at `angle` radians, anti-aliased."""
    size = math.ceil(length) | 1
    kernel = np.zeros((size, size), np.float32)
    c, dx, dy = size // 2, math.cos(angle) * length / 2, math.sin(angle) * length / 2
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def curved_shake(length: float, turn: float, rng: np.random.Generator) -> np.ndarray:
    """A random walk with inertia (the hand keeps its direction, turning a little each step), drawn with
    sub-pixel weights and scaled to the RMS radius of a straight streak of `length` px."""
    pos, heading = np.zeros(2), rng.normal(size=2)
    heading /= np.linalg.norm(heading)
    points = []
    for _ in range(STEPS):
        heading = heading + rng.normal(scale=turn, size=2) - 0.02 * pos / length
        heading /= np.linalg.norm(heading)
        pos = pos + heading * length / STEPS
        points.append(pos.copy())
    path = np.array(points)
    path -= path.mean(0)
    path *= (length / math.sqrt(12)) / max(float(np.sqrt((path**2).sum(1).mean())), 1e-9)
    size = math.ceil(np.abs(path).max() * 2) + 5
    kernel = np.zeros((size, size), np.float32)
    for x, y in path + size / 2:
        x0, y0, fx, fy = int(x), int(y), x - int(x), y - int(y)
        kernel[y0, x0] += (1 - fx) * (1 - fy)
        kernel[y0, x0 + 1] += fx * (1 - fy)
        kernel[y0 + 1, x0] += (1 - fx) * fy
        kernel[y0 + 1, x0 + 1] += fx * fy
    return kernel / kernel.sum()


def disc(sigma: float) -> np.ndarray:
    """A lens's defocus: an anti-aliased disc of radius 2 sigma, the RMS radius of a Gaussian of sigma."""
    radius = 2 * sigma
    size = 2 * math.ceil(radius) + 3
    fine = 8  # sub-samples per pixel for the disc's edge
    coords = (np.arange(size * fine) + 0.5) / fine - size / 2
    inside = np.hypot(*np.meshgrid(coords, coords)) <= radius
    kernel = inside.reshape(size, fine, size, fine).mean(axis=(1, 3)).astype(np.float32)
    return kernel / kernel.sum()


def blur_jpeg(path: str, kind: str, strength: str, seed: int, noise: float = 0.0) -> np.ndarray:
    """The photo at `path` blurred by a curved shake or a disc, with sensor-like noise of `noise` grey
    levels added, through JPEG quality 90 as blur-dev's synthetic photos are; returns the decoded
    grayscale image."""
    rng = np.random.default_rng(seed)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    long_side = max(img.shape[:2])
    if kind == "curved":
        turn = TURNS[int(rng.integers(len(TURNS)))]
        kernel = curved_shake(shake_length(long_side, strength), turn, rng)
    else:
        kernel = disc(defocus_sigma(long_side, strength))
    return _noisy_jpeg(cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT), noise, rng)


CONTINUUM = ("curved", "straight", "disc", "gauss")


def continuum_jpeg(path: str, shape: str, u: float, seed: int, noise: float = 0.0) -> np.ndarray:
    """The photo blurred by one of the CONTINUUM shapes at a strength `u` of the way from blur-dev's mild to
    three times its strong (log scale), with noise and JPEG as in `blur_jpeg`."""
    rng = np.random.default_rng(seed)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    long_side = max(img.shape[:2])
    length = between(shake_length(long_side, "mild"), shake_length(long_side, "heavy"), u)
    sigma = between(defocus_sigma(long_side, "mild"), defocus_sigma(long_side, "heavy"), u)
    if shape == "gauss":
        blurred = cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    else:
        kernels = {
            "curved": lambda: curved_shake(length, TURNS[int(rng.integers(len(TURNS)))], rng),
            "straight": lambda: straight_shake(length, rng.uniform(0, math.pi)),
            "disc": lambda: disc(sigma),
        }
        blurred = cv2.filter2D(img, -1, kernels[shape](), borderType=cv2.BORDER_REFLECT)
    return _noisy_jpeg(blurred, noise, rng)


def _noisy_jpeg(img: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    if noise:
        img = np.clip(img + rng.normal(0.0, noise, img.shape), 0, 255).astype(np.uint8)
    ok, jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)


def bokeh_jpeg(path: str, seed: int, noise: float = 0.0) -> np.ndarray:
    """Shallow depth of field made from a sharp photo: an ellipse around its sharpest part (12-30 % of the
    frame) stays as it is, the rest is defocused by a disc of radius 1-3 % of the long side, with a soft
    edge between them; noise and JPEG as in `blur_jpeg`. The sharp part is where the photo's own detail
    is densest, so what stays sharp is in focus, as a real subject is."""
    rng = np.random.default_rng(seed)
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    h, w = img.shape[:2]
    long_side = max(h, w)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    energy = cv2.Sobel(gray, cv2.CV_32F, 1, 0) ** 2 + cv2.Sobel(gray, cv2.CV_32F, 0, 1) ** 2
    energy = cv2.blur(energy, (max(3, w // 5), max(3, h // 5)))
    my, mx = int(0.15 * h), int(0.15 * w)
    cy, cx = np.unravel_index(int(np.argmax(energy[my : h - my, mx : w - mx])), (h - 2 * my, w - 2 * mx))
    area = rng.uniform(0.12, 0.30) * h * w
    ry = math.sqrt(area / math.pi * rng.uniform(1.0, 1.6))
    rx = area / math.pi / ry
    yy, xx = np.mgrid[0:h, 0:w]
    mask = ((((yy - cy - my) / ry) ** 2 + ((xx - cx - mx) / rx) ** 2) <= 1).astype(np.float32)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.02 * long_side)[..., None]
    kernel = disc(rng.uniform(0.01, 0.03) * long_side / 2)
    background = cv2.filter2D(img.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT)
    out = mask * img + (1 - mask) * background
    if noise:
        out = out + rng.normal(0.0, noise, out.shape)
    ok, jpeg = cv2.imencode(".jpg", np.clip(out + 0.5, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)
