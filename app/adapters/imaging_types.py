"""Values the imaging adapter hands out: limits, probe results, renditions and the rejection error."""

from dataclasses import dataclass
from datetime import datetime

ANIMATED = "animated"
EXTENSION_MISMATCH = "extension_mismatch"
TOO_SMALL = "too_small"


class ImageRejected(Exception):
    """An incoming file we will not store; `status_code` is the HTTP answer (413, 415 or 422)."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail

    def __reduce__(self) -> tuple[type["ImageRejected"], tuple[int, str]]:
        # make_rendition runs in a worker process; the error must survive the trip back.
        return (type(self), (self.status_code, self.detail))


@dataclass(frozen=True)
class ImageLimits:
    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 100_000_000
    max_side: int = 30_000
    max_frames: int = 1000
    max_metadata_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True)
class ProbedImage:
    format: str
    mime_type: str
    extension: str
    width: int
    height: int
    frames: int
    flags: tuple[str, ...]
    taken_at: datetime | None
    sideways: bool = False  # its EXIF orientation shows it a quarter turn round: width and height swap on screen


@dataclass(frozen=True)
class Rendition:
    """A JPEG rendition and the photo's upright size."""

    data: bytes
    width: int
    height: int
