"""The imaging adapter against real bytes: types by content, limits before decoding, renditions."""

import io
import pickle
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from PIL import Image, ImageFile, WebPImagePlugin

from app.adapters.imaging import (
    ImageLimits,
    ImageRejected,
    Rendition,
    make_rendition,
    probe,
    strip_metadata,
)
from app.adapters.imaging_probe import parse_exif_datetime
from app.adapters.imaging_render import decode_reduced, fit_size, shrink
from tests import images

LIMITS = ImageLimits()


def rejection(data: bytes, filename: str | None = "photo.jpg", limits: ImageLimits = LIMITS) -> ImageRejected:
    with pytest.raises(ImageRejected) as caught:
        probe(data, filename, limits)
    return caught.value


def render_rejection(data: bytes, limits: ImageLimits = LIMITS) -> ImageRejected:
    # the thumb is what an upload makes: its (smallest) decode is the one that must refuse a damaged file
    with pytest.raises(ImageRejected) as caught:
        make_rendition(data, limits, "thumb", "photo.jpg")
    return caught.value


def make_renditions(data: bytes, limits: ImageLimits) -> SimpleNamespace:
    thumb, medium = (make_rendition(data, limits, size) for size in ("thumb", "medium"))
    assert (thumb.width, thumb.height) == (medium.width, medium.height)
    return SimpleNamespace(thumb=thumb.data, medium=medium.data, width=thumb.width, height=thumb.height)


def decoded(rendition: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(rendition))
    assert image.format == "JPEG"
    return image.convert("RGB")


def close_to(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 12) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# --- probe: what the file is -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "filename", "image_format", "mime_type", "extension"),
    [
        (lambda: images.jpeg(320, 240), "a.jpg", "jpeg", "image/jpeg", ".jpg"),
        (lambda: images.png(320, 240), "a.png", "png", "image/png", ".png"),
        (lambda: images.webp(320, 240), "a.webp", "webp", "image/webp", ".webp"),
        (lambda: images.webp(320, 240, lossless=True), "a.webp", "webp", "image/webp", ".webp"),
        (lambda: images.animated_gif(1, 320, 240), "a.gif", "gif", "image/gif", ".gif"),
        (lambda: images.heic(320, 240), "a.heic", "heif", "image/heic", ".heic"),
    ],
)
def test_probe_recognises_each_accepted_format(make, filename, image_format, mime_type, extension):
    probed = probe(make(), filename, LIMITS)

    assert (probed.format, probed.mime_type, probed.extension) == (image_format, mime_type, extension)
    assert (probed.width, probed.height, probed.frames, probed.flags) == (320, 240, 1, ())


@pytest.mark.parametrize(
    "make",
    [
        lambda: images.jpeg(200, 100, exif_datetime="2020:01:01 00:00:00"),
        lambda: images.png(200, 100),
        lambda: images.webp(200, 100),
        images.animated_webp,
        images.animated_gif,
        lambda: images.heic(200, 100, exif_datetime=datetime(2020, 1, 1)),
    ],
)
def test_probe_never_decodes_pixels(make, monkeypatch):
    data = make()

    class DecodedPixels(BaseException):
        """Not an Exception, so no `except Exception` in the code under test can swallow it."""

    def refuse_to_decode(self, *args):
        raise DecodedPixels

    for image_class in (ImageFile.ImageFile, WebPImagePlugin.WebPImageFile, Image.Image):
        monkeypatch.setattr(image_class, "load", refuse_to_decode)

    assert probe(data, None, LIMITS).width > 0


def test_probe_reports_stored_size_before_exif_rotation():
    probed = probe(images.two_tone_oriented_jpeg(6, upright_width=300, upright_height=400), "p.jpg", LIMITS)

    assert (probed.width, probed.height) == (400, 300)


def test_the_name_never_decides_the_type():
    probed = probe(images.png(100, 100), "holiday.jpg", LIMITS)

    assert probed.format == "png"
    assert probed.flags == ("extension_mismatch",)


@pytest.mark.parametrize("filename", ["a.jpg", "A.JPEG", "a.jpe", "a.jfif", "no_extension", None, "dir/x.jpg"])
def test_matching_or_missing_extension_is_not_flagged(filename):
    assert probe(images.jpeg(100, 100), filename, LIMITS).flags == ()


