"""Fitted constants of the blur model. Written by tools/calibrate_blur.py; do not edit by hand.

Fitted on 1104 images of 104 scenes of blur-dev (tools/blur_split.csv, split 'fit').
"""

FEATURES = ("subject_min_sharpness", "global_min_sharpness", "subject_edge_sharpness")
MEAN = (-0.384616, -0.503612, -1.00011)
SCALE = (0.416136, 0.392301, 0.251399)
COEF = (-1.58669, -1.44912, -2.4346)
INTERCEPT = 0.831408
MOTION_ANISOTROPY = 0.243916
MAP_CENTER = -0.154087
MAP_SCALE = 0.158878
