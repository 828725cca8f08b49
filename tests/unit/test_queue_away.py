"""A Redis that failed to answer is not asked again for a few seconds, and is asked again after them."""

from __future__ import annotations

import pytest

from app.adapters import arq_queue
from app.adapters.arq_queue import ArqQueue, QueueAway


async def test_redis_is_left_alone_for_a_moment_then_asked_again(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(arq_queue.time, "monotonic", lambda: now[0])
    queue = ArqQueue("redis://127.0.0.1:1/0")  # nothing listens: only the pool's making is asked here
    assert await queue.pool() is not None
    queue.unreachable()
    with pytest.raises(QueueAway):
        await queue.pool()
    now[0] += arq_queue.AWAY_SECONDS - 0.1
    queue.unreachable()  # refused meanwhile: the wait does not grow
    with pytest.raises(QueueAway):
        await queue.pool()
    now[0] += 0.2
    assert await queue.pool() is not None  # asked again
    await queue.close()


async def test_an_error_redis_answers_with_does_not_send_it_away():
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import ResponseError

    queue = ArqQueue("redis://127.0.0.1:1/0")

    async def wrong_type(redis):
        raise ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    async def gone(redis):
        raise RedisConnectionError("Connection refused")

    with pytest.raises(ResponseError):
        await queue._asked(wrong_type)
    assert await queue.pool() is not None
    with pytest.raises(RedisConnectionError):
        await queue._asked(gone)
    with pytest.raises(QueueAway):
        await queue.pool()
    await queue.close()
