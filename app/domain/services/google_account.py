"""Signing in with Google, keeping its tokens fresh, and letting go of them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from app.domain.errors import Conflict, Forbidden
from app.domain.google import GoogleProfile, InvalidGrant, TokenSet, Unauthorized
from app.domain.model import User
from app.domain.ports import UowFactory

PROVIDER = "google"
REFRESH_MARGIN = dt.timedelta(seconds=120)  # refresh a little early so a call never starts with a dying token
T = TypeVar("T")


class NeedsReconnect(Exception):
    """Google no longer accepts this account's grant; the person has to connect Google again."""


class NotConnected(Conflict):
    """The person has not connected Google yet: a state to change, not bad input (409, as albums say)."""


class GoogleAuth(Protocol):
    async def exchange_code(self, code: str, redirect_uri: str, code_verifier: str, now: dt.datetime) -> TokenSet: ...
    async def refresh(self, refresh_token: str, now: dt.datetime) -> TokenSet: ...
    async def revoke(self, token: str) -> None: ...
    async def profile(self, access_token: str) -> GoogleProfile: ...


async def complete_sign_in(
    code: str,
    redirect_uri: str,
    code_verifier: str,
    *,
    signed_in: User | None,
    google: GoogleAuth,
    uow: UowFactory,
    now: dt.datetime,
    allowed: tuple[str, ...] = (),
) -> User:
    """Exchange the code; find, link or create the account it belongs to; keep the tokens (sealed). A new
    account is made only for an address `allowed` names (itself, or "@" and its domain), when it names any."""
    tokens = await google.exchange_code(code, redirect_uri, code_verifier, now)
    profile = await google.profile(tokens.access_token)
    async with uow() as tx:
        user = await tx.users.by_google_sub(profile.sub)
        if user is None and signed_in is not None:
            if signed_in.google_sub:  # a session (perhaps an old or stolen one) must not swap the account's Google
                raise Conflict(
                    "This account signs in with another Google account. Sign in to Google with that one, "
                    "then connect again."
                )
            await tx.users.link_google(signed_in.id, profile.sub, profile.name, profile.picture)
            user = signed_in
        elif user is None:
            if not profile.email_verified:  # an account here is its email: it must be the person's
                raise Conflict(
                    f"Google has not confirmed that {profile.email} belongs to this Google account, so Classify "
                    "cannot make an account for it. Confirm the address with Google, or sign in with a password."
                )
            if not may_sign_up(profile.email, allowed):
                raise Forbidden(
                    f"This Classify server does not make accounts for {profile.email}. Ask whoever runs it to add "
                    "your address, or sign in with an account you already have here."
                )
            if await tx.users.by_email(profile.email):
                raise Conflict(
                    f"An account for {profile.email} already exists. Sign in with its password, then connect Google."
                )
            user = await tx.users.add(profile.email, None, profile.name)
            await tx.users.link_google(user.id, profile.sub, profile.name, profile.picture)
        elif signed_in is not None and signed_in.id != user.id:
            raise Conflict("This Google account is already connected to another Classify account.")
        await tx.oauth.save(user.id, PROVIDER, tokens)
        await tx.users.touch_login(user.id, now)
        await tx.commit()
        user = await tx.users.get(user.id)
    assert user is not None
    return user


def may_sign_up(email: str, allowed: tuple[str, ...]) -> bool:
    domain = "@" + email.rpartition("@")[2]
    return not allowed or email in allowed or domain in allowed


async def access_token(
    user_id: uuid.UUID, *, google: GoogleAuth, uow: UowFactory, now: dt.datetime, force_refresh: bool = False
) -> str:
    async with uow() as tx:
        stored = await tx.oauth.get(user_id, PROVIDER)
    if stored is None:
        raise NotConnected("Connect Google first (Settings → Connect Google).")
    if stored.status == "reconnect":
        raise NeedsReconnect()
    fresh = stored.expires_at is not None and stored.expires_at - REFRESH_MARGIN > now
    if stored.access_token and fresh and not force_refresh:
        return stored.access_token
    if not stored.refresh_token:
        raise NeedsReconnect()
    try:
        tokens = await google.refresh(stored.refresh_token, now)
    except InvalidGrant:
        async with uow() as tx:
            await tx.oauth.set_status(user_id, PROVIDER, "reconnect")
            await tx.commit()
        raise NeedsReconnect() from None
    async with uow() as tx:
        await tx.oauth.save(user_id, PROVIDER, tokens)
        await tx.commit()
    return tokens.access_token


async def with_token(
    user_id: uuid.UUID,
    call: Callable[[str], Awaitable[T]],
    *,
    google: GoogleAuth,
    uow: UowFactory,
    now: dt.datetime,
) -> T:
    """Run `call(access_token)`; on a 401, refresh once and try once more, as Google asks."""
    token = await access_token(user_id, google=google, uow=uow, now=now)
    try:
        return await call(token)
    except Unauthorized:
        token = await access_token(user_id, google=google, uow=uow, now=now, force_refresh=True)
        return await call(token)


async def connection_state(user_id: uuid.UUID, *, uow: UowFactory) -> dict[str, Any]:
    async with uow() as tx:
        stored = await tx.oauth.get(user_id, PROVIDER)
    if stored is None:
        return {"connected": False, "status": "not_connected", "scope": ""}
    return {"connected": stored.status == "connected", "status": stored.status, "scope": stored.scope}


async def disconnect(user_id: uuid.UUID, *, google: GoogleAuth, uow: UowFactory) -> None:
    """Revoke the grant at Google, then forget the tokens (even if Google could not be reached)."""
    async with uow() as tx:
        stored = await tx.oauth.get(user_id, PROVIDER)
    if stored is None:
        return
    token = stored.refresh_token or stored.access_token
    try:
        if token:
            await google.revoke(token)
    finally:
        async with uow() as tx:
            await tx.oauth.delete(user_id, PROVIDER)
            await tx.commit()
