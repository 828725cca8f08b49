"""POST /api/v1/auth/login, /refresh, /logout, /logout-everywhere, /password, GET and DELETE /me: bearer tokens
for API clients."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post

from app.domain.errors import RefreshTokenReused
from app.domain.model import User
from app.domain.services import accounts
from app.logs import log
from app.routes.deps import ContainerDep, caller, client_address, password_checks
from app.routes.openapi_docs import errors
from app.routes.schemas import (
    AccountDeletion,
    LoginBody,
    Me,
    PasswordChange,
    RefreshBody,
    SignedOutEverywhere,
    Tokens,
)
from app.routes.security import BEARER, requires_api_user


def _tokens(pair: accounts.TokenPair) -> Tokens:
    return Tokens(pair.access_token, pair.refresh_token, pair.token_type, pair.expires_in)


def me_of(user: User) -> Me:
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        picture_url=user.picture_url,
        blur_threshold=user.blur_threshold,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        google_connected=user.google_sub is not None,
    )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", status_code=200, summary="Sign in with email and password", responses=errors(429))
    async def login(self, request: Request[Any, Any, Any], data: LoginBody, container: ContainerDep) -> Tokens:
        now = container.clock()
        user = await accounts.authenticate(
            data.email,
            data.password,
            **password_checks(request, container),
            account_throttle=container.account_logins,
        )
        return _tokens(await accounts.start_api_session(user, uow=container.uow, tokens=container.tokens, now=now))

    @post("/refresh", status_code=200, summary="Swap a refresh token for a new token pair", responses=errors())
    async def refresh(self, request: Request[Any, Any, Any], data: RefreshBody, container: ContainerDep) -> Tokens:
        try:
            pair = await accounts.refresh_api_session(
                data.refresh_token, uow=container.uow, tokens=container.tokens, now=container.clock()
            )
        except RefreshTokenReused:
            log.warning("a refresh token was used twice: its sign-in is ended", client=client_address(request))
            raise
        return _tokens(pair)

    @get("/me", guards=[requires_api_user], security=BEARER, summary="The signed-in account", responses=errors())
    async def me(self, request: Request[Any, Any, Any]) -> Me:
        return me_of(caller(request))

    @post(
        "/logout",
        guards=[requires_api_user],
        security=BEARER,
        status_code=200,
        summary="End this sign-in",
        responses=errors(),
    )
    async def logout(self, request: Request[Any, Any, Any], container: ContainerDep) -> dict[str, str]:
        await accounts.end_api_session(request.auth["session_id"], uow=container.uow, now=container.clock())
        return {"status": "signed_out"}

    @post(
        "/logout-everywhere",
        guards=[requires_api_user],
        security=BEARER,
        status_code=200,
        summary="End every sign-in of the account, this one included",
        responses=errors(),
    )
    async def logout_everywhere(self, request: Request[Any, Any, Any], container: ContainerDep) -> SignedOutEverywhere:
        """For a lost phone or a leaked token: every API sign-in of the account ends (their refresh tokens
        stop working) and so does every browser's. The password stays; sign in again to go on."""
        user, ended = await accounts.sign_out_everywhere(caller(request).id, uow=container.uow, now=container.clock())
        log.info("signed out everywhere", user_id=str(user.id), api_sign_ins_ended=ended)
        return SignedOutEverywhere(status="signed_out", api_sign_ins_ended=ended)

    @post(
        "/password",
        guards=[requires_api_user],
        security=BEARER,
        status_code=204,
        summary="Change the password; every other sign-in ends",
        responses=errors(409, 422, 429),
    )
    async def change_password(
        self, request: Request[Any, Any, Any], data: PasswordChange, container: ContainerDep
    ) -> None:
        """Needs the current password. This sign-in goes on; the account's other API sign-ins and browser
        sessions end. 409 for an account that signs in with Google only (it has no password)."""
        await accounts.change_password(
            caller(request),
            data.current_password,
            data.new_password,
            **password_checks(request, container),
            keep_session=request.auth["session_id"],
        )

    @delete(
        "/me",
        guards=[requires_api_user],
        security=BEARER,
        status_code=204,
        summary="Delete the account and everything Classify keeps of it",
        responses=errors(422, 429),
    )
    async def delete_me(self, request: Request[Any, Any, Any], data: AccountDeletion, container: ContainerDep) -> None:
        """`confirm` is the account's password, or its email address for an account that signs in with Google
        only. Its photos (files too), jobs, sign-ins and Google tokens go; nothing is deleted at any source."""
        await accounts.delete_account(
            caller(request),
            data.confirm,
            storage=container.storage,
            google=container.google,
            **password_checks(request, container),
        )
        log.info("account deleted", user_id=str(caller(request).id))


HANDLERS = [AuthController]
