"""Real image files made in memory for tests: photos, odd colour modes, and hostile or broken files.

Every function returns the file's bytes and is deterministic (seeded), small and quick to make.
"""

import io
import struct
import zlib
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pillow_heif
from PIL import Image, ImageCms, ImageDraw, ImageFilter, ImageFont

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)
ORIENTATION, EXIF_IFD, GPS_IFD, DATETIME_ORIGINAL = 0x0112, 0x8769, 0x8825, 0x9003

# The transpose that turns an upright picture into what a camera stores with each EXIF orientation
# (the inverse of what ImageOps.exif_transpose applies).
STORED_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


# --- pictures -------------------------------------------------------------------------------------


def scene_image(width: int = 800, height: int = 600, *, seed: int = 0) -> Image.Image:
    """A detailed picture: shapes, thin lines, text-like strokes and fine grain, so blur shows."""
    rng = np.random.default_rng(seed)
    grain = rng.normal(128, 24, (height, width, 3)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(grain)
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        _draw_shape(draw, rng, width, height)
    font = ImageFont.load_default(size=max(10, height // 30))
    for _ in range(12):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        draw.text((x, y), "Classify 0123 ABC xyz", fill=_colour(rng), font=font)
    return image


def _draw_shape(draw: ImageDraw.ImageDraw, rng: np.random.Generator, width: int, height: int) -> None:
    x0, x1 = sorted(int(v) for v in rng.integers(0, width, 2))
    y0, y1 = sorted(int(v) for v in rng.integers(0, height, 2))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        draw.rectangle((x0, y0, x1, y1), fill=_colour(rng), outline=_colour(rng), width=2)
    elif kind == 1:
        draw.ellipse((x0, y0, x1, y1), fill=_colour(rng))
    else:
        draw.line((x0, y0, x1, y1), fill=_colour(rng), width=int(rng.integers(1, 4)))


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, 3))  # type: ignore[return-value]


def drawn_scene(width: int, height: int | None = None, seed: int = 3) -> np.ndarray:
    """A textured, photo-like grey scene drawn with anti-aliased shapes and lines at any resolution: the same
    scene at every size, as a camera of that many pixels would take it."""
    height = height or width * 3 // 4
    rng = np.random.default_rng(seed)
    img = np.full((height, width), 128, np.uint8)
    s = width / 1000.0
    for _ in range(160):
        x, y = int(rng.uniform(0, width)), int(rng.uniform(0, height))
        tone = int(rng.integers(0, 256))
        kind = rng.integers(0, 3)
        if kind == 0:
            cv2.circle(img, (x, y), int(rng.uniform(5, 60) * s) + 1, tone, -1, cv2.LINE_AA)
        elif kind == 1:
            w, h = int(rng.uniform(10, 120) * s) + 1, int(rng.uniform(10, 120) * s) + 1
            cv2.rectangle(img, (x, y), (x + w, y + h), tone, -1, cv2.LINE_AA)
        else:
            x2, y2 = x + int(rng.normal(0, 150) * s), y + int(rng.normal(0, 150) * s)
            cv2.line(img, (x, y), (x2, y2), tone, max(1, int(3 * s)), cv2.LINE_AA)
    return img


def picture(width: int, height: int, pattern: str = "scene", *, seed: int = 0) -> Image.Image:
    """ "scene" (detailed) or "flat" (a single mid-grey)."""
    if pattern == "flat":
        return Image.new("RGB", (width, height), (128, 128, 128))
    if pattern == "scene":
        return scene_image(width, height, seed=seed)
    raise ValueError(f"unknown pattern {pattern!r}")


def exif_bytes(orientation: int | None = None, taken_at: datetime | str | None = None) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if taken_at is not None:
        stamp = taken_at if isinstance(taken_at, str) else taken_at.strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = stamp
    return exif.tobytes()


# --- accepted formats ------------------------------------------------------------------------------


def jpeg(
    width: int = 800,
    height: int = 600,
    *,
    pattern: str = "scene",
    quality: int = 90,
    orientation: int | None = None,
    exif_datetime: datetime | str | None = None,
    seed: int = 0,
) -> bytes:
    return encode(
        picture(width, height, pattern, seed=seed),
        "JPEG",
        quality=quality,
        exif=exif_bytes(orientation, exif_datetime),
    )


def blurred_jpeg(width: int = 800, height: int = 600, *, sigma: float = 6, seed: int = 0) -> bytes:
    blurred = scene_image(width, height, seed=seed).filter(ImageFilter.GaussianBlur(sigma))
    return encode(blurred, "JPEG", quality=90)


def shot(seed: int, taken_at: datetime | None = None, *, shift: int = 0, sigma: float = 0.0) -> bytes:
    """One frame of a burst: scene `seed` (800x600), framed `shift` px further right, blurred by `sigma`."""
    scene = scene_image(820, 600, seed=seed).crop((shift, 0, shift + 800, 600))
    if sigma:
        scene = scene.filter(ImageFilter.GaussianBlur(sigma))
    return encode(scene, "JPEG", quality=90, exif=exif_bytes(None, taken_at))


def png(width: int = 640, height: int = 480, *, pattern: str = "scene", mode: str = "RGB") -> bytes:
    """Any Pillow mode PNG can hold: RGB, RGBA, L, LA..."""
    return encode(picture(width, height, pattern).convert(mode), "PNG")


def png_16bit(width: int = 256, height: int = 64) -> bytes:
    """16-bit greyscale, a left-to-right ramp from black to full white."""
    ramp = np.linspace(0, 65535, width).astype(np.uint16)
    return encode(Image.fromarray(np.tile(ramp, (height, 1))), "PNG")


def palette_png(width: int = 200, height: int = 100) -> bytes:
    """Palette PNG: left half red, right half fully transparent (tRNS)."""
    image = Image.new("P", (width, height), 1)
    image.putpalette([*RED, 0, 0, 0])
    image.paste(0, (0, 0, width // 2, height))
    return encode(image, "PNG", transparency=1)


def rgba_png(width: int = 200, height: int = 100) -> bytes:
    """Left half opaque blue, right half fully transparent."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((*BLUE, 255), (0, 0, width // 2, height))
    return encode(image, "PNG")


def cmyk_jpeg(width: int = 200, height: int = 100, cmyk: tuple[int, int, int, int] = (0, 255, 255, 0)) -> bytes:
    """A CMYK JPEG (Pillow writes Adobe's inverted CMYK); the default ink is pure red."""
    return encode(Image.new("CMYK", (width, height), cmyk), "JPEG", quality=95)


def srgb_profiled_jpeg(width: int = 200, height: int = 100, colour: tuple[int, int, int] = RED) -> bytes:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(Image.new("RGB", (width, height), colour), "JPEG", quality=95, icc_profile=icc)


def webp(width: int = 640, height: int = 480, *, pattern: str = "scene", lossless: bool = False) -> bytes:
    return encode(picture(width, height, pattern), "WEBP", quality=85, lossless=lossless)


def animated_gif(frames: int = 3, width: int = 120, height: int = 90) -> bytes:
    images = [Image.new("RGB", (width, height), (40 * i % 256, 80, 200)) for i in range(frames)]
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)


def animated_webp(frames: int = 3, width: int = 120, height: int = 90) -> bytes:
    images = [Image.new("RGB", (width, height), (40 * i % 256, 80, 200)) for i in range(frames)]
    return encode(images[0], "WEBP", save_all=True, append_images=images[1:], duration=100, loop=0)


def heic(
    width: int = 320, height: int = 240, *, pattern: str = "scene", exif_datetime: datetime | None = None
) -> bytes:
    pillow_heif.register_heif_opener()
    return encode(picture(width, height, pattern), "HEIF", quality=70, exif=exif_bytes(None, exif_datetime))


def two_tone_oriented_jpeg(orientation: int = 6, upright_width: int = 300, upright_height: int = 400) -> bytes:
    """Shown upright (after EXIF orientation) the top half is red and the bottom half blue."""
    upright = Image.new("RGB", (upright_width, upright_height), BLUE)
    upright.paste(RED, (0, 0, upright_width, upright_height // 2))
    transpose = STORED_FOR_ORIENTATION.get(orientation)
    stored = upright.transpose(transpose) if transpose is not None else upright
    return encode(stored, "JPEG", quality=95, exif=exif_bytes(orientation))


def with_private_metadata(image_format: str = "JPEG", *, orientation: int | None = 6) -> bytes:
    """A red 40×20 picture carrying GPS in EXIF, an XMP packet saying PRIVATE-XMP and an sRGB profile."""
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 13.0, 24.5), 3: "E", 4: (13.0, 24.0, 1.5)})
    exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = "2020:01:01 12:00:00"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">PRIVATE-XMP</x:xmpmeta>'
    red = Image.new("RGB", (40, 20), RED)
    return encode(red, image_format, exif=exif.tobytes(), icc_profile=icc, xmp=xmp, quality=95)


def jpeg_with_metadata(metadata_size: int) -> bytes:
    """A small JPEG carrying an ICC blob of `metadata_size` bytes (split into APP2 segments)."""
    return encode(Image.new("RGB", (64, 64), WHITE), "JPEG", icc_profile=b"\x00" * metadata_size)


# --- hostile and broken files ----------------------------------------------------------------------


def png_bomb(width: int = 50000, height: int = 50000) -> bytes:
    """A valid-looking PNG of a few hundred bytes whose header declares width×height RGB pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # Only the first rows are present; the file is tiny, decoding it would allocate everything.
    rows = zlib.compress(b"\x00" * (1 + 3 * min(width, 4096)) * 4)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real small JPEG whose start-of-frame marker is patched to declare width×height."""
    data = bytearray(jpeg(16, 16, pattern="flat"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def webp_declaring(width: int, height: int) -> bytes:
    """A real small animated WebP whose VP8X header is patched to declare a width×height canvas."""
    data = bytearray(animated_webp(frames=2, width=16, height=16))
    assert data[12:16] == b"VP8X"
    data[24:27] = (width - 1).to_bytes(3, "little")
    data[27:30] = (height - 1).to_bytes(3, "little")
    return bytes(data)


def gif_declaring(width: int, height: int) -> bytes:
    """A real small GIF whose logical screen is patched to width×height."""
    data = bytearray(animated_gif(frames=1, width=16, height=16))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def truncated_jpeg(fraction: float = 0.6) -> bytes:
    data = jpeg(640, 480)
    return data[: int(len(data) * fraction)]


def png_with_corrupt_idat() -> bytes:
    """A PNG whose header is fine but whose compressed pixel data is garbage (CRC fixed up)."""
    data = png(64, 64, pattern="scene")
    start = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[start - 4 : start])
    garbage = bytes(np.random.default_rng(7).integers(0, 256, length, dtype=np.uint8))
    return data[: start - 4] + _png_chunk(b"IDAT", garbage) + data[start + 4 + length + 4 :]


def jpeg_magic_then_garbage(size: int = 2048) -> bytes:
    return b"\xff\xd8\xff\xe0" + random_bytes(size)


def random_bytes(size: int = 4096, seed: int = 3) -> bytes:
    return bytes(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8))


def html_as_bytes() -> bytes:
    return b"<!DOCTYPE html>\n<html><head><title>Not a photo</title></head><body>Hello</body></html>\n"


def svg_bytes() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b'<rect width="100" height="100" fill="red"/></svg>\n'
    )


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def tiff_bytes() -> bytes:
    return encode(picture(64, 64, "flat"), "TIFF")


def bmp_bytes() -> bytes:
    return encode(picture(64, 64, "flat"), "BMP")


# --- helpers ---------------------------------------------------------------------------------------


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def write(path: Path | str, data: bytes) -> Path:
    """Write bytes to path (creating folders) and return the path, for tests that need real files."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
