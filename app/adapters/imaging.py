"""The imaging adapter: check incoming photos cheaply, then make upright sRGB JPEG renditions.

`probe` reads magic bytes and headers only and answers with ImageRejected (413, 415, 422) before
anything expensive; `make_rendition` fully decodes and is meant to run in a worker process;
`strip_metadata` re-encodes a photo without EXIF, XMP or GPS for exports.
"""

from app.adapters.imaging_probe import probe, register_heif_opener
from app.adapters.imaging_render import (
    MEDIUM_SIDE,
    RENDITION_MEDIA_TYPE,
    RENDITION_SIZES,
    THUMB_SIDE,
    make_rendition,
)
from app.adapters.imaging_strip import strip_metadata
from app.adapters.imaging_types import (
    ANIMATED,
    EXTENSION_MISMATCH,
    TOO_SMALL,
    ImageLimits,
    ImageRejected,
    ProbedImage,
    Rendition,
)

__all__ = [
    "ANIMATED",
    "EXTENSION_MISMATCH",
    "MEDIUM_SIDE",
    "RENDITION_MEDIA_TYPE",
    "RENDITION_SIZES",
    "THUMB_SIDE",
    "TOO_SMALL",
    "ImageLimits",
    "ImageRejected",
    "ProbedImage",
    "Rendition",
    "make_rendition",
    "probe",
    "register_heif_opener",
    "strip_metadata",
]
