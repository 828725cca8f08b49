"""Task function for link imports (Google Drive, Dropbox); the same function runs in-process or under arq."""

from __future__ import annotations

import random
import uuid
from typing import Any

from app.domain.services import link_imports, waiting


def link_context(container: Any, attempt: int = 1) -> link_imports.LinkContext:
    return link_imports.LinkContext(
        drive=container.drive,
        dropbox=container.dropbox,
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


async def import_link(ctx: dict[str, Any], job_id: str) -> None:
    job = uuid.UUID(job_id)
    container = ctx["container"]
    attempt = await waiting.tries_since_progress(job, int(ctx.get("job_try", 1)), uow=container.uow)
    await link_imports.run_link_import(link_context(container, attempt), job)
