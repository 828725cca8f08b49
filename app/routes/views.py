"""Domain objects to API shapes."""

from __future__ import annotations

import datetime as dt
import hashlib

from app.domain.model import Job, Photo
from app.routes.schemas import JobOut, PhotoOut


def page_state(*parts: object) -> str:
    """A short digest of what a page shows that other pages can change (the threshold, the counts, a photo's
    verdict). A page the browser brings back from its history asks for itself again and reloads if this
    differs: Back would otherwise show the counts and verdicts from before the change."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


def photo_out(photo: Photo, threshold: float, *, details: bool = False, prefix: str = "/api/v1") -> PhotoOut:
    image = f"{prefix}/photos/{photo.id}/image"
    return PhotoOut(
        id=photo.id,
        filename=photo.filename,
        source=photo.source,
        source_id=photo.source_id,
        mime_type=photo.mime_type,
        width=photo.width,
        height=photo.height,
        file_size=photo.file_size,
        sha256=photo.sha256,
        taken_at=photo.taken_at,
        created_at=photo.created_at,
        flags=list(photo.flags),
        blur_score=photo.blur_score,
        is_blurred=photo.is_blurred_at(threshold),
        category=photo.category_at(threshold).value,
        blur_kind=photo.blur_kind_at(threshold),
        scored_at=photo.scored_at,
        processing_time_ms=photo.processing_ms,
        error=photo.error,
        tags=list(photo.tags),
        caption=photo.caption,
        proposed_name=photo.proposed_name,
        image_url=f"{image}?size=original",
        thumbnail_url=f"{image}?size=thumb",
        details=photo.details_at(threshold) if details else None,
        marked_as=photo.marked_as,
    )


def job_out(job: Job, now: dt.datetime) -> JobOut:
    waiting = job.waiting_at(now)
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status.value,
        total=job.total,
        done=job.done,
        failed=job.failed,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=job.result,
        skipped=job.skipped,
        title=job.title,
        waiting=waiting,
        waiting_until=job.waiting_until if waiting else None,
    )
