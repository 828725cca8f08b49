"""Check an incoming file cheaply: type by content, then size, pixels, frames and metadata from the header."""

import functools
import io
import os
import warnings
from datetime import UTC, datetime, timedelta, timezone

from PIL import Image

from app.adapters import imaging_headers as headers
from app.adapters.imaging_headers import ImageFormat
from app.adapters.imaging_types import (
    ANIMATED,
    EXTENSION_MISMATCH,
    TOO_SMALL,
    ImageLimits,
    ImageRejected,
    ProbedImage,
)
from app.domain.units import megabytes

SMALLEST_USEFUL_SIDE = 64
ACCEPTED = "we accept JPEG, PNG, WebP, GIF and HEIC/HEIF photos"
EXIF_IFD = 0x8769
ORIENTATION = 0x0112
SIDEWAYS_ORIENTATIONS = frozenset({5, 6, 7, 8})  # shown a quarter turn round from how they are stored
DATETIME_ORIGINAL, DATETIME_DIGITIZED, OFFSET_TIME_ORIGINAL = 0x9003, 0x9004, 0x9011


@functools.cache
def register_heif_opener() -> None:
    """Teach Pillow to open HEIC/HEIF; safe to call any number of times, in any process.

    pillow_heif (and libheif, ~9 MB of RSS) is imported here, when a HEIC/HEIF file first needs it, so that
    a pool worker that only ever sees JPEGs doesn't load it.
    """
    import pillow_heif

    pillow_heif.register_heif_opener()


def probe(data: bytes, filename: str | None, limits: ImageLimits) -> ProbedImage:
    """Cheap: magic bytes and header only, never pixel data. Raises ImageRejected (413, 415 or 422)."""
    name = display_name(filename)
    image_format = accepted_format(data, name, limits)
    check_declared_size(data, image_format, name, limits)
    if image_format.name == "jpeg" and headers.jpeg_holds_too_little(data, len(data)):
        raise ImageRejected(422, f"{name} is damaged or incomplete and can't be read: it is too short for its size.")
    image = open_image(data, image_format, name, limits)
    check_size(image.size, name, limits)
    frames = count_frames(image, data, image_format, limits.max_frames)
    if frames > limits.max_frames:
        raise ImageRejected(413, f"{name} has more than {limits.max_frames:,} frames; that is the limit.")
    check_metadata(image, name, limits)
    return ProbedImage(
        format=image_format.name,
        mime_type=mime_type(data, image_format),
        extension=image_format.extension,
        width=image.width,
        height=image.height,
        frames=frames,
        flags=flags_for(image.size, frames, filename, image_format),
        taken_at=taken_at(image),
        sideways=_orientation(image) in SIDEWAYS_ORIENTATIONS,
    )


def display_name(filename: str | None) -> str:
    # Clients may send a path; people know their photo by its last part.
    base = os.path.basename((filename or "").replace("\\", "/"))
    return base or "The file"


def accepted_format(data: bytes, name: str, limits: ImageLimits) -> ImageFormat:
    """Reject by byte count first (free), then by content; the name never decides the type."""
    if not data:
        raise ImageRejected(415, f"{name} is empty (0 bytes); {ACCEPTED}.")
    if len(data) > limits.max_bytes:
        raise ImageRejected(
            413, f"{name} is {megabytes(len(data))}; the limit is {megabytes(limits.max_bytes)} a file."
        )
    image_format = headers.sniff(data)
    if image_format is None:
        raise ImageRejected(415, f"{name} is {headers.describe_foreign(data)}; {ACCEPTED}.")
    return image_format


def check_declared_size(data: bytes, image_format: ImageFormat, name: str, limits: ImageLimits) -> None:
    """Our own header read, before Pillow or libwebp may allocate what the header asks for."""
    size = headers.declared_size(data, image_format)
    if size is None:
        raise ImageRejected(422, unreadable_header(name, image_format))
    check_size(size, name, limits)


def check_size(size: tuple[int, int], name: str, limits: ImageLimits) -> None:
    width, height = size
    if width * height > limits.max_pixels:
        shown, limit = megapixels(width * height), megapixels(limits.max_pixels)
        if shown == limit:  # rounded, 10001×10000 read as the limit itself
            shown = f"just over {limit}"
        raise ImageRejected(
            413, f"{name} is {width}×{height} pixels ({shown} megapixels); the limit is {limit} megapixels."
        )
    if max(width, height) > limits.max_side:
        raise ImageRejected(413, f"{name} is {width}×{height} pixels; the limit is {limits.max_side:,} pixels a side.")


