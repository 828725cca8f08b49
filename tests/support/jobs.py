"""A job in any state, written through the product's own repository: for the states an API call cannot make
at once (sixty failed items, a mix of outcomes)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.settings import Settings


def job_with_items(
    settings: Settings, email: str, keys: Sequence[str], outcomes: Sequence[tuple[Sequence[str], str, str | None]]
) -> str:
    """A folder-import job of `keys` for the account of `email`; each outcome (keys, status, error) is marked in
    turn, as the tasks would. Returns the job's id."""

    async def make() -> str:
        container = bootstrap(settings, offload=run_inline)
        try:
            async with container.uow() as tx:
                user = await tx.users.by_email(email)
                job = await tx.jobs.add(user.id, "import_folder", len(keys), {}, list(keys))
                for marked, status, error in outcomes:
                    await tx.jobs.mark_items(job.id, list(marked), status, error, container.clock())
                await tx.commit()
            return str(job.id)
        finally:
            await container.close()

    return asyncio.run(make())
