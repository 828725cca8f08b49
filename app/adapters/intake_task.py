"""What a pool worker does with a photo as it comes in: its thumb and its blur score from one decode.

Decoding is most of what a photo costs, and a 12 MP JPEG used to be decoded twice: at 1/8 scale in
colour for the thumb, then again at 1/8 scale in grey for the score. libjpeg's YCbCr output at a DCT
scale carries, in its Y plane, exactly the samples its grayscale output at that scale gives (the
same inverse DCT of the same luma blocks), so one decode drafted as YCbCr at the analysis scale
serves both: the Y plane is scored, the whole is turned into the RGB thumb. tests/unit/test_intake.py
checks that the score equals `classify score`'s, bit for bit.

Other formats, CMYK JPEGs and JPEGs without an end-of-image marker are scored by the usual decoder
(a second decode); the thumb comes from the one above either way. A score that cannot be computed
here is left to the queued task, which records why.
"""

from __future__ import annotations

import time
from typing import Any

from PIL import Image

from app.adapters.imaging_probe import probe
from app.adapters.imaging_render import ORIENTATION, THUMB_SIDE, decode_reduced, make_rendition, render_decoded
from app.adapters.imaging_types import ImageLimits, Rendition

# EXIF orientation -> the turn that makes the stored pixels upright, as OpenCV and ImageOps apply it.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
LUMA_MODES = frozenset({"YCbCr", "L"})


def intake_file(
    path: str, limits: ImageLimits, score: bool = True, filename: str | None = None
) -> tuple[Rendition, str | None, dict[str, Any] | None, float]:
    """A stored original's thumb, the thumb's fingerprint for similar shots and, when `score`, its blur
    analysis; see thumb_and_score.

    The worker reads the file itself: handing it 4 MB of bytes through the pool's pipe costs both
    processes more than reading them back from the page cache.
    """
    with open(path, "rb") as original:
        data = original.read()
    if not score:
        thumb, analysis, elapsed_ms = make_rendition(data, limits, "thumb", filename), None, 0.0
    else:
        thumb, analysis, elapsed_ms = thumb_and_score(data, limits, filename)
    return thumb, jpeg_fingerprint(thumb.data), analysis, elapsed_ms


def jpeg_fingerprint(data: bytes) -> str | None:
    """The fingerprint (`grouping.fingerprint`) of a JPEG thumb, None when it cannot be decoded.

    Taken from the thumb, not the original: every photo has one, upright, made the same way whatever the
    source's format, and it is on disk for photos that came in before fingerprints did.
    """
    import cv2
    import numpy as np

    from app.domain.grouping import fingerprint

    gray = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return None if gray is None else fingerprint(gray)


def fingerprint_file(path: str) -> str | None:
    """`jpeg_fingerprint` of a stored thumb; None when it is missing or unreadable."""
    try:
        with open(path, "rb") as thumb:
            return jpeg_fingerprint(thumb.read())
    except OSError:
        return None


def thumb_and_score(
    data: bytes, limits: ImageLimits, filename: str | None = None
) -> tuple[Rendition, dict[str, Any] | None, float]:
    """The thumb (damaged files raise ImageRejected, naming `filename`), the blur analysis as a dict or None,
    and the ms it took."""
    # Imported here: the web process imports this module to name the task, and OpenCV costs ~30 MB of RSS.
    import numpy as np

    from app.adapters.decode import analysis_scale, jpeg_complete
    from app.adapters.scorer import score_gray

    start = time.perf_counter()
    probed = probe(data, filename, limits)
    draft = None
    if probed.format == "jpeg":
        scale = analysis_scale((probed.width, probed.height))
        # Pillow drafts the largest scale that keeps the image at least this size: w // scale gives exactly `scale`.
        draft = ("YCbCr", (max(1, probed.width // scale), max(1, probed.height // scale)))
    image = decode_reduced(data, THUMB_SIDE, filename, limits, jpeg_draft=draft)
    analysis: dict[str, Any] | None = None
    if draft and image.mode in LUMA_MODES and jpeg_complete(data, data[:65536]):
        luma = image.getchannel(0) if image.mode == "YCbCr" else image
        turn = UPRIGHT.get(image.getexif().get(ORIENTATION))
        analysis = score_gray(np.asarray(luma.transpose(turn) if turn is not None else luma)).to_dict()
        elapsed_ms = (time.perf_counter() - start) * 1000.0
    thumb = render_decoded(image, probed, "thumb")  # a YCbCr decode is resized first, then made RGB
    del image  # a large PNG's decode goes before the usual decoder reads the file again below
    if analysis is None:
        start = time.perf_counter()
        analysis = _score_apart(data)
        elapsed_ms = (time.perf_counter() - start) * 1000.0
    return thumb, analysis, elapsed_ms


def _score_apart(data: bytes) -> dict[str, Any] | None:
    from app.adapters.decode import UndecodableImage
    from app.adapters.scorer import score_image

    try:
        return score_image(data).to_dict()
    except UndecodableImage:
        return None
