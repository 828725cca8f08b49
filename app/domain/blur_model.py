"""Fitted constants of the blur model. Written by tools/calibrate_blur.py; do not edit by hand.

Fitted on 1104 images of 104 scenes of blur-dev (tools/blur_split.csv, split 'fit').
"""

FEATURES = ("subject_min_sharpness", "global_min_sharpness", "subject_edge_sharpness")
MEAN = (-0.41454, -0.530105, -1.01611)
SCALE = (0.412715, 0.387114, 0.25795)
COEF = (-1.81432, -1.61355, -2.75509)
INTERCEPT = 1.38176
MOTION_ANISOTROPY = 0.189345
MAP_CENTER = -0.190404
MAP_SCALE = 0.156256
