"""A job in any state, written through the product's own repository: for the states an API call cannot make
at once (sixty failed items, a mix of outcomes)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.settings import Settings


def job_with_items(
    settings: Settings,
    email: str,
    keys: Sequence[str],
    outcomes: Sequence[tuple[Sequence[str], str, str | None]],
    kind: str = "import_folder",
) -> str:
    """A job of `kind` (a folder import) of `keys` for the account of `email`; each outcome (keys, status, error)
    is marked in turn, as the tasks would. Returns the job's id."""

    async def make() -> str:
        container = bootstrap(settings, offload=run_inline)
        try:
            async with container.uow() as tx:
                user = await tx.users.by_email(email)
                job = await tx.jobs.add(user.id, kind, len(keys), {}, list(keys))
                for marked, status, error in outcomes:
                    await tx.jobs.mark_items(job.id, list(marked), status, error, container.clock())
                await tx.commit()
            return str(job.id)
        finally:
            await container.close()

    return asyncio.run(make())


def job_with_items_marked(settings: Settings, job_id: str, keys: Sequence[str], status: str) -> None:
    """Mark more of a job's items, as a task that was under way would."""

    async def mark() -> None:
        container = bootstrap(settings, offload=run_inline)
        try:
            async with container.uow() as tx:
                await tx.jobs.mark_items(uuid.UUID(job_id), list(keys), status, None, container.clock())
                await tx.commit()
        finally:
            await container.close()

    asyncio.run(mark())


class HeldQueue:
    """A task queue that keeps what is queued instead of running it, so that a test runs the tasks itself, in
    its own order: `queued` has (task, arguments), `task_ids` the id each was queued under."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, tuple[Any, ...]]] = []
        self.task_ids: list[str | None] = []

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None, defer_by: float | None = None) -> None:
        self.queued.append((name, args))
        self.task_ids.append(job_id)