@pytest.mark.parametrize("filename", ["a.heic", "a.HEIF", "a.hif"])
def test_heif_extensions_match(filename):
    assert "extension_mismatch" not in probe(images.heic(96, 96), filename, LIMITS).flags


def test_animated_gif_and_webp_are_flagged_with_their_frame_count():
    gif = probe(images.animated_gif(frames=4), "a.gif", LIMITS)
    webp = probe(images.animated_webp(frames=3), "a.webp", LIMITS)

    assert (gif.frames, gif.flags) == (4, ("animated",))
    assert (webp.frames, webp.flags) == (3, ("animated",))


def test_small_images_are_accepted_but_flagged():
    assert probe(images.jpeg(63, 400), "a.jpg", LIMITS).flags == ("too_small",)
    assert probe(images.jpeg(64, 64), "a.jpg", LIMITS).flags == ()
    assert probe(images.png(32, 32), "a.gif", LIMITS).flags == ("extension_mismatch", "too_small")


def test_taken_at_comes_from_exif_date_time_original():
    data = images.jpeg(100, 100, exif_datetime=datetime(2023, 7, 14, 10, 30, 5))

    assert probe(data, "a.jpg", LIMITS).taken_at == datetime(2023, 7, 14, 10, 30, 5, tzinfo=UTC)


def test_taken_at_is_none_without_exif_or_with_a_zeroed_stamp():
    assert probe(images.jpeg(100, 100), "a.jpg", LIMITS).taken_at is None
    assert probe(images.jpeg(100, 100, exif_datetime="0000:00:00 00:00:00"), "a.jpg", LIMITS).taken_at is None


def test_taken_at_from_heic_exif():
    data = images.heic(96, 96, exif_datetime=datetime(2021, 1, 2, 3, 4, 5))

    assert probe(data, "a.heic", LIMITS).taken_at == datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_exif_offset_is_kept_when_recorded():
    moment = parse_exif_datetime("2022:05:06 07:08:09\x00", "+02:00")

    assert moment == datetime(2022, 5, 6, 7, 8, 9, tzinfo=timezone(timedelta(hours=2)))


# --- probe: 413 over a limit -----------------------------------------------------------------------


def test_too_many_bytes_is_413_before_anything_else():
    error = rejection(images.html_as_bytes() * 100, "big.jpg", ImageLimits(max_bytes=1000))

    assert error.status_code == 413
    assert "big.jpg" in error.detail and "the limit is 1000 bytes a file" in error.detail


def test_default_byte_limit_is_50_mb():
    error = rejection(b"\xff\xd8\xff" + bytes(50 * 1024 * 1024), "huge.jpg")

    assert error.status_code == 413
    assert "the limit is 50 MB a file" in error.detail


def test_png_bomb_is_rejected_from_its_header_without_allocating_pixels():
    bomb = images.png_bomb(50000, 50000)
    assert len(bomb) < 2000
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()

    error = rejection(bomb, "photo.png")

    assert time.perf_counter() - started < 0.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 50 * 1024  # KiB on Linux
    assert error.status_code == 413
    assert error.detail == ("photo.png is 50000×50000 pixels (2,500 megapixels); the limit is 100 megapixels.")


def test_make_rendition_refuses_a_bomb_too():
    assert render_rejection(images.png_bomb(50000, 50000)).status_code == 413


def test_just_over_the_pixel_limit_does_not_read_as_the_limit():
    error = rejection(images.png_bomb(10001, 10000), "photo.png")

    assert error.detail == "photo.png is 10001×10000 pixels (just over 100 megapixels); the limit is 100 megapixels."


def test_jpeg_over_the_side_limit_is_413():
    error = rejection(images.jpeg_declaring(30001, 10), "wide.jpg")

    assert error.status_code == 413
    assert error.detail == "wide.jpg is 30001×10 pixels; the limit is 30,000 pixels a side."


def test_webp_declaring_a_huge_canvas_is_caught_before_libwebp_sees_it():
    error = rejection(images.webp_declaring(16000, 16000), "anim.webp")

    assert error.status_code == 413
    assert "16000×16000" in error.detail


def test_gif_declaring_a_huge_screen_is_413():
    error = rejection(images.gif_declaring(40000, 40000), "a.gif")

    assert error.status_code == 413
    assert "40000×40000" in error.detail


