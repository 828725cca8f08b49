#!/usr/bin/env python3
"""Fit the blur model on part of blur-dev (split by scene), report on the rest, write app/domain/blur_model.py.

    .venv/bin/python tools/calibrate_blur.py [--data ../shared/data/blur-dev] [--test-labels /tmp/test.csv] [--cv]

The split lives in tools/blur_split.csv (scene,split); it is made once (60 % of the scenes to fit,
seeded) and reused, so the figures on the "test" scenes stay honest across re-runs. What is fitted:
a logistic regression (Newton/IRLS, L2) over standardised sharpness features, with every coefficient
forced to be <= 0 (a sharper measurement can only lower the blur score; features that would take the
wrong sign are dropped and the model refitted), the scale of the sharpness map, and what tells camera
shake from defocus: an anisotropy threshold for clearly sharp photos, and a small neural network (one
hidden layer of KIND_HIDDEN tanh units) over the kernel-shape features for the rest. blur-dev's shake is
straight and its defocus Gaussian, both at two strengths, so that model also learns from blur made from
each sharp photo of the fit split (tools/blur_kernels.py): a curved shake and a disc at blur-dev's
strengths, and a curved shake, a straight one, a disc and a Gaussian at strengths from mild to three times
strong. The same made from the test split's photos are reported, never fitted. A logistic model cannot
learn the kind across strengths: the shape features of heavy defocus look like those of shake at blur-dev's
strengths, and it named 67 % of heavy discs and 43 % of heavy Gaussians camera shake (bench/README.md).
blur-dev's shallow depth of field is 30 made photos; a shallow depth of field made from every sharp photo
(its sharpest part kept, the rest defocused) is reported too, and never fitted: taught to the model, it
kept more of them but cost recall on curved shake and noisy defocus.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
from multiprocessing import Pool
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.adapters.decode import load_gray  # noqa: E402
from app.domain.blur import KIND_CHECK_SCORE  # noqa: E402
from app.domain.blur_features import FEATURE_NAMES, KIND_FEATURE_NAMES, kind_features, measure  # noqa: E402
from tools.blur_kernels import CONTINUUM, blur_jpeg, bokeh_jpeg, continuum_jpeg  # noqa: E402

# The sign each feature's coefficient must have: -1 where a higher value means a sharper photo (all of
# the sharpness ratios), +1 where it means a blurrier one. Features not listed count as -1.
SIGNS: dict[str, int] = {"shake_coherence": 1}

SPLIT_FILE = ROOT / "tools" / "blur_split.csv"
MODEL_FILE = ROOT / "app" / "domain" / "blur_model.py"
FIT_SHARE, SEED, L2, BOKEH_WEIGHT = 0.6, 20260, 2.0, 3.0
SYNTHETIC_NOISE = (0.0, 3.0, 6.0)  # grey levels
KIND_HIDDEN, KIND_L2, KIND_STEPS = 16, 1e-3, 4000  # held-out kind right: 0.942 on the continuum (logistic: 0.827)


def load_rows(data: Path) -> list[dict]:
    with open(data / "labels.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["y"] = r["label"] == "blurred"
        r["abspath"] = str(data / r["path"])
    return rows


def scene_split(rows: list[dict]) -> dict[str, str]:
    if SPLIT_FILE.exists():
        with open(SPLIT_FILE, newline="") as f:
            split = {r["scene"]: r["split"] for r in csv.DictReader(f)}
        if all(r["scene"] in split for r in rows):
            return split
    scenes = sorted({r["scene"] for r in rows})
    random.Random(SEED).shuffle(scenes)  # noqa: S311 (a reproducible split, not a secret)
    n_fit = round(FIT_SHARE * len(scenes))
    split = {s: ("fit" if i < n_fit else "test") for i, s in enumerate(scenes)}
    with open(SPLIT_FILE, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["scene", "split"])
        w.writerows(sorted(split.items()))
    return split


def _measure(path: str) -> tuple[list[float], float, np.ndarray, list[float]]:
    import cv2

    cv2.setNumThreads(1)
    return _measured(measure(load_gray(path)))


def _measure_synthetic(job: tuple[str, str, str, int, float]) -> tuple[list[float], float, np.ndarray, list[float]]:
    import cv2

    cv2.setNumThreads(1)
    path, kind, strength, seed, noise = job
    made = bokeh_jpeg(path, seed, noise) if kind == "bokeh" else blur_jpeg(path, kind, strength, seed, noise)
    return _measured(measure(made))


def _measure_continuum(job: tuple[str, str, float, int, float]) -> tuple[list[float], float, np.ndarray, list[float]]:
    import cv2

    cv2.setNumThreads(1)
    return _measured(measure(continuum_jpeg(*job)))


def _measured(m) -> tuple[list[float], float, np.ndarray, list[float]]:
    kind = [float("nan")] * len(KIND_FEATURE_NAMES)
    if not m.flat:
        kind = [kind_features(m)[k] for k in KIND_FEATURE_NAMES]
    return [m.features[k] for k in FEATURE_NAMES], m.anisotropy, m.tile_sharpness, kind


def synthetic_jobs(rows: list[dict], split: dict[str, str]) -> list[tuple[tuple[str, str, str, int, float], str]]:
    """One curved shake, one disc defocus and one shallow depth of field of every plain sharp photo,
    strengths alternating and two in three with noise (blur-dev's photos are clean; a phone's in dim light
    are not), seeded."""
    plain = [r for r in rows if r["label"] == "sharp" and not r["subtype"]]
    jobs = []
    for i, r in enumerate(plain):
        for j, kind in enumerate(("curved", "disc", "bokeh")):
            strength = ("mild", "strong")[(i + j) % 2]
            noise = SYNTHETIC_NOISE[(i + j) % len(SYNTHETIC_NOISE)]
            seed = SEED + 1_000_000 + i if kind == "bokeh" else SEED + 2 * i + j
            jobs.append(((r["abspath"], kind, strength, seed, noise), split[r["scene"]]))
    return jobs


def continuum_jobs(rows: list[dict], split: dict[str, str]) -> list[tuple[tuple[str, str, float, int, float], str]]:
    """Each plain sharp photo blurred by each CONTINUUM shape, at a seeded random strength between blur-dev's
    mild and three times its strong, two in three with noise."""
    plain = [r for r in rows if r["label"] == "sharp" and not r["subtype"]]
    rng = np.random.default_rng(SEED + 3)
    jobs = []
    for i, r in enumerate(plain):
        for j, shape in enumerate(CONTINUUM):
            noise = SYNTHETIC_NOISE[(i + j) % len(SYNTHETIC_NOISE)]
            jobs.append(
                ((r["abspath"], shape, float(rng.uniform()), SEED + 5_000_000 + 4 * i + j, noise), split[r["scene"]])
            )
    return jobs


def fit_kind_network(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One hidden layer of KIND_HIDDEN tanh units and a logistic output, fitted by full-batch Adam on the
    L2-penalised log loss from a seeded start: (W1 features x hidden, b1, w2, b2)."""
    rng = np.random.default_rng(SEED)
    n, d = x.shape
    params = [rng.normal(0, 1 / np.sqrt(d), (d, KIND_HIDDEN)), np.zeros(KIND_HIDDEN),
              rng.normal(0, 1 / np.sqrt(KIND_HIDDEN), KIND_HIDDEN), np.zeros(1)]  # fmt: skip
    first, second = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
    for t in range(1, KIND_STEPS + 1):
        hidden = np.tanh(x @ params[0] + params[1])
        g = (1.0 / (1.0 + np.exp(-(hidden @ params[2] + params[3][0]))) - y) / n
        back = np.outer(g, params[2]) * (1 - hidden * hidden)
        grads = (x.T @ back + KIND_L2 * params[0], back.sum(0), hidden.T @ g + KIND_L2 * params[2], np.array([g.sum()]))
        for i, grad in enumerate(grads):
            first[i] = 0.9 * first[i] + 0.1 * grad
            second[i] = 0.999 * second[i] + 0.001 * grad * grad
            params[i] -= 0.01 * (first[i] / (1 - 0.9**t)) / (np.sqrt(second[i] / (1 - 0.999**t)) + 1e-8)
    return params[0], params[1], params[2], float(params[3][0])


