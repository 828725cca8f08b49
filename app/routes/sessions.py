"""Browser sessions: kept on disk only once they hold something (a sign-in, a Google sign-in under way), and
the expired ones swept away.

Litestar's server-side backend stores whatever the session is at the end of a request, an empty one too, and
sets its cookie: each anonymous visit to the sign-in page left a file for 14 days, and nothing removed expired
files, so anyone could fill the data folder with them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty

from app.logs import log

EXPIRED_SWEEP_SECONDS = 3600.0


class SignInSessionBackend(ServerSideSessionBackend):
    async def store_in_message(self, scope_session: Any, message: Any, connection: Any) -> None:
        if scope_session is not Empty and not scope_session:
            if not connection.cookies.get(self.config.key):
                return  # an anonymous visit: nothing to keep, no cookie to set
            scope_session = Empty  # emptied (signed out): its file goes and its cookie is cleared
        await super().store_in_message(scope_session, message, connection)


class SignInSessionConfig(ServerSideSessionConfig):
    _backend_class = SignInSessionBackend


async def sweep_expired_sessions(store: Store) -> None:
    """Delete the sessions past their lifetime, now and every EXPIRED_SWEEP_SECONDS."""
    while True:
        try:
            await store.delete_expired()  # type: ignore[attr-defined]  # FileStore and MemoryStore have it
        except Exception:
            log.exception("sweeping expired sessions failed")
        await asyncio.sleep(EXPIRED_SWEEP_SECONDS)
