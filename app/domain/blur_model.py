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
    0.157947,
    0.0861148,
    -0.653721,
    -0.696924,
    0.670145,
    0.504356,
    0.170705,
    0.560949,
    0.32658,
    0.683441,
    1.48237,
    2.5965,
    3.22646,
    0.677157,
    0.441832,
    0.215705,
    0.122008,
    0.936924,
    0.778564,
    0.546055,
    0.453672,
)
KIND_SCALE = (
    0.159388,
    0.0921649,
    0.286526,
    0.297815,
    0.135541,
    0.173827,
    0.130423,
    0.163645,
    0.129338,
    0.735268,
    1.88187,
    2.5173,
    2.43888,
    0.127622,
    0.186773,
    0.146751,
    0.0988649,
    0.196099,
    0.20656,
    0.172135,
    0.16513,
)
KIND_COEF = (
    -0.632001,
    4.48172,
    -0.0469461,
    0.00528936,
    -8.03182,
    -2.02937,
    -4.31057,
    -1.79091,
    3.15421,
    4.60248,
    0.984172,
    0.558653,
    0.061542,
    18.251,
    1.2537,
    -2.41073,
    3.81958,
    2.07798,
    -6.41257,
    2.76329,
    -3.03054,
)
KIND_INTERCEPT = 0.763274
