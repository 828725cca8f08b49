"""Failed sign-ins counted in Redis, shared by every web process of a scaled-out deployment.

The same rule as the in-memory `LoginThrottle` (LIMIT failures within WINDOW make the key wait until the
oldest of them ages out), kept as one sorted set per key: member a unique id, score the failure's time.
Keys are hashed, so Redis holds no email addresses. If Redis cannot be reached, sign-in is not blocked
on it, and the failures are counted by this process alone meanwhile (a guesser gets the limit once per web
process, not without end); the outage is logged, and the queue, which needs Redis too, reports it on /health.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from app.domain.services.accounts import looks_like_email
from app.domain.throttle import LIMIT, WINDOW, LoginThrottle

log = structlog.get_logger("classify.logins")
PREFIX = "classify:login-failures:"


class RedisLoginAttempts:
    def __init__(
        self,
        connect: Callable[[], Awaitable[Any]],
        limit: int = LIMIT,
        window: dt.timedelta = WINDOW,
        away: Callable[[], None] = lambda: None,
    ) -> None:
        self.connect = connect  # the queue's Redis connection pool, made on first use
        self.away = away  # tells the queue Redis failed to answer, so the next calls do not wait on it again
        self.limit = limit
        self.window = window.total_seconds()
        self.fallback = LoginThrottle(limit, window)  # while Redis is away

    async def wait_seconds(self, key: str, now: dt.datetime) -> float:
        try:
            redis = await self.connect()
            name = _name(key)
            await redis.zremrangebyscore(name, "-inf", now.timestamp() - self.window)
            if await redis.zcard(name) < self.limit:
                return 0.0
            oldest = await redis.zrange(name, 0, 0, withscores=True)
        except (OSError, _redis_error()) as exc:
            self._unavailable(exc)
            return await self.fallback.wait_seconds(key, now)
        if not oldest:  # aged out in between
            return 0.0
        return max(1.0, oldest[0][1] + self.window - now.timestamp())

    async def failed(self, key: str, now: dt.datetime) -> None:
        try:
            redis = await self.connect()
            name = _name(key)
            async with redis.pipeline(transaction=True) as pipe:
                pipe.zadd(name, {uuid.uuid4().hex: now.timestamp()})
                pipe.expire(name, int(self.window) + 1)
                await pipe.execute()
        except (OSError, _redis_error()) as exc:
            self._unavailable(exc)
            await self.fallback.failed(key, now)

    def _unavailable(self, exc: Exception) -> None:
        self.away()
        log.warning("sign-in throttle unavailable; counting in this process", error=type(exc).__name__)

    async def succeeded(self, key: str) -> None:
        try:
            await (await self.connect()).delete(_name(key))
        except (OSError, _redis_error()) as exc:
            self._unavailable(exc)
        await self.fallback.succeeded(key)


def _name(key: str) -> str:
    return PREFIX + hashlib.sha256(key.encode()).hexdigest()


def _redis_error() -> type[Exception]:
    from redis.exceptions import RedisError  # only with REDIS_URL: redis is not loaded otherwise

    return RedisError


class LoggedLoginAttempts:
    """Failed sign-ins and the waits they lead to, in the log for whoever runs the server (a guesser at work
    shows as a run of these from one client), around the counting itself. The key is "email|client"."""

    def __init__(self, counted: Any, *, log_failures: bool = True) -> None:
        self.counted = counted
        self.log_failures = log_failures  # False for the count per email: the count per client logged each already

    async def wait_seconds(self, key: str, now: dt.datetime) -> float:
        wait = await self.counted.wait_seconds(key, now)
        if wait:
            log.warning("sign-in refused: too many failures", **_who(key), retry_after=round(wait))
        return wait

    async def failed(self, key: str, now: dt.datetime) -> None:
        if self.log_failures:
            log.warning("sign-in failed", **_who(key))
        await self.counted.failed(key, now)

    async def succeeded(self, key: str) -> None:
        await self.counted.succeeded(key)


def _who(key: str) -> dict[str, str]:
    email, _, client = key.rpartition("|")
    # what was typed in the email box is logged only when it is an address: it may be the password
    return {"email": email if looks_like_email(email) else "(not an email address)", "client": client}
