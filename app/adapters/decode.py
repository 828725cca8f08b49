"""Image bytes or files to an upright grayscale array, at the lowest cost that still serves the analysis.

- JPEG: decoded by libjpeg at 1/2, 1/4 or 1/8 scale (DCT scaling, `IMREAD_REDUCED_GRAYSCALE_*`),
  choosing from the header the smallest scale that is still at least `ANALYSIS_SIZE` on the long side,
  so a 12 MP photo never becomes a 12 MP colour array (a 100 MP JPEG decodes to 1500 x 1050).
  OpenCV applies the EXIF orientation in these modes (checked in tests/unit/test_decode.py), and
  returns None for truncated data. A file of up to BUFFERED_FILE bytes is read once and decoded from memory.
- PNG and WebP: decoded straight to one grayscale plane (no colour copy) and reduced by the domain the
  way a JPEG is (`blur_features.to_analysis_size`). OpenCV's own reduced modes for these formats
  subsample without filtering, which aliases and would pass for detail, so they are not used.
- HEIC/HEIF, GIF and anything else Pillow reads: Pillow (pillow-heif registered once, on first use),
  EXIF orientation applied, converted to one plane and reduced by the JPEG's factor for its size before
  the colour image is dropped.
"""

from __future__ import annotations

import io
import os
import struct

import cv2
import numpy as np

from app.adapters.imaging_headers import jpeg_holds_too_little
from app.domain.blur_features import analysis_long_side

MAX_PIXELS = 400_000_000  # refuse headers that ask for more (decompression bombs)
BUFFERED_FILE = 32 << 20  # bytes: files up to this size are read whole and decoded from memory
_REDUCED = {8: cv2.IMREAD_REDUCED_GRAYSCALE_8, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
            2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 1: cv2.IMREAD_GRAYSCALE}  # fmt: skip
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")
_heif_registered = False


class UndecodableImage(ValueError):
    """The data is not an image we can decode (unknown type, truncated or corrupt)."""


def load_gray(source: bytes | str | os.PathLike, name: str | None = None) -> np.ndarray:
    """Upright uint8 grayscale, reduced towards the analysis resolution as cheaply as possible. `name` is what
    a refusal calls the file (the photo's own name, not where the server keeps it)."""
    name = name or ("image data" if isinstance(source, bytes | bytearray) else os.fspath(source))
    source = _buffered(source, name)
    head = _head(source, name)
    if head[:3] == b"\xff\xd8\xff":
        if not jpeg_complete(source, head):
            raise UndecodableImage(f"{name}: truncated JPEG (no end-of-image marker after the scan data)")
        flag = _jpeg_flag(source, head, name)  # refuses a header that asks for too many pixels
        size = len(source) if isinstance(source, bytes | bytearray) else os.path.getsize(source)
        if jpeg_holds_too_little(head, size):
            raise UndecodableImage(f"{name}: truncated JPEG (too little scan data for the size its header declares)")
        gray = _decode_cv(source, flag)
    elif head[:8] == b"\x89PNG\r\n\x1a\n" or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        _check_pixels(_png_size(head) if head[:4] == b"\x89PNG" else None, name)
        gray = _decode_cv(source, cv2.IMREAD_GRAYSCALE)
    else:
        gray = None
    if gray is None:
        gray = _decode_pillow(source, head, name)
    if gray is None or gray.size == 0:
        raise UndecodableImage(f"{name}: not a supported image, or the file is truncated or corrupt")
    return gray


def _buffered(source: bytes | str | os.PathLike, name: str) -> bytes | str | os.PathLike:
    """A file's bytes when it is small enough to hold, else its path.

    Decoding from memory is cheaper than OpenCV's own reading of the file, which goes through stdio in small
    blocks: on the 12 MP photos of blur-dev/speed, 16.1 ms against 17.7 ms for the same 1/8-scale decode.
    And the header and the end-of-image check read the same bytes instead of opening the file again.
    """
    if isinstance(source, bytes | bytearray):
        return source
    try:
        with open(source, "rb") as f:
            if os.fstat(f.fileno()).st_size <= BUFFERED_FILE:
                return f.read()
    except OSError as exc:
        raise UndecodableImage(f"{name}: cannot read ({exc.strerror or exc})") from exc
    return source


