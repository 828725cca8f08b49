"""Sign in with Google (authorization code + PKCE, state bound to the browser) and connect it.

The state, the PKCE verifier and where to go after are sealed into a short-lived cookie for the callback
alone, not kept in the server-side session: anonymous visits to /auth/google/login left a session file each,
kept 14 days, so anyone could fill the data folder with them.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Annotated, Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from app.adapters.crypto import TokenCipher
from app.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.domain.google import APPEND_SCOPE, DRIVE_SCOPE, SIGN_IN_SCOPES, GoogleFailure, InvalidGrant
from app.domain.model import User
from app.domain.services import accounts, google_account, google_photos
from app.routes.deps import ContainerDep, caller
from app.routes.openapi_docs import errors
from app.routes.pages_auth import mark_google_sign_in, password_given_at, safe_next, sign_in
from app.routes.schemas import CodeExchange, Tokens
from app.routes.security import requires_page_user

CALLBACK = "/auth/google/callback"
PENDING_COOKIE = "classify_google_oauth"
PENDING_SECONDS = 600  # time to choose an account and consent at Google


def redirect_uri(request: Request[Any, Any, Any], container: ContainerDep) -> str:
    base = container.settings.public_url or str(request.base_url)
    return base.rstrip("/") + CALLBACK


def _require_configured(container: ContainerDep) -> None:
    if not container.google.configured:
        raise NotFound("Sign-in with Google is not set up on this server (GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET).")


def _start(request: Request[Any, Any, Any], container: ContainerDep, scopes: tuple[str, ...], target: str) -> Redirect:
    _require_configured(container)
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    pending = {"state": state, "verifier": verifier, "next": safe_next(target), "until": time.time() + PENDING_SECONDS}
    url = container.google.authorization_url(
        redirect_uri=redirect_uri(request, container),
        state=state,
        code_challenge=create_s256_code_challenge(verifier),
        scopes=scopes,
        prompt="consent",  # a refresh token every time, also for an account that consented before
    )
    sealed = _cipher(container).encrypt(json.dumps(pending))
    cookie = Cookie(
        key=PENDING_COOKIE,
        value=sealed,
        path=CALLBACK,
        max_age=PENDING_SECONDS,
        httponly=True,
        samesite="lax",  # Google's redirect back is a top-level navigation: lax cookies go with it
        secure=container.settings.secure_cookies,
    )
    return Redirect(url, cookies=[cookie])


def _cipher(container: ContainerDep) -> TokenCipher:
    return TokenCipher(container.settings.secret_key, purpose="google-sign-in-under-way")


def _pending(request: Request[Any, Any, Any], container: ContainerDep) -> dict[str, Any] | None:
    """What `_start` sealed for this browser, or None: missing, altered, sealed with another key, or too old."""
    try:
        pending = json.loads(_cipher(container).decrypt(request.cookies.get(PENDING_COOKIE, "")))
    except ValueError:
        return None
    return pending if isinstance(pending, dict) and float(pending.get("until", 0)) > time.time() else None


@get("/auth/google/login", include_in_schema=False)
async def google_login(request: Request[Any, Any, Any], container: ContainerDep, next: str | None = None) -> Redirect:
    return _start(request, container, SIGN_IN_SCOPES, next or "/")


@get("/auth/google/connect", guards=[requires_page_user], include_in_schema=False)
async def google_connect(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    albums: bool = False,
    drive: bool = False,
    next: str | None = None,
) -> Redirect:
    """Connect (or reconnect) Google; albums and Drive are asked for only when first needed (incremental). The
    first time, for an account with a password, after the password is given again in this browser."""
    if accounts.must_confirm_password(caller(request), password_given_at(request), container.clock()):
        return Redirect("/settings/confirm?" + urlencode({"next": str(request.url.path) + _query(request)}))
    scopes = (*SIGN_IN_SCOPES, *((APPEND_SCOPE,) if albums else ()), *((DRIVE_SCOPE,) if drive else ()))
    return _start(request, container, scopes, next or "/settings")


def _query(request: Request[Any, Any, Any]) -> str:
    return f"?{request.url.query}" if request.url.query else ""


@get(CALLBACK, include_in_schema=False)
async def google_callback(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    code: str | None = None,
    oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,  # "state" is a reserved name here
    error: str | None = None,
) -> Redirect | Template:
    response = await _callback(request, container, code, oauth_state, error)
    response.delete_cookie(PENDING_COOKIE, path=CALLBACK)  # used once, whatever came of it
    return response


async def _callback(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    code: str | None,
    oauth_state: str | None,
    error: str | None,
) -> Redirect | Template:
    pending = _pending(request, container)
    if not pending or not oauth_state or not secrets.compare_digest(str(pending.get("state")), oauth_state):
        return _failed("This sign-in link is stale or was not started here. Try again.", 400)
    if error or not code:
        return _failed("Google sign-in was cancelled." if error == "access_denied" else f"Google said: {error}.", 400)
    signed_in = request.scope.get("user") if isinstance(request.scope.get("user"), User) else None
    try:
        user = await google_account.complete_sign_in(
            code,
            redirect_uri(request, container),
            pending["verifier"],
            signed_in=signed_in,
            google=container.google,
            uow=container.uow,
            now=container.clock(),
            allowed=container.settings.allowed_emails,
        )
    except (Conflict, InvalidInput) as exc:
        return _failed(exc.detail, 409)
    except Forbidden as exc:
        return _failed(exc.detail, 403)
    except InvalidGrant:
        return _failed("Google did not accept this sign-in (the code expired or was used). Try again.", 400)
    except GoogleFailure as exc:
        return _failed(exc.detail, 502)
    if signed_in is None or signed_in.id != user.id:
        sign_in(request, user)
    if signed_in is None or signed_in.google_sub == user.google_sub:  # the account's own Google, not one linked now
        mark_google_sign_in(request, container.clock())
    await google_photos.resume_paused(user.id, uow=container.uow, queue=container.queue, now=container.clock())
    return Redirect(pending.get("next") or "/")


def _failed(detail: str, status: int) -> Template:
    return Template("error.html", context={"status_code": status, "detail": detail}, status_code=status)


@post("/auth/google/disconnect", guards=[requires_page_user], include_in_schema=False, status_code=303)
async def google_disconnect(request: Request[Any, Any, Any], container: ContainerDep) -> Redirect:
    await google_account.disconnect(caller(request).id, google=container.google, uow=container.uow)
    return Redirect("/settings", status_code=303)


@post(
    "/api/v1/auth/token",
    tags=["auth"],
    status_code=200,
    summary="Exchange a Google authorization code",
    responses=errors(403, 404, 409, 422, 429, 502),
)
async def exchange_google_code(data: CodeExchange, container: ContainerDep) -> Tokens:
    _require_configured(container)
    try:
        user = await google_account.complete_sign_in(
            data.code,
            data.redirect_uri,
            data.code_verifier or "",
            signed_in=None,
            google=container.google,
            uow=container.uow,
            now=container.clock(),
            allowed=container.settings.allowed_emails,
        )
    except InvalidGrant:
        raise InvalidInput("Google did not accept this code: it is malformed, expired or was used already.") from None
    await google_photos.resume_paused(user.id, uow=container.uow, queue=container.queue, now=container.clock())
    pair = await accounts.start_api_session(user, uow=container.uow, tokens=container.tokens, now=container.clock())
    return Tokens(pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in)


HANDLERS = [google_login, google_connect, google_callback, google_disconnect, exchange_google_code]
