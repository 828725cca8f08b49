"""Two first-run forms sent at once: one owner, and the other person is told there is one."""

from __future__ import annotations

import asyncio

from app.adapters.offload import run_inline
from app.bootstrap import bootstrap
from app.domain.errors import Conflict
from app.domain.services.accounts import create_owner
from tests.conftest import PASSWORD, run_sql


def test_forms_sent_at_once_make_one_owner(settings, database_url):
    async def run() -> list[object]:
        container = bootstrap(settings, offload=run_inline)
        try:
            forms = [
                create_owner(f"person{i}@example.com", PASSWORD, uow=container.uow, passwords=container.passwords)
                for i in range(5)
            ]
            return await asyncio.gather(*forms, return_exceptions=True)
        finally:
            await container.close()

    outcomes = asyncio.run(run())
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 4, outcomes
    assert all(isinstance(o, Conflict) and "already has an owner" in str(o) for o in refused), refused
    assert run_sql(database_url, "SELECT count(*) FROM users") == [(1,)]
