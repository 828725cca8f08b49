"""Re-encode a photo without EXIF, XMP or GPS (for "export without location"), upright, colours kept."""

import io

from PIL import Image, ImageOps

from app.adapters import imaging_headers as headers
from app.adapters.imaging_probe import open_image
from app.adapters.imaging_types import ImageLimits, ImageRejected, ProbedImage

STRIPPABLE_FORMATS = frozenset({"jpeg", "png", "webp"})
ORIENTATION = 0x0112
JPEG_QUALITY_AFTER_ROTATION = 95
WEBP_QUALITY = 90


def strip_metadata(data: bytes, probed: ProbedImage, limits: ImageLimits | None = None) -> bytes:
    """The same picture in the same format with no EXIF, XMP or GPS; the ICC profile stays.

    Orientation is applied to the pixels, since the tag that described it is gone. Animated
    WebP/PNG keep every frame. Raises ValueError for formats other than JPEG, PNG and WebP.
    """
    image_format = headers.sniff(data)
    if probed.format not in STRIPPABLE_FORMATS or image_format is None or image_format.name != probed.format:
        raise ValueError(f"can't strip metadata from this {probed.format} file")
    image = open_image(data, image_format, "The photo", limits or ImageLimits())
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageRejected(422, "The photo is damaged or incomplete and can't be read.") from error
    if probed.frames > 1:
        return save_clean(image, image_format.pillow_format, {"save_all": True})
    if image.getexif().get(ORIENTATION, 1) == 1:
        # Untouched pixels: a JPEG can keep its own quantisation tables and lose nothing more.
        return save_clean(image, image_format.pillow_format, encoder_options(data, image_format.name, True))
    upright = ImageOps.exif_transpose(image)
    return save_clean(upright, image_format.pillow_format, encoder_options(data, image_format.name, False))


def encoder_options(data: bytes, format_name: str, pixels_untouched: bool) -> dict[str, object]:
    if format_name == "jpeg":
        return (
            {"quality": "keep", "subsampling": "keep"} if pixels_untouched else {"quality": JPEG_QUALITY_AFTER_ROTATION}
        )
    if format_name == "webp":
        return {"quality": WEBP_QUALITY, "lossless": data[12:16] == b"VP8L"}
    return {}


def save_clean(image: Image.Image, pillow_format: str, options: dict[str, object]) -> bytes:
    icc_profile = image.info.get("icc_profile")
    # Pillow falls back to info for some metadata when saving; leave only the colour profile there.
    image.info = {"icc_profile": icc_profile} if icc_profile else {}
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    buffer = io.BytesIO()
    image.save(buffer, format=pillow_format, exif=b"", **extra, **options)
    return buffer.getvalue()