def test_configured_pixel_limit_applies():
    error = rejection(images.jpeg(800, 600), "a.jpg", ImageLimits(max_pixels=100_000))

    assert error.status_code == 413
    assert "800×600 pixels (0.48 megapixels); the limit is 0.1 megapixels" in error.detail


def test_heic_size_is_checked_from_its_header():
    error = rejection(images.heic(320, 240), "a.heic", ImageLimits(max_pixels=10_000))

    assert error.status_code == 413
    assert "320×240" in error.detail


@pytest.mark.parametrize("make", [images.animated_gif, images.animated_webp])
def test_too_many_frames_is_413(make):
    error = rejection(make(frames=5), "anim.gif", ImageLimits(max_frames=3))

    assert error.status_code == 413
    assert error.detail == "anim.gif has more than 3 frames; that is the limit."


def test_frames_up_to_the_limit_are_fine():
    assert probe(images.animated_gif(frames=3), "a.gif", ImageLimits(max_frames=3)).frames == 3


def test_oversized_metadata_is_413():
    error = rejection(images.jpeg_with_metadata(5 * 1024 * 1024), "meta.jpg")

    assert error.status_code == 413
    assert "metadata" in error.detail and "the limit is 4 MB" in error.detail


# --- probe: 415 not an image type we take ----------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (images.html_as_bytes(), "an HTML page"),
        (images.pdf_bytes(), "a PDF document"),
        (images.svg_bytes(), "an SVG drawing"),
        (images.tiff_bytes(), "a TIFF image"),
        (images.bmp_bytes(), "a BMP image"),
        (b"", "empty"),
        (images.random_bytes(), "not an image we recognise"),
        (b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif" + bytes(64), "an AVIF image"),
    ],
)
def test_files_that_are_not_accepted_images_are_415(data, what):
    error = rejection(data, "photo.jpg")

    assert error.status_code == 415
    assert error.detail.startswith("photo.jpg is ")
    assert what in error.detail
    assert "we accept JPEG, PNG, WebP, GIF and HEIC/HEIF" in error.detail


# --- 422: an accepted type that can't be read ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "label"),
    [
        (images.jpeg_magic_then_garbage(), "JPEG"),
        (images.png(64, 64)[:20], "PNG"),
        (b"GIF89a\x10", "GIF"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "WebP"),
        (images.heic(64, 64)[:300], "HEIC/HEIF"),
    ],
)
def test_accepted_magic_with_an_unreadable_header_is_422(data, label):
    error = rejection(data, "x.bin")

    assert error.status_code == 422
    assert error.detail == f"x.bin looks like a {label} file but its header can't be read; it may be damaged."


@pytest.mark.parametrize("make", [images.truncated_jpeg, images.png_with_corrupt_idat])
def test_damaged_pixel_data_passes_probe_but_make_rendition_says_422(make):
    data = make()
    probe(data, "photo.jpg", LIMITS)

    error = render_rejection(data)

    assert error.status_code == 422
    assert error.detail == "photo.jpg is damaged or incomplete and can't be read."


def test_a_jpeg_too_short_for_the_picture_it_declares_is_422_and_a_flat_one_is_not():
    """A 776-byte JPEG declaring 9000 x 9000 was stored as a grey picture and scored; the floor (a bit a block)
    is half of what the most compressed flat picture spends."""
    from tests.unit.test_decode import stretched_jpeg

    error = rejection(stretched_jpeg(9000, 9000), "grey.jpg")
    assert error.status_code == 422
    assert error.detail == "grey.jpg is damaged or incomplete and can't be read: it is too short for its size."
    for options in ({}, {"optimize": True}, {"progressive": True, "optimize": True}):
        out = io.BytesIO()
        Image.new("L", (4000, 3000), 128).save(out, "JPEG", **options)
        probe(out.getvalue(), "flat.jpg", LIMITS)


def test_image_rejected_survives_pickling():
    error = pickle.loads(pickle.dumps(ImageRejected(413, "too big")))

    assert (error.status_code, error.detail, str(error)) == (413, "too big", "too big")


