"""Fitted constants of the blur model. Written by tools/calibrate_blur.py; do not edit by hand.

Fitted on 1104 images of 104 scenes of blur-dev (tools/blur_split.csv, split 'fit').
"""

FEATURES = ("subject_min_sharpness", "global_min_sharpness", "subject_edge_sharpness")
MEAN = (-0.387004, -0.634948, -1.0025)
SCALE = (0.414199, 0.345302, 0.250417)
COEF = (-1.74175, -1.95493, -2.85701)
INTERCEPT = 1.71019
MOTION_ANISOTROPY = 0.132265
MAP_CENTER = -0.156601
MAP_SCALE = 0.158312
