"""Fitted constants of the blur model. Written by tools/calibrate_blur.py; do not edit by hand.

Fitted on 1104 images of 104 scenes of blur-dev (tools/blur_split.csv, split 'fit').
"""

FEATURES = ("subject_min_sharpness", "global_min_sharpness", "subject_edge_sharpness")
MEAN = (-0.387004, -0.50568, -1.0025)
SCALE = (0.414199, 0.390876, 0.250417)
COEF = (-1.57786, -1.48654, -2.42609)
INTERCEPT = 0.841249
MOTION_ANISOTROPY = 0.196343
MAP_CENTER = -0.156601
MAP_SCALE = 0.158312
