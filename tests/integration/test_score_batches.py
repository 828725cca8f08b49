"""A scoring batch counts its photos whichever task scores them. Each upload queues its own scoring, and the
sweep queues every unscored photo; a batch over the same photos said "0 done" while they were being scored,
and a photo removed meanwhile was a failure by its id, with a Retry that could never work."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain.errors import Conflict
from app.domain.model import JobStatus, PhotoSource
from app.domain.services import imports, jobs, photos
from app.jobs import tasks
from tests import images
from tests.conftest import create_account, run_sql
from tests.support.jobs import HeldQueue

PHOTOS = 5


def _unscored_library(settings: Any, database_url: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """Photos as a server whose web process does not score leaves them: stored, their scoring queued."""
    create_account(settings, "owner@example.com")

    async def store() -> tuple[uuid.UUID, list[uuid.UUID]]:
        container = bootstrap(settings, offload=run_inline, queue=HeldQueue())
        try:
            async with container.uow() as tx:
                owner = (await tx.users.by_email("owner@example.com")).id
            for i in range(PHOTOS):
                status, why = await imports.import_item(
                    images.jpeg(320, 240, seed=40 + i),
                    f"p{i}.jpg",
                    owner=owner,
                    source=PhotoSource.UPLOAD,
                    source_id=f"p{i}",
                    uow=container.uow,
                    storage=container.storage,
                    images=container.images,
                    queue=container.queue,
                    max_bytes=container.settings.max_upload_bytes,
                )
                assert status == "done", why
            async with container.uow() as tx:
                stored = [await tx.photos.by_source_id(owner, PhotoSource.UPLOAD, f"p{i}") for i in range(PHOTOS)]
            return owner, [photo.id for photo in stored if photo]
        finally:
            await container.close()

    owner, ids = asyncio.run(store())
    assert len(ids) == PHOTOS
    run_sql(database_url, "UPDATE photos SET blur_score = NULL, blur_kind = NULL, scored_at = NULL")
    return owner, ids


def test_a_batch_counts_photos_scored_by_their_uploads_tasks_and_skips_a_removed_one(settings, database_url) -> None:
    owner, ids = _unscored_library(settings, database_url)

    async def run() -> None:
        queue = HeldQueue()
        container = bootstrap(settings, offload=run_inline, queue=queue)
        ctx = {"container": container}
        try:
            job = await jobs.start_score_batch(owner, None, uow=container.uow, queue=queue)
            assert job.total == PHOTOS

            # The uploads' own tasks score two photos first: the batch counts them as they are scored.
            for photo_id in ids[:2]:
                assert await tasks.score_photo(ctx, str(photo_id))
            job = await jobs.get_job(owner, job.id, uow=container.uow)
            assert (job.status, job.done, job.failed) == (JobStatus.RUNNING, 2, 0)

            # One photo is removed before anything scores it; the sweep queues the batch's items, not the same
            # photos a second time beside them.
            await photos.delete_photo(owner, ids[2], uow=container.uow, clock=container.clock)
            swept = HeldQueue()
            await jobs.resume_unfinished(uow=container.uow, queue=swept)
            assert sorted(args[0] for _, args in swept.queued) == sorted(str(p) for p in ids[2:])
            assert all(task_id and task_id.startswith(f"job:{job.id}:") for task_id in swept.task_ids)

            # The batch's own tasks: the two counted already have nothing to do, the removed one is skipped.
            for photo_id in ids:
                await tasks.score_photo(ctx, str(photo_id), str(job.id))
            job = await jobs.get_job(owner, job.id, uow=container.uow)
            assert (job.status, job.done, job.skipped, job.failed) == (JobStatus.DONE, PHOTOS, 1, 0)
            shown, total = await jobs.first_job_errors(owner, job.id, 10, uow=container.uow)
            assert (shown, total) == ([("a removed photo", "skipped", tasks.GONE_BEFORE_SCORED)], 1)
            with pytest.raises(Conflict):  # nothing failed: no retry that cannot work
                await jobs.retry_failed(owner, job.id, uow=container.uow, queue=queue)
        finally:
            await container.close()

    asyncio.run(run())


def test_a_failed_photo_is_named_by_its_file_on_the_jobs_page(settings, database_url) -> None:
    owner, ids = _unscored_library(settings, database_url)

    async def run() -> list[tuple[str, str, str | None]]:
        queue = HeldQueue()
        container = bootstrap(settings, offload=run_inline, queue=queue)
        ctx = {"container": container}
        try:
            container.storage.original_path(
                (await photos.get_photo(owner, ids[0], uow=container.uow)).storage_key
            ).write_bytes(b"not a jpeg any more")
            job = await jobs.start_score_batch(owner, ids[:1], uow=container.uow, queue=queue)
            await tasks.score_photo(ctx, str(ids[0]), str(job.id))
            shown, _ = await jobs.first_job_errors(owner, job.id, 10, uow=container.uow)
            return shown
        finally:
            await container.close()

    [(name, status, why)] = asyncio.run(run())
    assert (name, status) == ("p0.jpg", "failed") and why
    # the reason names the photo, not where the server keeps its original
    assert why.startswith("p0.jpg: ") and str(settings.data_dir) not in why