def kind_network_probability(net, x: np.ndarray) -> np.ndarray:
    w1, b1, w2, b2 = net
    return 1.0 / (1.0 + np.exp(-(np.tanh(x @ w1 + b1) @ w2 + b2)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = L2, weight: np.ndarray | None = None) -> np.ndarray:
    """Weights (intercept first) of an L2-regularised logistic regression by Newton's method."""
    z = np.c_[np.ones(len(x)), x]
    sw = np.ones(len(x)) if weight is None else weight
    w = np.zeros(z.shape[1])
    penalty = l2 * np.r_[0.0, np.ones(z.shape[1] - 1)]
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-z @ w))
        grad = z.T @ (sw * (p - y)) + penalty * w
        hess = (z * (sw * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-9:
            break
    return w


def fit_monotone(x: np.ndarray, y: np.ndarray, names: list[str], weight: np.ndarray):
    """Drop features whose coefficient has the wrong sign (sharper -> more blurred) until none do."""
    signs = np.array([SIGNS.get(n, -1) for n in names], float)
    keep = list(range(len(names)))
    while True:
        mean, scale = x[:, keep].mean(0), x[:, keep].std(0) + 1e-9
        w = fit_logistic((x[:, keep] - mean) / scale, y, weight=weight)
        wrong = -w[1:] * signs[keep]  # > 0 where the sign is wrong
        bad = [k for k, c in zip(keep, wrong, strict=True) if c > 0]
        if not bad:
            return keep, mean, scale, w
        keep.remove(max(bad, key=lambda k: wrong[keep.index(k)]))


def scene_cv(x: np.ndarray, rows: list[dict], mask: np.ndarray, folds: int = 10, seeds=(0, 1, 2)) -> np.ndarray:
    """Out-of-fold scores on the masked rows (the fit split): folds of whole scenes, the whole fit
    (feature selection included) redone per fold, averaged over a few fold assignments."""
    scenes = np.array([r["scene"] for r in rows])
    y = np.array([r["y"] for r in rows], float)
    out = np.zeros(len(rows))
    for seed in seeds:
        names = sorted(set(scenes[mask]))
        random.Random(seed).shuffle(names)  # noqa: S311 (reproducible folds, not a secret)
        fold = {s: i % folds for i, s in enumerate(names)}
        assigned = np.array([fold.get(s, -1) for s in scenes])
        for k in range(folds):
            train, test = mask & (assigned != k), mask & (assigned == k)
            keep, mean, scale, w = fit_monotone(x[train], y[train], list(FEATURE_NAMES), sample_weights(rows, train))
            out[test] += 1.0 / (1.0 + np.exp(-(w[0] + ((x[test][:, keep] - mean) / scale) @ w[1:])))
    return out / len(seeds)


def sample_weights(rows: list[dict], mask: np.ndarray) -> np.ndarray:
    """Bokeh photos weigh BOKEH_WEIGHT times a plain photo.

    They are 2 % of the set but a whole product rule (a sharp subject on a soft background is sharp);
    without this the fit would trade them away for a sliver of accuracy elsewhere.
    """
    return np.array([BOKEH_WEIGHT if r["subtype"] == "bokeh" else 1.0 for r in rows])[mask]


def auc(y: np.ndarray, s: np.ndarray) -> float:
    _, inv, counts = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inv]
    npos, nneg = y.sum(), (~y).sum()
    return float((ranks[y].sum() - npos * (npos + 1) / 2) / (npos * nneg))


def report(name: str, rows: list[dict], score: np.ndarray, kinds: list[str]) -> None:
    y = np.array([r["y"] for r in rows])
    sub = np.array([r["subtype"] for r in rows])
    pred = score >= 0.5
    blurred_typed = [i for i in range(len(rows)) if sub[i] in ("defocus", "motion")]
    kind_right = np.mean([kinds[i] == sub[i] for i in blurred_typed]) if blurred_typed else float("nan")
    print(
        f"{name:5s} n={len(rows):4d} AUC {auc(y, score):.4f}  accuracy {np.mean(pred == y):.4f}  "
        f"motion recall {np.mean(pred[sub == 'motion']):.3f}  defocus recall {np.mean(pred[sub == 'defocus']):.3f}  "
        f"bokeh kept {np.mean(~pred[sub == 'bokeh']):.3f}  kind right {kind_right:.3f}"
    )


def _matrix_row(row) -> str:
    """A row of a weight matrix as eight numbers a line (ruff would give each number a line of its own)."""
    values = [f"{float(v):.6g}" for v in row]
    lines = [", ".join(values[i : i + 8]) for i in range(0, len(values), 8)]
    return "    (" + ",\n     ".join(lines) + "),\n"


def write_model(names, mean, scale, w, motion, map_center, map_scale, kind_model, note) -> None:
    def fmt(xs) -> str:
        text = "(" + ", ".join(f"{float(v):.6g}" for v in xs) + ("," if len(xs) == 1 else "") + ")"
        return text if len(text) <= 100 else "(\n" + "".join(f"    {float(v):.6g},\n" for v in xs) + ")"

    def quote(names) -> str:
        text = "(" + ", ".join(f'"{n}"' for n in names) + ("," if len(names) == 1 else "") + ")"
        return text if len(text) <= 100 else "(\n" + "".join(f'    "{n}",\n' for n in names) + ")"

    k_names, k_mean, k_scale, (k_w1, k_b1, k_w2, k_b2) = kind_model
    rows_of_w1 = "".join(_matrix_row(row) for row in k_w1)
    MODEL_FILE.write_text(
        '"""Fitted constants of the blur model. Written by tools/calibrate_blur.py; do not edit by hand.\n\n'
        f"{note}\n"
        '"""\n\n'
        f"FEATURES = {quote(names)}\n"
        f"MEAN = {fmt(mean)}\n"
        f"SCALE = {fmt(scale)}\n"
        f"COEF = {fmt(w[1:])}\n"
        f"INTERCEPT = {float(w[0]):.6g}\n"
        f"MOTION_ANISOTROPY = {motion:.6g}\n"
        f"MAP_CENTER = {map_center:.6g}\n"
        f"MAP_SCALE = {map_scale:.6g}\n"
        "\n# camera shake or defocus, where a photo may be blurred (blur.blur_type_of)\n"
        f"KIND_FEATURES = {quote(k_names)}\n"
        f"KIND_MEAN = {fmt(k_mean)}\n"
        f"KIND_SCALE = {fmt(k_scale)}\n"
        "# one hidden layer: tanh(x @ KIND_W1 + KIND_B1) @ KIND_W2 + KIND_B2, x the standardised features\n"
        f"# fmt: off\nKIND_W1 = (\n{rows_of_w1})\n# fmt: on\n"
        f"KIND_B1 = {fmt(k_b1)}\n"
        f"KIND_W2 = {fmt(k_w2)}\n"
        f"KIND_B2 = {k_b2:.6g}\n"
    )


def report_continuum(continuum, ranged, blur_types, score_of) -> None:
    """Kind right and recall on the blur made along the continuum from the test split's photos, by shape and
    by third of the strength range (never fitted)."""
    test = np.array([sp == "test" for _, sp in continuum])
    shape = np.array([job[1] for job, _ in continuum])
    third = np.minimum((np.array([job[2] for job, _ in continuum]) * 3).astype(int), 2)
    scores = score_of(np.array([m[0] for m in ranged]))
    types = np.array(blur_types(scores, np.array([m[1] for m in ranged]), np.array([m[3] for m in ranged])))
    truth = np.where(np.isin(shape, ("curved", "straight")), "motion", "defocus")
    for name in CONTINUUM:
        cells = []
        for k, label in enumerate(("mild", "strong", "heavy")):
            sel = test & (shape == name) & (third == k)
            cells.append(f"{label} n={int(sel.sum()):3d} recall {np.mean(scores[sel] >= 0.5):.3f} "
                         f"kind right {np.mean(types[sel] == truth[sel]):.3f}")  # fmt: skip
        print(f"test  continuum {name:8s} " + " | ".join(cells))
    print(f"test  continuum all kind right {np.mean(types[test] == truth[test]):.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "blur-dev")
    ap.add_argument("--test-labels", type=Path, help="also write the test split as a labels CSV for blur_eval")
    ap.add_argument("--dry-run", action="store_true", help="report without writing blur_model.py")
    ap.add_argument("--cv", action="store_true", help="also report cross-validation by scene within the fit split")
    a = ap.parse_args()

    rows = load_rows(a.data)
    split = scene_split(rows)
    synthetic, continuum = synthetic_jobs(rows, split), continuum_jobs(rows, split)
    with Pool(os.cpu_count()) as pool:
        measured = pool.map(_measure, [r["abspath"] for r in rows], chunksize=8)
        made = pool.map(_measure_synthetic, [job for job, _ in synthetic], chunksize=8)
        ranged = pool.map(_measure_continuum, [job for job, _ in continuum], chunksize=8)
    x = np.array([m[0] for m in measured])
    aniso = np.array([m[1] for m in measured])
    xk = np.array([m[3] for m in measured])
    y = np.array([r["y"] for r in rows], float)
    fit = np.array([split[r["scene"]] == "fit" for r in rows])
    sub = np.array([r["subtype"] for r in rows])

    keep, mean, scale, w = fit_monotone(x[fit], y[fit], list(FEATURE_NAMES), sample_weights(rows, fit))
    names = [FEATURE_NAMES[k] for k in keep]

    def score_of(features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(w[0] + ((features[:, keep] - mean) / scale) @ w[1:])))

    score = score_of(x)

    # camera shake vs defocus: the anisotropy cut that best separates them on the fitted scenes
    typed = fit & np.isin(sub, ("motion", "defocus"))
    cuts = np.unique(aniso[typed])
    right = [np.mean((aniso[typed] >= c) == (sub[typed] == "motion")) for c in cuts]
    best = int(np.argmax(right))
    motion = float(0.5 * (cuts[best] + cuts[max(best - 1, 0)]))

    # sharpness map: a one-feature logistic on subject sharpness gives the tile scale
    k = FEATURE_NAMES.index("subject_sharpness")
    w1 = fit_logistic(x[fit][:, [k]], y[fit])
    map_center, map_scale = float(-w1[0] / w1[1]), float(abs(1.0 / w1[1]))

    # camera shake vs defocus where a photo may be blurred: a small network over the kernel-shape
    # features, taught by the fitted scenes' typed photos and the blur made from their sharp photos
    sx = np.array([m[0] for m in made])
    sxk = np.array([m[3] for m in made])
    s_fit = np.array([sp == "fit" for _, sp in synthetic])
    s_family = np.array([job[1] for job, _ in synthetic])
    s_motion = (s_family == "curved").astype(float)
    s_blurred = s_family != "bokeh"
    cxk = np.nan_to_num(np.array([m[3] for m in ranged]))
    c_fit = np.array([sp == "fit" for _, sp in continuum])
    c_shape = np.array([job[1] for job, _ in continuum])
    c_motion = np.isin(c_shape, ("curved", "straight")).astype(float)
    teach_x = np.nan_to_num(np.r_[xk[typed], sxk[s_fit & s_blurred], cxk[c_fit]])
    teach_y = np.r_[(sub[typed] == "motion").astype(float), s_motion[s_fit & s_blurred], c_motion[c_fit]]
    k_mean, k_scale = teach_x.mean(0), teach_x.std(0) + 1e-9
    net = fit_kind_network((teach_x - k_mean) / k_scale, teach_y)

    def blur_types(scores: np.ndarray, anisotropy: np.ndarray, kind_x: np.ndarray) -> list[str]:
        p = kind_network_probability(net, (np.nan_to_num(kind_x) - k_mean) / k_scale)
        shaken = np.where(scores < KIND_CHECK_SCORE, anisotropy >= motion, p >= 0.5)
        return ["motion" if s else "defocus" for s in shaken]

    types = blur_types(score, aniso, xk)
    kinds = [t if s >= 0.5 else "sharp" for s, t in zip(score, types, strict=True)]
    print("features:", ", ".join(f"{n} {c:+.3f}" for n, c in zip(names, w[1:], strict=True)))
    print(
        f"intercept {w[0]:+.3f}, motion anisotropy >= {motion:.3f}, map centre {map_center:.3f} scale {map_scale:.3f}"
    )
    for name, mask in (("fit", fit), ("test", ~fit), ("all", np.ones(len(rows), bool))):
        idx = np.flatnonzero(mask)
        report(name, [rows[i] for i in idx], score[idx], [kinds[i] for i in idx])
    s_score = score_of(sx)
    s_types = blur_types(s_score, np.array([m[1] for m in made]), sxk)
    s_noise = np.array([job[4] for job, _ in synthetic])
    for name, mask in (("fit", s_fit), ("test", ~s_fit)):
        for family, label in (("curved", "motion"), ("disc", "defocus")):
            for noise in SYNTHETIC_NOISE:
                sel = mask & (s_family == family) & (s_noise == noise)
                right = np.mean([s_types[i] == label for i in np.flatnonzero(sel)])
                print(f"{name:5s} synthetic {family:6s} noise {noise:.0f} n={int(sel.sum()):4d} "
                      f"recall {np.mean(s_score[sel] >= 0.5):.3f}  kind right {right:.3f}")  # fmt: skip
        for noise in SYNTHETIC_NOISE:
            sel = mask & (s_family == "bokeh") & (s_noise == noise)
            print(f"{name:5s} synthetic bokeh  noise {noise:.0f} n={int(sel.sum()):4d} "
                  f"kept {np.mean(s_score[sel] < 0.5):.3f}")  # fmt: skip
    report_continuum(continuum, ranged, blur_types, score_of)
    if a.cv:  # the figure to compare feature or model changes by; the test split is for the final check
        cv_score = scene_cv(x, rows, fit)
        idx = np.flatnonzero(fit)
        cv_types = blur_types(cv_score[idx], aniso[idx], xk[idx])
        cv_kinds = [t if s >= 0.5 else "sharp" for s, t in zip(cv_score[idx], cv_types, strict=True)]
        report("cv", [rows[i] for i in idx], cv_score[idx], cv_kinds)

    if a.test_labels:
        with open(a.test_labels, "w", newline="") as f:
            wr = csv.writer(f)
            wr.writerow(["path", "label", "subtype", "source", "strength", "scene"])
            for r in rows:
                if split[r["scene"]] == "test":
                    wr.writerow([r["abspath"], r["label"], r["subtype"], r["source"], r["strength"], r["scene"]])
    if not a.dry_run:
        n_fit, n_scenes = int(fit.sum()), len({r["scene"] for r in rows if split[r["scene"]] == "fit"})
        taught = int((s_fit & s_blurred).sum() + c_fit.sum())
        note = f"Fitted on {n_fit} images of {n_scenes} scenes of blur-dev (tools/blur_split.csv, split 'fit')."
        note += (
            f"\nThe camera-shake model also learnt from {taught} shakes and defocus made from"
            "\nthe fit split's sharp photos (tools/blur_kernels.py)."
        )
        kind_model = (KIND_FEATURE_NAMES, k_mean, k_scale, net)
        write_model(names, mean, scale, w, motion, map_center, map_scale, kind_model, note)
        print(f"wrote {MODEL_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
