"""Thumbnails and previews: decode at the smallest scale that will do, turn upright, sRGB, JPEG."""

import functools
import io
import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageCms, ImageOps

from app.adapters import imaging_headers as headers
from app.adapters.imaging_probe import ORIENTATION, SIDEWAYS_ORIENTATIONS, display_name, open_image, probe
from app.adapters.imaging_types import ImageLimits, ImageRejected, ProbedImage, Rendition

THUMB_SIDE = 320
MEDIUM_SIDE = 1600
# (long side, JPEG quality) of each rendition.
# JPEG, not WebP: on the 12 MP bench photos libjpeg-turbo at quality 85 measures as close to the resized
# photo as libwebp's fastest method at 80-82 (SSIM 0.976 against 0.978 for the thumb, 0.975 against 0.972
# for the medium) and encodes ten times faster (0.4 against 3-7 ms a thumb, 7 against 60 ms a medium).
# Files are ~20 % larger. Every photo that comes in pays for its thumb, so that speed is upload speed.
RENDITION_SIZES = {"thumb": (THUMB_SIDE, 85), "medium": (MEDIUM_SIDE, 85)}
RENDITION_MEDIA_TYPE = "image/jpeg"
# Above this reduction factor OpenCV's bicubic (a fixed 4-tap kernel) starts to alias; area averaging doesn't.
CUBIC_MAX_FACTOR = 1.5
# 8 bits a channel, no alpha: interpolated channel by channel (YCbCr too: resizing commutes with the colour
# transform, and converting the smaller picture afterwards costs a third of converting the decoded one)
OPENCV_MODES = frozenset({"L", "RGB", "YCbCr", "CMYK"})
WHITE = (255, 255, 255)
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, RuntimeError, IndexError)


def make_rendition(data: bytes, limits: ImageLimits, size: str, filename: str | None = None) -> Rendition:
    """Decode fully (damaged files raise ImageRejected 422) and make the upright sRGB JPEG `size`
    ("thumb" or "medium"), decoding no larger than that size needs: a 12 MP JPEG's thumb comes from
    libjpeg's 1/8-scale decode, its medium from the 1/2-scale one.

    A top-level function of plain arguments, so it can run in a worker process.
    """
    probed = probe(data, filename, limits)
    decoded = decode_reduced(data, RENDITION_SIZES[size][0], filename, limits)
    return render_decoded(decoded, probed, size)


def render_decoded(decoded: Image.Image, probed: ProbedImage, size: str) -> Rendition:
    """The JPEG `size` of an image decoded at least that large (and let go of here, before encoding)."""
    side, quality = RENDITION_SIZES[size]
    sideways = decoded.getexif().get(ORIENTATION) in SIDEWAYS_ORIENTATIONS
    icc_profile = decoded.info.get("icc_profile")
    image = shrink(decoded, fit_size(decoded.size, side))
    if image is decoded:  # already small enough: exif_transpose makes an upright copy
        image = ImageOps.exif_transpose(image)
    else:  # a fresh image of ours: turned in place, and the decoded one is let go before encoding
        del decoded
        ImageOps.exif_transpose(image, in_place=True)
    upright = to_srgb(image, icc_profile)
    del image
    width, height = (probed.height, probed.width) if sideways else (probed.width, probed.height)
    return Rendition(data=encode_jpeg(upright, quality), width=width, height=height)


def decode_reduced(
    data: bytes,
    long_side: int,
    filename: str | None,
    limits: ImageLimits,
    jpeg_draft: tuple[str, tuple[int, int]] | None = None,
) -> Image.Image:
    """The first frame, decoded no larger than needed for `long_side` where the format allows (JPEG).

    The result is in a mode that resizes well (L, LA, RGB, RGBA or CMYK). `jpeg_draft` (mode, size)
    overrides what a JPEG is asked for: a colour JPEG drafted as YCbCr stays in YCbCr.
    """
    name = display_name(filename)
    image_format = headers.sniff(data)
    if image_format is None:  # probe() has run; this only guards direct callers
        raise ImageRejected(415, f"{name} is not an image we take.")
    image = open_image(data, image_format, name, limits)
    if image_format.name == "jpeg":
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: a 12 MP photo never lands at full size.
        image.draft(*(jpeg_draft or ("RGB", fit_within(image.size, long_side))))
    try:
        image.load()
    except Image.DecompressionBombError as error:
        raise ImageRejected(413, f"{name} has more pixels than the limit allows ({error}).") from error
    except DECODE_ERRORS as error:
        raise ImageRejected(422, f"{name} is damaged or incomplete and can't be read.") from error
    return resizable(image)


