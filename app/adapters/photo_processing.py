"""The image ports for the app: incoming-photo checks, renditions and blur scoring in worker processes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from app.adapters import imaging
from app.adapters.imaging_probe import display_name
from app.adapters.intake_task import fingerprint_file, intake_file
from app.adapters.offload import WorkerCrashed
from app.adapters.scoring_task import score_path
from app.adapters.vision import preview_jpeg
from app.domain.errors import PayloadRejected
from app.domain.model import Photo
from app.domain.ports import ImageInspector, Intake, Offload, PhotoStorage, ScoreOutcome, UowFactory
from app.domain.services import photos
from app.domain.services.scoring import Undecodable
from app.logs import log

T = TypeVar("T")


class PillowImageInspector:
    """`score_on_intake`: whether this process scores photos as they arrive (it runs tasks); a web process
    that leaves tasks to arq workers only makes thumbs, so that scoring load stays on the workers."""

    def __init__(self, limits: imaging.ImageLimits, offload: Offload, score_on_intake: bool = True) -> None:
        self.limits = limits
        self.offload = offload
        self.score_on_intake = score_on_intake
        imaging.register_heif_opener()

    def probe(self, data: bytes, filename: str | None) -> imaging.ProbedImage:
        try:
            return imaging.probe(data, filename, self.limits)
        except imaging.ImageRejected as exc:
            raise PayloadRejected(exc.status_code, exc.detail) from None

    async def render(self, data: bytes, size: str) -> imaging.Rendition:
        return await self._in_worker(None, imaging.make_rendition, data, self.limits, size)

    async def intake(self, original: Path, filename: str | None = None) -> Intake:
        thumb, fingerprint, details, elapsed_ms = await self._in_worker(
            filename, intake_file, str(original), self.limits, self.score_on_intake, filename
        )
        score = None if details is None else outcome(details, elapsed_ms)
        return Intake(thumb=thumb, score=score, fingerprint=fingerprint)

    async def fingerprint(self, thumb: Path) -> str | None:
        try:
            return await self.offload(fingerprint_file, str(thumb))
        except WorkerCrashed:
            return None

    async def _in_worker(self, name: str | None, fn: Callable[..., T], *args: Any) -> T:
        """`fn` in a worker process; a refused or unreadable image is PayloadRejected, as callers expect, naming
        the photo `name` when it has one."""
        who = display_name(name) if name else "This image"
        try:
            return await self.offload(fn, *args)
        except imaging.ImageRejected as exc:
            raise PayloadRejected(exc.status_code, exc.detail) from None
        except WorkerCrashed as exc:
            raise PayloadRejected(422, f"{who} could not be read. {exc}") from None
        except Exception:  # a decoder's or OpenCV's own failure on this one file: it alone is refused
            log.exception("image could not be processed", step=fn.__name__)
            raise PayloadRejected(422, f"{who} is damaged or incomplete and can't be read.") from None


def outcome(details: dict[str, Any], elapsed_ms: float) -> ScoreOutcome:
    return ScoreOutcome(
        blur_score=float(details["blur_score"]),
        blur_kind=str(details["blur_kind"]),
        details=details,
        processing_ms=round(elapsed_ms, 2),
    )


class ProcessBlurScorer:
    def __init__(self, offload: Offload) -> None:
        self.offload = offload

    async def score(self, path: Path, name: str | None = None) -> ScoreOutcome:
        try:
            details, elapsed_ms = await self.offload(score_path, str(path), name)
        except WorkerCrashed as exc:
            raise Undecodable(str(exc)) from None
        except FileNotFoundError:
            raise Undecodable("The stored original is missing.") from None
        return outcome(details, elapsed_ms)


class VisionPreviews:
    """The small JPEG a vision model is shown, made from the medium rendition (made first if need be) in a worker."""

    def __init__(self, storage: PhotoStorage, images: ImageInspector, offload: Offload, uow: UowFactory) -> None:
        self.storage = storage
        self.images = images
        self.offload = offload
        self.uow = uow

    async def __call__(self, photo: Photo) -> bytes:
        path = await photos.rendition_file(photo, "medium", storage=self.storage, images=self.images, uow=self.uow)
        rendition = await anyio.to_thread.run_sync(path.read_bytes)
        return await self.offload(preview_jpeg, rendition)
