"""Fitted constants of the blur model. Written by tools/calibrate_blur.py; do not edit by hand.

Fitted on 1104 images of 104 scenes of blur-dev (tools/blur_split.csv, split 'fit').
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
