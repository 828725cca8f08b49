"""Fitted constants of the blur model. Written by tools/calibrate_blur.py; do not edit by hand.

Fitted on 1104 images of 104 scenes of blur-dev (tools/blur_split.csv, split 'fit').
The camera-shake model also learnt from 950 curved shakes and discs made from
the fit split's sharp photos (tools/blur_kernels.py).
"""

FEATURES = (
    "subject_sharpness",
    "subject_min_sharpness",
    "global_min_sharpness",
    "global_max_sharpness",
    "subject_edge_sharpness",
    "shake_coherence",
)
MEAN = (-0.241461, -0.41454, -0.530105, -0.324056, -1.01611, 0.111661)
SCALE = (0.428452, 0.412715, 0.387114, 0.414244, 0.25795, 0.0901792)
COEF = (-1.07048, -1.31324, -0.149708, -1.28626, -2.84247, 1.60944)
INTERCEPT = 1.53329
MOTION_ANISOTROPY = 0.189345
MAP_CENTER = -0.190404
MAP_SCALE = 0.156256

# camera shake or defocus, where a photo may be blurred (blur.blur_type_of)
KIND_FEATURES = (
    "anisotropy",
    "shake_coherence",
    "subject_sharpness",
    "global_max_sharpness",
    "spread_2",
    "spread_3",
    "spread_6",
    "reach_4",
    "reach_8",
    "direction_3",
    "direction_4",
    "direction_6",
    "direction_8",
    "profile_3",
    "profile_4",
    "profile_6",
    "profile_8",
    "reach_profile_3",
    "reach_profile_4",
    "reach_profile_6",
    "reach_profile_8",
)
KIND_MEAN = (
    0.167244,
    0.0890299,
    -0.531056,
    -0.653956,
    0.648115,
    0.488214,
    0.164538,
    0.545808,
    0.317762,
    0.683568,
    1.47846,
    2.58235,
    3.20298,
    0.677681,
    0.443487,
    0.216575,
    0.122442,
    0.9385,
    0.781386,
    0.548054,
    0.455299,
)
KIND_SCALE = (
    0.157165,
    0.0905873,
    0.288611,
    0.284762,
    0.127361,
    0.164582,
    0.124337,
    0.15829,
    0.125497,
    0.735913,
    1.87387,
    2.50209,
    2.41802,
    0.12841,
    0.188248,
    0.147754,
    0.0994945,
    0.197567,
    0.207771,
    0.172674,
    0.165715,
)
KIND_COEF = (
    -0.331346,
    2.83519,
    -0.805981,
    -0.458785,
    2.32392,
    -7.27294,
    -0.848857,
    -3.01692,
    2.85129,
    0.095264,
    -0.678257,
    0.308617,
    -0.232272,
    8.18026,
    -3.15131,
    1.09575,
    0.920174,
    4.51749,
    -3.02041,
    2.35486,
    -2.76,
)
KIND_INTERCEPT = 0.328796