def test_make_rendition_runs_in_a_worker_process():
    with ProcessPoolExecutor(max_workers=1) as pool:
        rendition = pool.submit(make_rendition, images.jpeg(400, 300), LIMITS, "medium").result()
        damaged = pool.submit(make_rendition, images.truncated_jpeg(), LIMITS, "thumb")
        with pytest.raises(ImageRejected) as caught:
            damaged.result()

    assert isinstance(rendition, Rendition) and (rendition.width, rendition.height) == (400, 300)
    assert caught.value.status_code == 422


# --- renditions: sizes, orientation, colour --------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "thumb", "medium"),
    [
        (2400, 1800, (320, 240), (1600, 1200)),
        (1000, 3000, (107, 320), (533, 1600)),
        (800, 600, (320, 240), (800, 600)),
        (200, 100, (200, 100), (200, 100)),
    ],
)
def test_renditions_fit_320_and_1600_without_upscaling(width, height, thumb, medium):
    renditions = make_renditions(images.jpeg(width, height, pattern="flat"), LIMITS)

    assert decoded(renditions.thumb).size == thumb
    assert decoded(renditions.medium).size == medium
    assert (renditions.width, renditions.height) == (width, height)


def test_big_jpeg_is_decoded_at_reduced_scale():
    image = decode_reduced(images.jpeg(4000, 3000, pattern="flat"), 1600, "a.jpg", LIMITS)

    assert image.size == (2000, 1500)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_so_the_right_side_is_up(orientation):
    renditions = make_renditions(images.two_tone_oriented_jpeg(orientation, 300, 400), LIMITS)
    thumb = decoded(renditions.thumb)

    assert thumb.size == (240, 320)
    assert (renditions.width, renditions.height) == (300, 400)
    assert close_to(thumb.getpixel((120, 20)), images.RED, 30)
    assert close_to(thumb.getpixel((120, 300)), images.BLUE, 30)


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_orientation_holds_when_the_medium_is_resized_too(orientation):
    renditions = make_renditions(images.two_tone_oriented_jpeg(orientation, 1800, 2400), LIMITS)
    medium, thumb = decoded(renditions.medium), decoded(renditions.thumb)

    assert (medium.size, thumb.size) == ((1200, 1600), (240, 320))
    assert close_to(medium.getpixel((600, 100)), images.RED, 30)
    assert close_to(medium.getpixel((600, 1500)), images.BLUE, 30)


@pytest.mark.parametrize(
    "size", [(1, 1), (7, 3), (320, 320), (321, 320), (1601, 1), (1, 1601), (2000, 1500), (4000, 2251), (3, 9000)]
)
@pytest.mark.parametrize("side", [320, 1600])
def test_fit_size_is_what_pillow_thumbnail_gives(size, side):
    image = Image.new("L", size)
    image.thumbnail((side, side))

    assert fit_size(size, side) == image.size


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
@pytest.mark.parametrize("source", [(2000, 1500), (4000, 3000)])  # bicubic (1.25x) and area (2.5x)
def test_shrink_keeps_mode_colour_and_metadata(mode, source):
    colour = {"L": 90, "RGB": (30, 160, 90), "CMYK": (0, 255, 255, 0)}[mode]
    image = Image.new(mode, source, colour)
    image.info["icc_profile"] = b"profile"

    small = shrink(image, (1600, 1200))

    assert (small.mode, small.size, small.info["icc_profile"]) == (mode, (1600, 1200), b"profile")
    assert small.getpixel((800, 600)) == colour


def test_big_cmyk_jpeg_comes_out_with_the_right_colour():
    medium = decoded(make_renditions(images.cmyk_jpeg(3400, 1700), LIMITS).medium)

    assert medium.size == (1600, 800)
    assert close_to(medium.getpixel((800, 400)), images.RED)


def test_big_profiled_jpeg_is_converted_to_srgb():
    medium = decoded(make_renditions(images.srgb_profiled_jpeg(2400, 1200, colour=(30, 160, 90)), LIMITS).medium)

    assert medium.size == (1600, 800)
    assert close_to(medium.getpixel((800, 400)), (30, 160, 90))


def test_cmyk_jpeg_comes_out_with_the_right_colour():
    medium = decoded(make_renditions(images.cmyk_jpeg(), LIMITS).medium)

    assert close_to(medium.getpixel((100, 50)), images.RED)


