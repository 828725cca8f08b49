"""Measurements behind the blur score: pure numpy/OpenCV maths on a grayscale array, no I/O.

Everything is measured at a fixed analysis resolution (`ANALYSIS_SIZE` on the long side, or up to 4 %
over) so that the same photo at 12 MP and at 3 MP gives the same numbers. Sharpness is measured as a
*ratio* of gradient energy between neighbouring octaves of a small Gaussian pyramid, which makes it
independent of the scene's contrast and brightness: blur removes the fine octave first, so fine/coarse
drops monotonically as blur grows. The ratio is taken per direction (a generalised eigenproblem on the
two structure tensors), so that camera shake, which only removes detail along the shake, shows up as
a low ratio in that one direction and tells its angle. Sensor noise adds energy to the fine octave
only, so its expected share (from a robust noise estimate, or from the flattest blocks when the noise
is coloured) is subtracted first: noise does not pass for detail. Ratios are pooled over a coarse
grid of tiles, so a sharp subject anywhere in the frame (the usual portrait with a soft background)
is seen as sharp, and face boxes, when given, are weighed on their own.


Work arrays for the 500-px level are kept per thread and reused: fresh arrays of this size cost more in
page faults than the arithmetic on them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

ANALYSIS_SIZE = 500  # long side, px: 4000-px photos decode straight to it with 1/8 DCT scaling
# A panorama keeps at least this much of its short side (3000 x 1000 analysed at 750 x 250, not 500 x 167):
# at 500 px along 20:1 it kept 25 px, and a sharp one read as shaken. 2:1 and squarer photos never reach it.
PANORAMA_SHORT_SIDE = 250
PANORAMA_LONG_SIDE = 8 * ANALYSIS_SIZE  # and at most this long, to bound the work
NEAR_ENOUGH = 0.96  # an image up to 4 % over ANALYSIS_SIZE is analysed at its own size (see to_analysis_size)
TILE_PX = 60  # target tile size at analysis resolution for the sharpness map
SUBJECT_QUANTILE = 0.9  # the subject is the sharpest tenth of the textured tiles
MIN_SIDE = 16  # below this there is nothing to measure
SOBEL_NOISE_GAIN = 12.0 / 64.0  # E[gx^2] / sigma^2 for a 3x3 Sobel scaled by 1/8 on white noise
PYR_NOISE_GAIN = (70.0 / 256.0) ** 2  # variance kept by one pyrDown (5x5 binomial) on white noise
EPS = 1e-7
NOISE_BLOCK = 8  # px: blocks in which `flat_noise_energy` looks for flat ground
MIN_FLAT_BLOCKS = 16
FLAT_SHARE = 0.02  # the flattest 2 % of the blocks: more takes in texture (gravel read as noise at 10 %)
FLAT_DARK = 12  # blocks this close to black or white are clipped, not flat
FLAT_SIGNAL_RATIO, FLAT_NOISE_RATIO = 2.0, 0.25  # coarse/fine gradient energy of a photo's flat ground, of noise
COHERENCE_SHRINK = 0.1  # share of the trace added to both tensors before the coherence's eigenproblem

FEATURE_NAMES = (
    "subject_sharpness",  # high percentile over textured tiles of the geometric-mean fine/coarse ratio
    "subject_min_sharpness",  # same for the worst direction (camera shake)
    "global_min_sharpness",  # whole-frame ratio in the worst direction
    "global_max_sharpness",  # whole-frame ratio in the best direction
    "median_sharpness",  # median over textured tiles
    "subject_edge_sharpness",  # high percentile over tiles of steepest gradient / intensity range
    "median_edge_sharpness",  # median of the same
    "shake_coherence",  # per-tile anisotropy vectors averaged over the frame: detail lost along one shared direction
)
CLIPPED = 250  # grey level from which highlights count as clipped


@dataclass(frozen=True)
class Measurements:
    """Raw measurements of one image at analysis resolution."""

    features: dict[str, float]
    anisotropy: float  # log(best/worst directional ratio) over the frame; large for camera shake
    motion_angle: float  # degrees in [0, 180), 0 = horizontal, counter-clockwise as seen on screen
    tile_sharpness: np.ndarray  # rows x cols log ratios (nan where a tile has no texture)
    textured_share: float
    noise: float  # estimated noise sigma, in grey levels (0-255) at analysis resolution
    clipped_highlights: float
    clipped_shadows: float
    flat: bool  # nothing to measure (tiny or featureless image)
    gray: np.ndarray | None = None  # the image at analysis resolution, for `kind_features`


def analysis_long_side(width: int, height: int) -> int:
    """The long side an image of this size is analysed at (before NEAR_ENOUGH): ANALYSIS_SIZE, more for a
    panorama, never more than the image has."""
    long_side, short_side = max(width, height), max(1, min(width, height))
    panorama = min(PANORAMA_LONG_SIDE, round(PANORAMA_SHORT_SIDE * long_side / short_side))
    return max(ANALYSIS_SIZE, min(long_side, panorama))


def to_analysis_size(gray: np.ndarray) -> np.ndarray:
    """Reduce to ANALYSIS_SIZE on the long side (never enlarge), as uint8, the way a JPEG is decoded.

    First whole halvings by block means (what DCT scaling does), then what remains, a reduction by less
    than half, with an antialiased bicubic filter; an image at most 4 % too big is left as it is. The
    finest octave decides the score, so the last step must not soften it by an amount that depends on
    the photo's pixel size: with bilinear or area weights, a 4032-px phone photo (decoded at 504 px) read
    about 2 logits blurrier than the same scene at 4000 px (decoded at exactly 500), and every size that
    needed a last resize read 0.7-2 logits blurrier than 4000. Bicubic without its antialiasing, or
    Lanczos, keeps the detail but aliases it into moiré that reads as noise and as camera shake.
    """
    if gray.dtype != np.uint8:
        gray = np.clip(np.nan_to_num(gray), 0, 255).astype(np.uint8)
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY if gray.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    h, w = gray.shape[:2]
    target, factor = analysis_long_side(w, h), 1
    while max(h, w) // (2 * factor) >= target and min(h, w) // (2 * factor) >= 1:  # a 1-px strip stays 1 px
        factor *= 2
    if factor > 1:  # area weights over whole blocks are the block means
        gray = cv2.resize(gray[: h - h % factor, : w - w % factor], (w // factor, h // factor),
                          interpolation=cv2.INTER_AREA)  # fmt: skip
        h, w = gray.shape
    scale = target / max(h, w, 1)
    if scale < NEAR_ENOUGH:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        gray = np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BICUBIC))
    return np.ascontiguousarray(gray)


_IMMERKAER = np.array([1.0, -2.0, 1.0], np.float32)


def noise_sigma(g: np.ndarray) -> float:
    """Immerkær's noise estimate made robust with a median, so edges do not count as noise."""
    h, w = g.shape
    if min(h, w) < 3:
        return 0.0
    step = 2 if min(h, w) > 64 else 1  # a quarter of the pixels is plenty for a median
    # the separable kernel [1 -2 1] x [1 -2 1], in integers
    lap = cv2.sepFilter2D(g, cv2.CV_16S, _IMMERKAER, _IMMERKAER)[1 : h - 1 : step, 1 : w - 1 : step]
    # the median from a histogram of |lap| saturated at 255 (a full sort costs more than the rest of the analysis)
    hist = cv2.calcHist([cv2.convertScaleAbs(lap)], [0], None, [256], [0, 256]).ravel()
    cum, half = np.cumsum(hist), 0.5 * lap.size
    if cum[254] < half:  # the median is 255 or beyond: extremely noisy or synthetic
        sample = np.abs(lap.astype(np.int32))
        if cum[254] + np.count_nonzero(sample == 255) < half:
            return float(np.median(sample)) / (0.6745 * 6.0)
        median = 255
    else:
        median = int(np.searchsorted(cum, half))
    # the 1/8 keeps the estimate the model was fitted with: its histogram took the centre of quarter-level bins
    return (median + 0.125) / (0.6745 * 6.0)


