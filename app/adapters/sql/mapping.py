"""Rows to domain objects."""

from __future__ import annotations

from app.adapters.sql.models import JobRow, PhotoColumns, UserRow
from app.domain.model import Job, JobStatus, Photo, User


def to_user(row: UserRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        name=row.name,
        blur_threshold=row.blur_threshold,
        created_at=row.created_at,
        password_hash=row.password_hash,
        picture_url=row.picture_url,
        google_sub=row.google_sub,
        last_login_at=row.last_login_at,
        vision_monthly_limit=row.vision_monthly_limit,
        session_epoch=row.session_epoch,
    )


def to_photo(row: PhotoColumns) -> Photo:
    """A photo of the library, or one in Recently removed (the same columns)."""
    return Photo(
        id=row.id,
        user_id=row.user_id,
        source=row.source,
        source_id=row.source_id,
        filename=row.filename,
        mime_type=row.mime_type,
        width=row.width,
        height=row.height,
        file_size=row.file_size,
        sha256=row.sha256,
        storage_key=row.storage_key,
        created_at=row.created_at,
        taken_at=row.taken_at,
        flags=tuple(row.flags or ()),
        blur_score=row.blur_score,
        blur_kind=row.blur_kind,
        blur_details=row.blur_details,
        processing_ms=row.processing_ms,
        scored_at=row.scored_at,
        error=row.error,
        tags=tuple(row.tags or ()),
        caption=row.caption,
        proposed_name=row.proposed_name,
        marked_as=row.marked_as,
    )


def to_job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        user_id=row.user_id,
        kind=row.kind,
        status=JobStatus(row.status),
        total=row.total,
        done=row.done,
        failed=row.failed,
        skipped=row.skipped,
        waiting_until=row.waiting_until,
        waiting_reason=row.waiting_reason,
        created_at=row.created_at,
        error=row.error,
        started_at=row.started_at,
        finished_at=row.finished_at,
        payload=dict(row.payload or {}),
        result=dict(row.result or {}),
    )
