"""Task functions for the Google jobs; the same functions run in-process or under arq."""

from __future__ import annotations

import random
import uuid
from typing import Any

from app.domain.services import google_jobs, waiting


async def _context(ctx: dict[str, Any], job_id: uuid.UUID) -> google_jobs.GoogleJobContext:
    container = ctx["container"]
    attempt = await waiting.tries_since_progress(job_id, int(ctx.get("job_try", 1)), uow=container.uow)
    return google_jobs.GoogleJobContext(
        google=container.google,
        uow=container.uow,
        storage=container.storage,
        images=container.images,
        queue=container.queue,
        clock=container.clock,
        max_bytes=container.settings.max_upload_bytes,
        quota_bytes=container.settings.quota_bytes,
        jitter=random.random,
        attempt=attempt,
    )


async def import_google_session(ctx: dict[str, Any], job_id: str) -> None:
    await google_jobs.run_import(await _context(ctx, uuid.UUID(job_id)), uuid.UUID(job_id))


async def publish_google_album(ctx: dict[str, Any], job_id: str) -> None:
    await google_jobs.run_album(await _context(ctx, uuid.UUID(job_id)), uuid.UUID(job_id))