class _Workspace(threading.local):
    def __init__(self) -> None:
        self.arrays: dict[tuple[str, str, tuple[int, ...]], np.ndarray] = {}


_WS = _Workspace()


def _work(name: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """A scratch array of this thread, reused from call to call for images of the same size."""
    key = (name, np.dtype(dtype).str, tuple(shape))
    arr = _WS.arrays.get(key)
    if arr is None:
        if len(_WS.arrays) > 64:  # another image size: drop the old arrays rather than collect them
            _WS.arrays.clear()
        arr = _WS.arrays[key] = np.empty(shape, dtype)
    return arr


def _gradients(g: np.ndarray, work: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    dx = dy = None
    if work:
        dx, dy = _work(work + "x", g.shape), _work(work + "y", g.shape)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, dst=dx, ksize=3, scale=0.125)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, dst=dy, ksize=3, scale=0.125)
    return gx, gy


def _tensor(g: np.ndarray, work: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """gx*gx, gx*gy, gy*gy of the 3x3 Sobel gradients scaled by 1/8 (as `_gradients`), for a uint8 image.

    The gradients are taken in integers and the products scaled by 1/64: the same floats bit for bit, with
    half the memory traffic, which is what this step costs when the caches are cold.
    """
    shape = g.shape
    sx = cv2.Sobel(g, cv2.CV_16S, 1, 0, dst=_work(work + "sx", shape, np.int16), ksize=3)
    sy = cv2.Sobel(g, cv2.CV_16S, 0, 1, dst=_work(work + "sy", shape, np.int16), ksize=3)
    return tuple(cv2.multiply(a, b, dst=_work(work + name, shape), scale=1.0 / 64.0, dtype=cv2.CV_32F)
                 for name, a, b in (("xx", sx, sx), ("xy", sx, sy), ("yy", sy, sy)))  # fmt: skip


def _tensor_by_strips(g: np.ndarray, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """`_pool(_tensor(g))` and the gradient energy gx*gx + gy*gy, made one row of tiles at a time.

    The same floats bit for bit as the whole-image path (each strip's Sobel reads its true neighbour rows,
    and the sums run in the same order), but a strip's products are pooled while they are still in the
    cache: after a 12 MP decode has emptied it, the whole maps cost 1.15 ms and the strips 0.86.
    """
    h, w = g.shape
    th, tw = max(h // rows, 1), max(w // cols, 1)
    energy = _work("energy", (h, w))
    pooled = np.empty((rows, cols, 3), np.float32)
    for r in range(rows):
        r0, r1 = r * th, (h if r == rows - 1 else (r + 1) * th)  # the last strip takes the rows left over
        a0, a1 = max(r0 - 1, 0), min(r1 + 1, h)
        maps = _tensor(g[a0:a1], f"strip{a1 - a0}")
        for k, m in enumerate(maps):
            tile = m[r0 - a0 : r0 - a0 + th, : tw * cols]
            pooled[r, :, k] = tile.reshape(1, th, cols * tw).sum(axis=1).reshape(cols, tw).sum(axis=1)
        cv2.add(maps[0][r0 - a0 : r1 - a0], maps[2][r0 - a0 : r1 - a0], dst=energy[r0:r1])
    return pooled / float(th * tw), energy


def _pool(maps: tuple[np.ndarray, ...], rows: int, cols: int) -> np.ndarray:
    """Mean of each map over a rows x cols grid (the remainder pixels at the edges left out)."""
    h, w = maps[0].shape
    th, tw = max(h // rows, 1), max(w // cols, 1)
    out = [m[: th * rows, : tw * cols].reshape(rows, th, cols * tw).sum(axis=1).reshape(rows, cols, tw).sum(axis=2)
           for m in maps]  # fmt: skip
    return np.stack(out, axis=-1) / float(th * tw)


def generalised_eig(fine: np.ndarray, coarse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest lambda with det(F - lambda C) = 0 for stacks of 2x2 tensors (a, b, c)."""
    a0, b0, c0 = fine[..., 0], fine[..., 1], fine[..., 2]
    reg = 1e-3 * (coarse[..., 0] + coarse[..., 2]) + EPS
    a1, b1, c1 = coarse[..., 0] + reg, coarse[..., 1], coarse[..., 2] + reg
    qa = a1 * c1 - b1 * b1
    qb = a0 * c1 + a1 * c0 - 2.0 * b0 * b1
    qc = a0 * c0 - b0 * b0
    disc = np.sqrt(np.maximum(qb * qb - 4.0 * qa * qc, 0.0))
    lo = (qb - disc) / (2.0 * qa)
    hi = (qb + disc) / (2.0 * qa)
    return np.maximum(lo, EPS), np.maximum(hi, EPS)


def _shake_angle(fine: np.ndarray, coarse: np.ndarray, lam: float) -> float:
    """Direction whose detail was lost most: the eigenvector of the smallest generalised eigenvalue."""
    a = fine[0] - lam * coarse[0]
    b = fine[1] - lam * coarse[1]
    c = fine[2] - lam * coarse[2]
    # (a b; b c) v = 0: take the row with more weight to get v
    vx, vy = (-b, a) if abs(a) + abs(b) >= abs(b) + abs(c) else (-c, b)
    # image rows grow downwards; report counter-clockwise as seen on screen
    return math.degrees(math.atan2(-vy, vx)) % 180.0


def _shake_coherence(fine: np.ndarray, coarse: np.ndarray, contrast: np.ndarray, textured: np.ndarray) -> float:
    """How much of the tiles' directional loss of detail points one shared way, in log-ratio units.

    Each textured tile gives a vector of length log(best/worst directional ratio) at twice the angle of
    the direction it lost most detail in (as `_shake_angle`, per tile); the vectors are averaged with
    the tiles' sqrt(contrast) weights. Camera shake blurs every tile with the same kernel, straight or
    curved, so the tiles agree on the direction and the mean stays long; in a sharp photo the
    anisotropy comes from each tile's own content or noise and points every which way, so the vectors
    cancel. Defocus has little anisotropy to begin with. Both tensors are first shrunk towards
    isotropic by COHERENCE_SHRINK of their trace, so a direction that holds no structure at the coarse
    octave (a tile of parallel stripes, seen along the stripes) reports the tile's mean ratio, not a loss.
    """
    tr_f = COHERENCE_SHRINK * (fine[..., 0] + fine[..., 2])
    tr_c = COHERENCE_SHRINK * (coarse[..., 0] + coarse[..., 2])
    f = np.stack((fine[..., 0] + tr_f, fine[..., 1], fine[..., 2] + tr_f), axis=-1)
    c = np.stack((coarse[..., 0] + tr_c, coarse[..., 1], coarse[..., 2] + tr_c), axis=-1)
    lo, hi = generalised_eig(f, c)
    a = f[..., 0] - lo * c[..., 0]
    b = f[..., 1] - lo * c[..., 1]
    d = f[..., 2] - lo * c[..., 2]
    use_ab = np.abs(a) + np.abs(b) >= np.abs(b) + np.abs(d)
    vx, vy = np.where(use_ab, -b, -d)[textured], np.where(use_ab, a, b)[textured]
    norm = vx * vx + vy * vy + EPS
    cos2, sin2 = (vx * vx - vy * vy) / norm, 2.0 * vx * vy / norm  # the doubled angle: v and -v agree
    w = np.sqrt(contrast[textured])
    length = w * np.log(hi[textured] / lo[textured])
    return float(math.hypot(float((length * cos2).sum()), float((length * sin2).sum())) / (float(w.sum()) + EPS))


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[min(np.searchsorted(cum, q * cum[-1]), len(v) - 1)])


def grid_shape(h: int, w: int) -> tuple[int, int]:
    return max(1, min(8, round(h / TILE_PX))), max(1, min(8, round(w / TILE_PX)))


def measure(gray: np.ndarray, faces: Sequence[tuple[int, int, int, int]] = ()) -> Measurements:
    """Measure an upright grayscale image (uint8 or float in 0-255); faces are boxes in its coordinates."""
    src_h, src_w = gray.shape[:2]
    g = to_analysis_size(np.asarray(gray))
    h, w = g.shape
    highlights = np.count_nonzero(g >= CLIPPED) / g.size if g.size else 0.0
    shadows = np.count_nonzero(g < 6) / g.size if g.size else 0.0
    rows, cols = grid_shape(h, w)
    if min(h, w) < MIN_SIDE:
        return _flat(rows, cols, highlights, shadows)

    sigma = noise_sigma(g)
    g1 = cv2.pyrDown(g)  # the coarse octave, in uint8 like g
    t0, energy = _tensor_by_strips(g, rows, cols)
    maps1 = _tensor(g1, "t1")
    t1 = _pool(maps1, rows, cols)
    # gradient energy, written over gx*gx (pooled already): one work array less to fetch into the cache
    energy1 = cv2.add(maps1[0], maps1[2], dst=maps1[0])
    # expected noise energy on each octave's diagonal; subtract so noise does not pass for detail
    n0 = max(SOBEL_NOISE_GAIN * sigma * sigma, flat_noise_energy(g, energy, energy1))
    n1 = n0 * PYR_NOISE_GAIN
    t0 = t0 - np.array([n0, 0.0, n0], np.float32)
    t1 = t1 - np.array([n1, 0.0, n1], np.float32)
    t0[..., 0::2] = np.maximum(t0[..., 0::2], EPS)
    t1[..., 0::2] = np.maximum(t1[..., 0::2], EPS)

    # a tile counts when its coarse octave holds clearly more than noise (sky, walls and bokeh discs don't)
    contrast = t1[..., 0] + t1[..., 2]
    floor = max(0.5, 4.0 * n0)
    textured = contrast > floor
    if not textured.any():
        return _flat(rows, cols, highlights, shadows, sigma)
    face_tiles = _face_tiles(faces, src_h, src_w, rows, cols) & textured
    lo, hi = generalised_eig(t0, t1)
    tile_log = 0.5 * (np.log(lo) + np.log(hi))
    tile_min = np.log(lo)
    weights = np.sqrt(contrast[textured])
    coherence = _shake_coherence(t0, t1, contrast, textured)

    # "global" figures sum the tensors over the sharper half of the textured tiles (or the faces):
    # the part of the frame in focus, so a soft background does not drag a sharp subject down
    in_focus = textured & (tile_log >= _weighted_quantile(tile_log[textured], weights, 0.5))
    if face_tiles.any():
        in_focus = face_tiles
    glob0, glob1 = (t.reshape(-1, 3)[in_focus.ravel()].sum(0) for t in (t0, t1))
    g_lo, g_hi = generalised_eig(glob0, glob1)
    edge = _edge_sharpness(g, energy, rows, cols, math.sqrt(n0 / SOBEL_NOISE_GAIN))  # the noise subtracted above
    # faces, when found, are the subject: their tiles alone decide the subject figures
    subject_tiles = face_tiles if face_tiles.any() else textured
    sub_w = np.sqrt(contrast[subject_tiles])
    features = {
        "subject_sharpness": _weighted_quantile(tile_log[subject_tiles], sub_w, SUBJECT_QUANTILE),
        "subject_min_sharpness": _weighted_quantile(tile_min[subject_tiles], sub_w, SUBJECT_QUANTILE),
        "global_min_sharpness": float(np.log(g_lo)),
        "global_max_sharpness": float(np.log(g_hi)),
        "median_sharpness": _weighted_quantile(tile_log[textured], weights, 0.5),
        "subject_edge_sharpness": _weighted_quantile(edge[subject_tiles], sub_w, SUBJECT_QUANTILE),
        "median_edge_sharpness": _weighted_quantile(edge[textured], weights, 0.5),
        "shake_coherence": coherence,
    }
    return Measurements(
        features=features,
        anisotropy=float(np.log(g_hi / g_lo)),
        motion_angle=_shake_angle(glob0, glob1, float(g_lo)),
        tile_sharpness=np.where(textured, tile_log, np.nan),
        textured_share=float(textured.mean()),
        noise=sigma,
        clipped_highlights=highlights,
        clipped_shadows=shadows,
        flat=False,
        gray=g,
    )


def flat_noise_energy(g: np.ndarray, energy0: np.ndarray, energy1: np.ndarray) -> float:
    """Per-axis noise energy of the fine octave, read from the flattest unclipped blocks; 0 when unsure.

    `noise_sigma` assumes white noise and sees only its finest part. After a photo's colour conversion,
    its reduction to the analysis size and JPEG, noise is coloured: at 4 grey levels added to a 640-px
    photo, 1.56 are left at analysis size and the estimate reads 0.77, so most of the noise's energy
    passed for detail. The flattest blocks hold noise plus a little signal; signal keeps about
    FLAT_SIGNAL_RATIO times more gradient energy at the coarse octave than at the fine one, noise about
    FLAT_NOISE_RATIO, so the two are told apart from the blocks' energy at both octaves. It reads low
    (the flattest blocks are also where the noise happened to be weakest): about 70 % of the noise on
    blur-dev's photos, against 17-39 % for `noise_sigma`, which stays the floor. Texture everywhere with
    its detail near the block size is partly read as noise (skimage's grass: 5.2 against 3.8), but its
    textured tiles hold far more: the scores of skimage's grass and gravel moved by less than 0.002.
    """
    rows, cols = g.shape[0] // NOISE_BLOCK, g.shape[1] // NOISE_BLOCK
    if rows * cols < MIN_FLAT_BLOCKS:
        return 0.0
    half = NOISE_BLOCK // 2
    mean = _block_mean(g, rows, cols, NOISE_BLOCK)
    e0 = _block_mean(energy0, rows, cols, NOISE_BLOCK)
    e1 = _block_mean(energy1, rows, cols, half)
    usable = (mean > FLAT_DARK) & (mean < 255 - FLAT_DARK)  # clipped areas hold no noise to see
    if usable.sum() < MIN_FLAT_BLOCKS:
        return 0.0
    e0, e1 = e0[usable], e1[usable]
    k = max(4, int(FLAT_SHARE * e0.size))
    flattest = np.argpartition(e0, k - 1)[:k]
    f0, f1 = 0.5 * float(e0[flattest].mean()), 0.5 * float(e1[flattest].mean())
    return max(0.0, (FLAT_SIGNAL_RATIO * f0 - f1) / (FLAT_SIGNAL_RATIO - FLAT_NOISE_RATIO))


def _block_mean(a: np.ndarray, rows: int, cols: int, size: int) -> np.ndarray:
    # area interpolation by a whole factor is the block mean, and far quicker than numpy's reshape-mean
    return cv2.resize(a[: rows * size, : cols * size], (cols, rows), interpolation=cv2.INTER_AREA).ravel()


def _face_tiles(faces, src_h, src_w, rows, cols) -> np.ndarray:
    """Tiles that the face boxes (in source coordinates) cover."""
    mask = np.zeros((rows, cols), bool)
    for x, y, fw, fh in faces:
        r0, c0 = max(int(y / src_h * rows), 0), max(int(x / src_w * cols), 0)
        r1, c1 = math.ceil((y + fh) / src_h * rows), math.ceil((x + fw) / src_w * cols)
        mask[r0 : max(r1, r0 + 1), c0 : max(c1, c0 + 1)] = True
    return mask


def _tile_max(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    h, w = a.shape
    th, tw = max(h // rows, 1), max(w // cols, 1)
    return a[: th * rows, : tw * cols].reshape(rows, th, cols * tw).max(axis=1).reshape(rows, cols, tw).max(axis=2)


def _tile_min(a: np.ndarray, rows: int, cols: int) -> np.ndarray:
    h, w = a.shape
    th, tw = max(h // rows, 1), max(w // cols, 1)
    return a[: th * rows, : tw * cols].reshape(rows, th, cols * tw).min(axis=1).reshape(rows, cols, tw).min(axis=2)


def _edge_sharpness(g, energy, rows: int, cols: int, sigma: float) -> np.ndarray:
    """Per tile, log of the steepest gradient over the intensity range: about 1/edge width."""
    steepest = np.sqrt(_tile_max(energy, rows, cols))
    span = _tile_max(g, rows, cols).astype(np.float32) - _tile_min(g, rows, cols)
    return np.log((steepest + 1e-3) / (span + 2.0 * sigma + 1.0))


def _flat(rows, cols, highlights, shadows, sigma=0.0) -> Measurements:
    return Measurements(
        features=dict.fromkeys(FEATURE_NAMES, float("nan")),
        anisotropy=0.0,
        motion_angle=0.0,
        tile_sharpness=np.full((rows, cols), np.nan),
        textured_share=0.0,
        noise=sigma,
        clipped_highlights=highlights,
        clipped_shadows=shadows,
        flat=True,
    )


KIND_FEATURE_NAMES = (
    "anisotropy",
    "shake_coherence",
    "subject_sharpness",
    "global_max_sharpness",
    "spread_2",  # gradient autocorrelation 2 px away, all directions: how far the blur spreads detail
    "spread_3",
    "spread_6",
    "reach_4",  # the same 4 px away, in the direction where it reaches furthest
    "reach_8",
    *(f"{name}_{r}" for name in ("direction", "profile", "reach_profile") for r in (3, 4, 6, 8)),
)
_REACH = 8  # px: the largest offset the autocorrelation is read at
_dy, _dx = np.mgrid[-_REACH : _REACH + 1, -_REACH : _REACH + 1]
_RADIUS = np.hypot(_dy, _dx)
# 8 bins over half a turn, centred on 0, 22.5, 45... degrees so that each holds the same share of a ring
_DIRECTION = ((np.arctan2(_dy, _dx) + np.pi / 16) % np.pi / np.pi * 8).astype(int) % 8


def _ring(r: float) -> np.ndarray:
    return np.abs(_RADIUS - r) < 0.5


_RINGS = {r: _ring(r) for r in (2, 3, 4, 6, 8)}


def _noise_pattern() -> np.ndarray:
    """What white noise of unit variance adds to the gradient autocorrelation, per pixel, near zero offset:
    the Sobel kernels' own autocorrelation (it reaches 2 px), for x and y together."""
    sobel_x = np.outer([1.0, 2.0, 1.0], [-1.0, 0.0, 1.0]) / 8.0
    pattern = np.zeros((2 * _REACH + 1, 2 * _REACH + 1))
    for kernel in (sobel_x, sobel_x.T):
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                shifted = np.roll(np.roll(np.pad(kernel, 2), dy, axis=0), dx, axis=1)
                pattern[_REACH + dy, _REACH + dx] += float((np.pad(kernel, 2) * shifted).sum())
    return pattern


_NOISE_PATTERN = _noise_pattern()


def kind_features(m: Measurements) -> dict[str, float]:
    """What tells camera shake from defocus when the blur is curved as well as straight.

    Straight shake is anisotropic and the anisotropy alone names it; a hand that moves in a curve leaves
    a blur nearly as round as defocus. What differs is the kernel's shape: shake is a thin trace, so the
    gradient field stays correlated with itself far along the trace (the `reach`), while defocus spreads
    it evenly and not as far for the same blur (the `spread`). The autocorrelation comes from one FFT of
    the gradients at analysis resolution (about 2 ms), which is why `analyse` asks for it only when the
    photo may be blurred. Sensor noise adds only the Sobel kernels' own autocorrelation (within 2 px), so
    that is taken off, scaled by the measured noise, before normalising.
    """
    assert m.gray is not None and not m.flat
    shape = m.gray.shape
    gx, gy = _gradients(m.gray, "k")
    fx, fy = cv2.dft(gx, dst=_work("kfx", shape)), cv2.dft(gy, dst=_work("kfy", shape))
    power = cv2.mulSpectrums(fx, fx, 0, _work("kp", shape), conjB=True)
    power += cv2.mulSpectrums(fy, fy, 0, _work("kq", shape), conjB=True)
    auto = cv2.idft(power, dst=_work("ka", shape), flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    h, w = auto.shape
    near = auto[np.ix_(np.arange(-_REACH, _REACH + 1) % h, np.arange(-_REACH, _REACH + 1) % w)]
    near = near - _NOISE_PATTERN * (m.noise * m.noise * h * w)
    near = near / max(float(near[_REACH, _REACH]), EPS)
    features = {name: m.features[name] for name in ("shake_coherence", "subject_sharpness", "global_max_sharpness")}
    features["anisotropy"] = m.anisotropy
    spread, reach, least = {}, {}, {}
    for r in (2, 3, 4, 6, 8):
        ring, bins = near[_RINGS[r]], _DIRECTION[_RINGS[r]]
        by_direction = [float(ring[bins == b].mean()) for b in range(8)] if r > 2 else [0.0]
        spread[r], reach[r], least[r] = float(ring.mean()), max(by_direction), min(by_direction)
    features.update(spread_2=spread[2], spread_3=spread[3], spread_6=spread[6], reach_4=reach[4], reach_8=reach[8])
    # the shapes: how one-sided the correlation is at each distance, and how it falls off with distance
    for r in (3, 4, 6, 8):
        features[f"direction_{r}"] = (reach[r] - least[r]) / (abs(spread[r]) + 0.05)
        features[f"profile_{r}"] = spread[r] / (abs(spread[2]) + 0.05)
        features[f"reach_profile_{r}"] = reach[r] / (abs(spread[2]) + 0.05)
    return features
