"""Recognise an image by its first bytes and read its declared size without Pillow.

Reading the size ourselves comes first because some decoders allocate the whole canvas as soon as
they open a file (libwebp's animation decoder does), and a few-kilobyte file can declare gigapixels.
"""

import io
import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageFormat:
    name: str
    label: str
    pillow_format: str
    mime_type: str
    extension: str
    extensions: frozenset[str]


JPEG = ImageFormat("jpeg", "JPEG", "JPEG", "image/jpeg", ".jpg", frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}))
PNG = ImageFormat("png", "PNG", "PNG", "image/png", ".png", frozenset({".png", ".apng"}))
WEBP = ImageFormat("webp", "WebP", "WEBP", "image/webp", ".webp", frozenset({".webp"}))
GIF = ImageFormat("gif", "GIF", "GIF", "image/gif", ".gif", frozenset({".gif"}))
HEIF = ImageFormat("heif", "HEIC/HEIF", "HEIF", "image/heif", ".heic", frozenset({".heic", ".heif", ".hif"}))

HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
HEIF_BRANDS = HEIC_BRANDS | {b"mif1", b"msf1"}
AVIF_BRANDS = frozenset({b"avif", b"avis"})

# What people most often send instead of a photo, so the answer can say what the file is.
FOREIGN_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x00\x00\x01\x00", "an icon file"),
    (b"8BPS", "a Photoshop document"),
)


def sniff(data: bytes) -> ImageFormat | None:
    """The accepted format these bytes start with, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if _is_heif(data):
        return HEIF
    return None


def describe_foreign(data: bytes) -> str:
    """A few words saying what a file we don't accept seems to be."""
    for signature, description in FOREIGN_SIGNATURES:
        if data.startswith(signature):
            return description
    if AVIF_BRANDS & set(_ftyp_brands(data)):
        return "an AVIF image"
    text = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in text:
        return "an SVG drawing"
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text:
        return "an HTML page"
    return "not an image we recognise"


def heif_mime_type(data: bytes) -> str:
    return "image/heic" if HEIC_BRANDS & set(_ftyp_brands(data)) else "image/heif"


def declared_size(data: bytes, image_format: ImageFormat) -> tuple[int, int] | None:
    """Width and height as the header declares them; None when the header can't be read."""
    reader = _SIZE_READERS[image_format.name]
    try:
        size = reader(data)
    except (struct.error, IndexError, ValueError, RuntimeError):
        return None
    if size is None or size[0] <= 0 or size[1] <= 0:
        return None
    return size


def count_gif_frames(data: bytes, stop_after: int) -> int:
    """Count image descriptors by walking the GIF blocks; stops early once past `stop_after`."""
    if len(data) < 13:
        return 0
    frames = 0
    position = 13 + _color_table_size(data[10])
    while position < len(data) and frames <= stop_after:
        block = data[position]
        if block == 0x2C and position + 9 < len(data):
            frames += 1
            # descriptor (10 bytes), optional local colour table, LZW code size byte, then data
            position += 10 + _color_table_size(data[position + 9]) + 1
        elif block == 0x21:  # extension: label byte, then sub-blocks
            position += 2
        else:  # trailer or junk: nothing more to count
            break
        position = _skip_sub_blocks(data, position)
    return frames


def _color_table_size(packed: int) -> int:
    return 3 * 2 ** ((packed & 0x07) + 1) if packed & 0x80 else 0


def _skip_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data) and data[position] != 0:
        position += data[position] + 1
    return position + 1


def _ftyp_brands(data: bytes) -> list[bytes]:
    if data[4:8] != b"ftyp" or len(data) < 16:
        return []
    box_size = min(struct.unpack(">I", data[:4])[0], len(data), 4096)
    major = data[8:12]
    compatible = [data[i : i + 4] for i in range(16, box_size - 3, 4)]
    return [major, *compatible]


def _is_heif(data: bytes) -> bool:
    brands = _ftyp_brands(data)
    if not brands or brands[0] in AVIF_BRANDS:
        return False
    # A generic 'mif1' file whose only coded brand is AVIF is AV1, which we don't take.
    if brands[0] in (b"mif1", b"msf1") and not HEIC_BRANDS & set(brands) and AVIF_BRANDS & set(brands):
        return False
    return bool(HEIF_BRANDS & set(brands))


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _gif_size(data: bytes) -> tuple[int, int]:
    return struct.unpack("<HH", data[6:10])


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    frame = jpeg_frame(data)
    return None if frame is None else frame[1:]


HUFFMAN_FRAMES = (0xC0, 0xC1, 0xC2)  # baseline, extended and progressive DCT, Huffman-coded


def jpeg_holds_too_little(head: bytes, size: int) -> bool:
    """Whether a JPEG of `size` bytes (`head` its first bytes) is too short for the picture its header declares.

    A Huffman-coded JPEG spends at least a bit on each 8×8 block (no code is shorter, and every block has a DC
    code), so one shorter than that lost its scan data: a header kept, the rest cut, and an end-of-image marker
    after it. libjpeg fills what is missing with grey and only warns, so it would be kept as a grey picture.
    """
    frame = jpeg_frame(head)
    if frame is None or frame[0] not in HUFFMAN_FRAMES:
        return False  # arithmetic-coded and lossless JPEGs have no such floor
    _, width, height = frame
    return size * 8 < -(-width // 8) * -(-height // 8)


def jpeg_frame(data: bytes) -> tuple[int, int, int] | None:
    """(start-of-frame marker, width, height): the marker segments walked up to the first frame header."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # standalone markers carry no length
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before any frame header
            return None
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return marker, width, height
        position += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _heif_size(data: bytes) -> tuple[int, int]:
    # open_heif parses the boxes only; pixels are decoded when .data is first touched.
    import pillow_heif  # here: only HEIC/HEIF files need it (see imaging_probe.register_heif_opener)

    return pillow_heif.open_heif(io.BytesIO(data)).size


_SIZE_READERS = {
    "jpeg": _jpeg_size,
    "png": _png_size,
    "webp": _webp_size,
    "gif": _gif_size,
    "heif": _heif_size,
}