def _head(source: bytes | str | os.PathLike, name: str) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source[:65536])
    try:
        with open(source, "rb") as f:
            return f.read(65536)
    except OSError as exc:
        raise UndecodableImage(f"{name}: cannot read ({exc.strerror or exc})") from exc


def _decode_cv(source: bytes | str | os.PathLike, flag: int) -> np.ndarray | None:
    if isinstance(source, bytes | bytearray):
        return cv2.imdecode(np.frombuffer(source, np.uint8), flag)
    return cv2.imread(os.fspath(source), flag)


def _jpeg_flag(source: bytes | str | os.PathLike, head: bytes, name: str) -> int:
    size = jpeg_size(head)
    if size is None:  # a large EXIF block can push the frame header past 64 KB
        if isinstance(source, bytes | bytearray):
            size = jpeg_size(bytes(source[: 1 << 20]))
        else:
            with open(source, "rb") as f:
                size = jpeg_size(f.read(1 << 20))
    if size is None:
        return cv2.IMREAD_GRAYSCALE
    _check_pixels(size, name)
    return _REDUCED[analysis_scale(size)]


def analysis_scale(size: tuple[int, int]) -> int:
    """The DCT scale denominator (8, 4, 2 or 1) that decodes a JPEG of `size` (width, height) to the
    smallest image still at least ANALYSIS_SIZE on its long side."""
    long_side, target = max(size), analysis_long_side(*size)
    for factor in (8, 4, 2):
        if -(-long_side // factor) >= target:
            return factor
    return 1


def jpeg_complete(source: bytes | str | os.PathLike, head: bytes) -> bool:
    """Whether an end-of-image marker follows the first scan (libjpeg pads truncated data with grey)."""
    scan = _scan_offset(head)
    if isinstance(source, bytes | bytearray):
        return bytes(source).rfind(b"\xff\xd9") > scan
    with open(source, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(scan, size - 65536))
        if b"\xff\xd9" in f.read():
            return True
        f.seek(max(scan, 0))  # trailing data after the image: look through the rest
        previous = b""
        while chunk := f.read(1 << 20):
            if b"\xff\xd9" in previous[-1:] + chunk:
                return True
            previous = chunk
    return False


def _scan_offset(data: bytes) -> int:
    """Offset of the main image's start-of-scan marker, skipping APP segments (EXIF thumbnails)."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA:
            return pos
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return min(pos, len(data))


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame marker, or None if not found in data."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            return None
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(data):
                return None
            h, w = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return w, h
        pos += 2 + length
    return None


def _png_size(head: bytes) -> tuple[int, int] | None:
    if len(head) < 24:
        return None
    return struct.unpack(">II", head[16:24])


def _check_pixels(size: tuple[int, int] | None, name: str) -> None:
    if size and size[0] * size[1] > MAX_PIXELS:
        raise UndecodableImage(f"{name}: {size[0]} x {size[1]} pixels is more than we decode")


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def _decode_pillow(source: bytes | str | os.PathLike, head: bytes, name: str) -> np.ndarray | None:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        _register_heif()
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source) as im:
            _check_pixels(im.size, name)
            side = analysis_long_side(*im.size)
            im.draft("L", (side, side))  # JPEG only: DCT scaling; a no-op elsewhere
            im = ImageOps.exif_transpose(im)
            gray = im.convert("L")
            del im
            factor = analysis_scale(gray.size)
            if factor > 1:  # block means by the factor a JPEG of this size is decoded at; the domain finishes
                gray = gray.reduce(factor)
            return np.asarray(gray, dtype=np.uint8).copy()
    except Image.DecompressionBombError:  # Pillow's own limit, lower than MAX_PIXELS, for the formats it decodes
        raise UndecodableImage(f"{name}: more pixels than we decode") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        if isinstance(exc, UndecodableImage):
            raise
        return None
