"""A photo's thumb and blur score from one decode: the score is exactly what `classify score` gives."""

import io
from pathlib import Path

import pytest
from PIL import Image

from app.adapters.imaging import ImageLimits, ImageRejected, make_rendition
from app.adapters.intake_task import thumb_and_score
from app.adapters.scorer import score_image
from tests import images

LIMITS = ImageLimits()
SPEED_SET = sorted(Path("/work/shared/data/blur-dev/speed").glob("*.jpg"))


def assert_same_as_classify_score(data: bytes) -> None:
    thumb, details, _ = thumb_and_score(data, LIMITS)
    assert details == score_image(data).to_dict()
    reference = make_rendition(data, LIMITS, "thumb")
    assert (thumb.width, thumb.height) == (reference.width, reference.height)
    with Image.open(io.BytesIO(thumb.data)) as shown:
        assert shown.format == "JPEG" and max(shown.size) == 320


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (4000, 3000),  # 1/8 scale, as a 12 MP phone photo
        (3999, 2001),  # not a multiple of 8: Pillow's own choice of scale would differ from OpenCV's here
        (2300, 1700),  # 1/4
        (1200, 900),  # 1/2
        (640, 480),  # full size
    ],
)
def test_one_decode_scores_like_classify_score(width, height):
    assert_same_as_classify_score(images.jpeg(width, height, seed=width))


def test_blurred_photo_scores_like_classify_score():
    assert_same_as_classify_score(images.blurred_jpeg(2400, 1800, sigma=8))


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_turned_photos_are_scored_upright(orientation):
    data = images.jpeg(2000, 1200, orientation=orientation, seed=orientation)
    assert_same_as_classify_score(data)


@pytest.mark.parametrize(
    "data",
    [
        images.encode(images.picture(1800, 1200).convert("L"), "JPEG", quality=90),  # grayscale JPEG
        images.cmyk_jpeg(1200, 800),  # scored by the usual decoder, apart
        images.png(900, 600),
        images.webp(900, 600),
    ],
    ids=["grayscale-jpeg", "cmyk-jpeg", "png", "webp"],
)
def test_other_kinds_of_image_score_like_classify_score(data):
    assert_same_as_classify_score(data)


@pytest.mark.skipif(not SPEED_SET, reason="the shared 12 MP set is not on this machine")
def test_real_12mp_photos_score_like_classify_score():
    for path in SPEED_SET[:3]:
        assert_same_as_classify_score(path.read_bytes())


def test_a_damaged_photo_is_refused_before_anything_is_scored():
    with pytest.raises(ImageRejected) as refused:
        thumb_and_score(images.truncated_jpeg(), LIMITS)
    assert refused.value.status_code == 422


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_the_thumb_from_the_shared_decode_is_upright_and_true_to_colour(orientation):
    # The shared decode stays YCbCr to be scored and is resized before it becomes RGB.
    thumb, _, _ = thumb_and_score(images.two_tone_oriented_jpeg(orientation, 2400, 3200), LIMITS)

    with Image.open(io.BytesIO(thumb.data)) as shown:
        assert shown.size == (240, 320)
        top, bottom = shown.convert("RGB").getpixel((120, 20)), shown.convert("RGB").getpixel((120, 300))
    assert all(abs(a - b) <= 30 for a, b in zip(top, images.RED, strict=True))
    assert all(abs(a - b) <= 30 for a, b in zip(bottom, images.BLUE, strict=True))
