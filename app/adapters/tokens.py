"""Short-lived API access tokens: HS256 JWTs naming the user and the API session they belong to."""

from __future__ import annotations

import datetime as dt
import uuid

from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from app.domain.errors import NotAuthenticated

ALGORITHM = "HS256"  # the only algorithm accepted on read, so "alg: none" and key-confusion tokens fail


class JwtAccessTokens:
    def __init__(self, secret: str, lifetime_seconds: int = 900) -> None:
        self._secret = secret
        self.lifetime_seconds = lifetime_seconds

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID, now: dt.datetime) -> str:
        token = Token(
            sub=str(user_id),
            exp=now + dt.timedelta(seconds=self.lifetime_seconds),
            iat=now,
            jti=uuid.uuid4().hex,
            extras={"sid": str(session_id), "typ": "access"},
        )
        return token.encode(self._secret, ALGORITHM)

    def read(self, token: str) -> tuple[uuid.UUID, uuid.UUID]:
        try:
            decoded = Token.decode(token, self._secret, ALGORITHM, require_claims=["exp", "iat", "sub"])
            if decoded.extras.get("typ") != "access":
                raise NotAuthenticated("This is not an access token.")
            return uuid.UUID(decoded.sub), uuid.UUID(str(decoded.extras["sid"]))
        except (NotAuthorizedException, KeyError, ValueError):
            raise NotAuthenticated("The access token is invalid or has expired.") from None
