"""Browser sessions: kept on disk only once they hold something (a sign-in, a Google sign-in under way), and
the expired ones swept away.

Litestar's server-side backend stores whatever the session is at the end of a request, an empty one too, and
sets its cookie: each anonymous visit to the sign-in page left a file for 14 days, and nothing removed expired
files, so anyone could fill the data folder with them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.stores.base import Store
from litestar.types import Empty

from app.logs import log

SESSION_COOKIE = "classify_session"
EXPIRED_SWEEP_SECONDS = 3600.0


ROTATE = "classify.rotate_session"  # scope key: this response must give the session a new id
NEW_ID = "classify.new_session_id"


def rotate_session_id(scope: Any) -> None:
    """Give the session a new id when the response is sent, and forget the old one.

    Asked at every sign-in and password change: the backend otherwise keeps the id the browser came with, so
    an id planted in a victim's browser before they signed in (session fixation) became their session.
    """
    scope[ROTATE] = True


class SignInSessionBackend(ServerSideSessionBackend):
    async def store_in_message(self, scope_session: Any, message: Any, connection: Any) -> None:
        if scope_session is Empty or not scope_session:
            if connection.cookies.get(self.config.key):
                await self._forget(message, connection)  # emptied (signed out): its file and its cookie go
            return  # an anonymous visit: nothing to keep, no cookie to set
        if connection.scope.get(ROTATE):
            await self._delete_stored(connection)
            connection.scope[NEW_ID] = self.generate_session_id()
        await super().store_in_message(scope_session, message, connection)

    async def _delete_stored(self, connection: Any) -> None:
        """Delete what the store holds under the session id the browser came with."""
        session_id = connection.cookies.get(self.config.key)
        if session_id and session_id != "null":
            await self.delete(session_id, store=self.config.get_store_from_app(connection.scope["app"]))

    async def _forget(self, message: Any, connection: Any) -> None:
        """Delete the session and its cookie. Litestar's own clearing cookie carries the config's Max-Age (14
        days) beside its past Expires, and Max-Age wins: browsers kept a "null" cookie instead of dropping it."""
        await self._delete_stored(connection)
        params = {k: getattr(self.config, k) for k in ("path", "domain", "secure", "httponly", "samesite")}
        cookie = Cookie(key=self.config.key, value="null", max_age=0, expires=0, **params)
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))

    def get_session_id(self, connection: Any) -> str:
        return connection.scope.get(NEW_ID) or super().get_session_id(connection)


class SignInSessionConfig(ServerSideSessionConfig):
    _backend_class = SignInSessionBackend


async def sweep_expired_sessions(store: Store) -> None:
    """Delete the sessions past their lifetime, now and every EXPIRED_SWEEP_SECONDS."""
    while True:
        try:
            await store.delete_expired()  # type: ignore[attr-defined]  # FileStore and MemoryStore have it
        except FileNotFoundError:
            pass  # no session stored yet: the store makes its folder with the first one
        except Exception:
            log.exception("sweeping expired sessions failed")
        await asyncio.sleep(EXPIRED_SWEEP_SECONDS)
