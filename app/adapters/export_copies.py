"""Exported copies without location and other metadata (the stored originals are never changed)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps

from app.adapters import imaging

LIMITS = imaging.ImageLimits()


def _heif_without_metadata(data: bytes) -> bytes:
    imaging.register_heif_opener()
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        for key in ("exif", "xmp", "XML:com.adobe.xmp"):
            upright.info.pop(key, None)
        out = io.BytesIO()
        upright.save(out, format="HEIF", quality=90)
    return out.getvalue()


def without_metadata(path: Path) -> bytes:
    """The file's picture with no EXIF (so no GPS), XMP or comments; GIFs carry none and go as they are."""
    data = path.read_bytes()
    probed = imaging.probe(data, None, LIMITS)
    if probed.format == "heif":
        return _heif_without_metadata(data)
    if probed.format == "gif":
        return data
    return imaging.strip_metadata(data, probed, LIMITS)
