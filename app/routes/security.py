"""Who is calling: a bearer token on /api, the session cookie on pages. Guards decide what is allowed."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp, Receive, Scope, Send

from app.domain.errors import NotAuthenticated
from app.domain.model import User
from app.domain.services import accounts

API_PREFIX = "/api/"
BEARER_SCHEME = "bearer"
BEARER: list[dict[str, list[str]]] = [{BEARER_SCHEME: []}]  # what the OpenAPI document says these routes need


class LoginRequired(Exception):
    """A page needs a signed-in person; answered with a redirect to the sign-in page."""


class CallerMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        container = connection.app.state.container
        if connection.scope["path"].startswith(API_PREFIX):
            return await _bearer_caller(connection, container)
        return await _session_caller(connection, container)


async def _bearer_caller(connection: ASGIConnection, container: Any) -> AuthenticationResult:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return AuthenticationResult(user=None, auth=None)
    try:
        user, session_id = await accounts.user_for_access_token(
            token.strip(), uow=container.uow, tokens=container.tokens, now=container.clock()
        )
    except NotAuthenticated as exc:
        return AuthenticationResult(user=None, auth={"error": exc.detail})
    return AuthenticationResult(user=user, auth={"session_id": session_id})


async def _session_caller(connection: ASGIConnection, container: Any) -> AuthenticationResult:
    try:
        raw = connection.session.get("user_id") if connection.scope.get("session") else None
    except Exception:  # no session middleware on this path
        raw = None
    if not raw:
        return AuthenticationResult(user=None, auth=None)
    try:
        user_id = uuid.UUID(str(raw))
    except ValueError:
        return AuthenticationResult(user=None, auth=None)
    async with container.uow() as tx:
        user = await tx.users.get(user_id)
    if user is None:
        return AuthenticationResult(user=None, auth=None)
    if connection.session.get("stamp") != accounts.session_stamp(user):  # signed in before a sign-out everywhere
        return AuthenticationResult(user=None, auth={"ended": True})
    return AuthenticationResult(user=user, auth={"session": True})


def requires_api_user(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not isinstance(connection.scope.get("user"), User):
        auth = connection.scope.get("auth") or {}
        detail = auth.get("error") if isinstance(auth, dict) else None
        # RFC 6750: a 401 names the scheme, and says when the token sent was the trouble
        challenge = 'Bearer realm="classify"' + (', error="invalid_token"' if detail else "")
        raise NotAuthorizedException(
            detail or "Sign in first: send 'Authorization: Bearer <access token>'.",
            headers={"WWW-Authenticate": challenge},
        )


def requires_page_user(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if not isinstance(connection.scope.get("user"), User):
        raise LoginRequired()


CSRF_HEADER = b"x-csrftoken"
NO_HEADER_TOKEN = "This upload came without the page's form token; reload the page and try again. Nothing was stored."


class TokenInHeaderOnly:
    """A page's upload sends its form token as a header (static/app.js). Without one, the CSRF check would
    look for it in the form, reading the whole body first: on the upload route, gigabytes before anyone is
    known. Refused before a byte is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # an empty value counts as none: the CSRF check would then look for the token in the form, as without one
        if scope["type"] == "http" and not any(
            name == CSRF_HEADER and value.strip() for name, value in scope["headers"]
        ):
            raise PermissionDeniedException(NO_HEADER_TOKEN)
        await self.app(scope, receive, send)
