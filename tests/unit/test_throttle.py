"""The sign-in throttle: five failures in fifteen minutes make that (email, client) wait, then they age out."""

import datetime as dt

from app.domain import throttle as module
from app.domain.throttle import MAX_TRACKED, LoginThrottle

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


async def test_the_sixth_try_waits_until_the_oldest_failure_is_fifteen_minutes_old():
    limiter = LoginThrottle()
    for minute in range(5):
        assert await limiter.wait_seconds("a|1", T0 + dt.timedelta(minutes=minute)) == 0
        await limiter.failed("a|1", T0 + dt.timedelta(minutes=minute))
    assert await limiter.wait_seconds("a|1", T0 + dt.timedelta(minutes=5)) == 10 * 60
    assert await limiter.wait_seconds("a|2", T0 + dt.timedelta(minutes=5)) == 0  # another client
    assert await limiter.wait_seconds("a|1", T0 + dt.timedelta(minutes=15, seconds=1)) == 0  # one has aged out


async def test_a_success_clears_the_count_and_memory_stays_bounded(monkeypatch):
    limiter = LoginThrottle()
    for _ in range(4):
        await limiter.failed("a|1", T0)
    await limiter.succeeded("a|1")
    await limiter.failed("a|1", T0)
    assert await limiter.wait_seconds("a|1", T0) == 0
    monkeypatch.setattr(module, "MAX_TRACKED", 3)
    for n in range(10):
        await limiter.failed(f"k{n}|x", T0)
    assert len(limiter._failures) == 3


async def test_without_redis_sign_in_is_not_blocked_and_failures_are_counted_in_the_process():
    import redis.asyncio

    from app.adapters.login_attempts import RedisLoginAttempts

    unreachable = redis.asyncio.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)

    async def connect():
        return unreachable

    limiter = RedisLoginAttempts(connect)
    await limiter.failed("a|1", T0)
    assert await limiter.wait_seconds("a|1", T0) == 0  # not blocked on Redis being away
    for _ in range(4):  # a guesser still meets the limit: this process counts while Redis is away
        await limiter.failed("a|1", T0)
    assert await limiter.wait_seconds("a|1", T0) == 15 * 60
    assert await limiter.wait_seconds("b|1", T0) == 0  # only that email and client
    await limiter.succeeded("a|1")
    assert await limiter.wait_seconds("a|1", T0) == 0
    await unreachable.aclose()


async def test_a_flood_of_other_keys_does_not_free_a_held_one() -> None:
    """The oldest key was forgotten first: failing on 10,000 made-up addresses freed the account under guess."""
    limiter = LoginThrottle(limit=3)
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    for _ in range(3):
        await limiter.failed("owner@example.com|every client", now)
    for i in range(MAX_TRACKED + 5):
        await limiter.failed(f"made-up-{i}@example.com|1.2.3.4", now)
    assert await limiter.wait_seconds("owner@example.com|every client", now) > 0