def open_image(data: bytes, image_format: ImageFormat, name: str, limits: ImageLimits) -> Image.Image:
    """Pillow's header parse, restricted to the sniffed format; reads no pixels."""
    if image_format.name == "heif":
        register_heif_opener()
    # Our own check has run already; Pillow's guard backs it up at the same limit.
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=[image_format.pillow_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(413, f"{name} has more pixels than the limit allows ({error}).") from error
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as error:
        raise ImageRejected(422, unreadable_header(name, image_format)) from error


def count_frames(image: Image.Image, data: bytes, image_format: ImageFormat, max_frames: int) -> int:
    """Frames up to one past `max_frames` (enough to know the limit is crossed)."""
    if image_format.name == "gif":
        # Pillow would seek frame by frame; walking the blocks is cheaper and stops at the limit.
        return max(1, headers.count_gif_frames(data, stop_after=max_frames))
    if image_format.name in ("jpeg", "heif"):
        # Extra JPEG pictures (MPO depth maps, gain maps) and HEIF side images are not animation.
        return 1
    return getattr(image, "n_frames", 1)


def check_metadata(image: Image.Image, name: str, limits: ImageLimits) -> None:
    size = metadata_bytes(image)
    if size > limits.max_metadata_bytes:
        raise ImageRejected(
            413,
            f"{name} carries {megabytes(size)} of metadata (EXIF, ICC, XMP and the like); "
            f"the limit is {megabytes(limits.max_metadata_bytes)}.",
        )


def metadata_bytes(image: Image.Image) -> int:
    # JPEG keeps every APPn segment (EXIF, ICC, XMP, vendors' blobs) in applist; others use info.
    applist = getattr(image, "applist", None)
    if applist:
        return sum(len(segment) for _, segment in applist)
    return sum(len(value) for value in image.info.values() if isinstance(value, bytes | str))


def flags_for(size: tuple[int, int], frames: int, filename: str | None, image_format: ImageFormat) -> tuple[str, ...]:
    flags = []
    extension = os.path.splitext(filename or "")[1].lower()
    if extension and extension not in image_format.extensions:
        flags.append(EXTENSION_MISMATCH)
    if frames > 1:
        flags.append(ANIMATED)
    if min(size) < SMALLEST_USEFUL_SIDE:
        flags.append(TOO_SMALL)
    return tuple(flags)


def header_exif(image: Image.Image) -> Image.Exif | None:
    """The EXIF block the header parse found; None when there is none or it is damaged (which must not
    cost the photo). Not image.getexif(): on a PNG that decodes every pixel to look for an eXIf chunk after
    the image data, which probe must never do."""
    raw = image.info.get("exif")
    if not isinstance(raw, bytes) or not raw:
        return None
    try:
        exif = Image.Exif()
        exif.load(raw)
    except Exception:
        return None
    return exif


def _orientation(image: Image.Image) -> int | None:
    exif = header_exif(image)
    return exif.get(ORIENTATION) if exif is not None else None


def taken_at(image: Image.Image) -> datetime | None:
    """EXIF DateTimeOriginal (or Digitized), with its offset when recorded, else UTC."""
    exif = header_exif(image)
    if exif is None:
        return None
    try:
        exif_ifd = exif.get_ifd(EXIF_IFD)
    except Exception:  # a damaged EXIF block must not cost the photo
        return None
    stamp = exif_ifd.get(DATETIME_ORIGINAL) or exif_ifd.get(DATETIME_DIGITIZED)
    return parse_exif_datetime(stamp, exif_ifd.get(OFFSET_TIME_ORIGINAL))


def parse_exif_datetime(stamp: object, offset: object = None) -> datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.strptime(stamp.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:  # blank or zeroed stamps ("0000:00:00 00:00:00") are common
        return None
    return moment.replace(tzinfo=parse_offset(offset))


def parse_offset(offset: object) -> timezone:
    if isinstance(offset, str) and len(offset.strip("\x00 ")) == 6:
        text = offset.strip("\x00 ")
        try:
            hours, minutes = int(text[1:3]), int(text[4:6])
        except ValueError:
            return UTC
        sign = -1 if text[0] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    return UTC


def mime_type(data: bytes, image_format: ImageFormat) -> str:
    return headers.heif_mime_type(data) if image_format.name == "heif" else image_format.mime_type


def unreadable_header(name: str, image_format: ImageFormat) -> str:
    return f"{name} looks like a {image_format.label} file but its header can't be read; it may be damaged."


def megapixels(pixels: int) -> str:
    value = pixels / 1_000_000
    return f"{value:,.0f}" if value >= 10 else f"{value:.3g}"