def fit_within(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """The size that fits inside a `long_side` square, keeping the aspect ratio (never larger)."""
    width, height = size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def fit_size(size: tuple[int, int], side: int) -> tuple[int, int]:
    """The size `Image.thumbnail((side, side))` gives: the aspect ratio kept as closely as whole pixels allow."""
    width, height = size
    if width <= side and height <= side:
        return size
    aspect = width / height

    def round_aspect(number: float, key: Callable[[int], float]) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if aspect <= 1:
        return round_aspect(side * aspect, key=lambda n: abs(aspect - n / side)), side
    return side, round_aspect(side / aspect, key=lambda n: 0 if n == 0 else abs(aspect - side / n))


def shrink(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image` at `size` (smaller), metadata kept. OpenCV for plain 8-bit modes: bicubic for the small
    reductions a DCT-scaled JPEG leaves (1.25x for 12 MP), area averaging beyond 1.5x; about a fifth of
    Pillow's Lanczos at 2000 -> 1600 px. Modes with alpha go through Pillow, which resizes them premultiplied.
    """
    if image.size == size:
        return image
    if image.mode not in OPENCV_MODES:
        return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    import cv2  # here, not at the top: the web process imports this module but never resizes (~30 MB of RSS)

    factor = max(image.width / size[0], image.height / size[1])
    interpolation = cv2.INTER_CUBIC if factor <= CUBIC_MAX_FACTOR else cv2.INTER_AREA
    pixels = np.ascontiguousarray(cv2.resize(np.asarray(image), size, interpolation=interpolation))
    if image.mode in ("CMYK", "YCbCr"):  # fromarray would take these for RGBA and RGB
        resized = Image.frombuffer(image.mode, size, pixels, "raw", image.mode, 0, 1)
    else:
        resized = Image.fromarray(pixels)
    resized.info = dict(image.info)
    return resized


def resizable(image: Image.Image) -> Image.Image:
    if image.mode in SIXTEEN_BIT_MODES:
        return sixteen_to_eight_bit(image)
    if image.mode in ("P", "PA"):
        return image.convert("RGBA" if image.has_transparency_data else "RGB")
    if image.mode in ("1", "F"):
        return image.convert("L")
    return image


def sixteen_to_eight_bit(image: Image.Image) -> Image.Image:
    # Pillow's convert("L") clips 16-bit values at 255 (a white image); scale them instead.
    pixels = np.asarray(image).astype(np.int64)
    if pixels.max(initial=0) > 255:
        pixels = pixels >> 8
    converted = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    converted.info = dict(image.info)
    return converted


def to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Opaque sRGB: transparency goes onto white, an embedded profile is converted to sRGB."""
    if image.mode == "YCbCr":  # a JPEG's own decode, kept in YCbCr to be scored; profiles apply to RGB
        image = image.convert("RGB")
    image = flatten_onto_white(image)
    if icc_profile:
        converted = convert_profile(image, icc_profile)
        if converted is not None:
            return converted
    return image if image.mode == "RGB" else image.convert("RGB")


def flatten_onto_white(image: Image.Image) -> Image.Image:
    if image.mode not in ("LA", "La", "RGBA", "RGBa"):
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, WHITE)
    background.paste(rgba, mask=rgba.getchannel("A"))
    background.info = dict(image.info)
    return background


def convert_profile(image: Image.Image, icc_profile: bytes) -> Image.Image | None:
    """sRGB pixels via LittleCMS, or None when the profile is broken or doesn't fit the mode."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source, srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


@functools.cache
def srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