def test_sixteen_bit_png_is_scaled_not_clipped():
    medium = decoded(make_renditions(images.png_16bit(256, 64), LIMITS).medium)

    assert medium.getpixel((2, 32))[0] < 12
    assert abs(medium.getpixel((128, 32))[0] - 128) < 12
    assert medium.getpixel((253, 32))[0] > 243


def test_palette_png_with_transparency_goes_onto_white():
    medium = decoded(make_renditions(images.palette_png(200, 100), LIMITS).medium)

    assert close_to(medium.getpixel((50, 50)), images.RED)
    assert close_to(medium.getpixel((150, 50)), images.WHITE)


def test_rgba_png_goes_onto_white():
    medium = decoded(make_renditions(images.rgba_png(200, 100), LIMITS).medium)

    assert close_to(medium.getpixel((50, 50)), images.BLUE)
    assert close_to(medium.getpixel((150, 50)), images.WHITE)


@pytest.mark.parametrize("mode", ["L", "LA", "1"])
def test_greyscale_pngs_become_grey_rgb(mode):
    medium = decoded(make_renditions(images.png(120, 80, mode=mode), LIMITS).medium)
    r, g, b = medium.getpixel((60, 40))

    assert abs(r - g) <= 6 and abs(g - b) <= 6


def test_embedded_icc_profile_is_converted_to_srgb():
    medium = decoded(make_renditions(images.srgb_profiled_jpeg(colour=(30, 160, 90)), LIMITS).medium)

    assert close_to(medium.getpixel((100, 50)), (30, 160, 90))


def test_a_broken_icc_profile_falls_back_to_plain_conversion():
    renditions = make_renditions(images.jpeg_with_metadata(1000), LIMITS)

    assert close_to(decoded(renditions.medium).getpixel((32, 32)), images.WHITE)


def test_heic_makes_renditions():
    renditions = make_renditions(images.heic(480, 240), LIMITS)

    assert decoded(renditions.thumb).size == (320, 160)
    assert (renditions.width, renditions.height) == (480, 240)


@pytest.mark.parametrize("make", [images.animated_gif, images.animated_webp])
def test_animated_images_render_their_first_frame(make):
    medium = decoded(make_renditions(make(frames=3), LIMITS).medium)

    assert close_to(medium.getpixel((60, 45)), (0, 80, 200))


def test_renditions_of_a_webp():
    renditions = make_renditions(images.webp(640, 480), LIMITS)

    assert decoded(renditions.thumb).size == (320, 240)


def test_renditions_carry_no_gps_exif_or_xmp_of_the_original():
    renditions = make_renditions(images.with_private_metadata("JPEG", orientation=6), LIMITS)

    for rendition in (renditions.thumb, renditions.medium):
        assert b"Exif" not in rendition and b"PRIVATE-XMP" not in rendition
        assert dict(Image.open(io.BytesIO(rendition)).getexif()) == {}


# --- strip_metadata --------------------------------------------------------------------------------


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_strip_metadata_drops_exif_gps_and_xmp_and_applies_orientation(image_format):
    data = images.with_private_metadata(image_format, orientation=6)

    stripped = strip_metadata(data, probe(data, None, LIMITS))
    image = Image.open(io.BytesIO(stripped))

    assert image.format == image_format
    assert b"PRIVATE-XMP" not in stripped
    assert dict(image.getexif()) == {}
    assert "icc_profile" in image.info
    assert image.size == (20, 40)
    assert close_to(image.convert("RGB").getpixel((10, 20)), images.RED)


def test_strip_metadata_keeps_an_upright_jpeg_quality():
    data = images.with_private_metadata("JPEG", orientation=None)

    stripped = strip_metadata(data, probe(data, None, LIMITS))

    assert Image.open(io.BytesIO(stripped)).size == (40, 20)
    assert b"PRIVATE-XMP" not in stripped and b"Exif" not in stripped


def test_strip_metadata_keeps_every_frame_of_an_animation():
    data = images.animated_webp(frames=3)

    stripped = strip_metadata(data, probe(data, None, LIMITS))

    assert Image.open(io.BytesIO(stripped)).n_frames == 3


def test_strip_metadata_refuses_formats_it_does_not_rewrite():
    data = images.animated_gif()

    with pytest.raises(ValueError):
        strip_metadata(data, probe(data, None, LIMITS))
