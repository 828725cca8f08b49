"""The task queue on Redis: arq runs the same task functions as the in-process queue."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from app.logs import log

if TYPE_CHECKING:
    from arq.connections import ArqRedis

# arq (with redis) is imported where it is used: a server without REDIS_URL never loads it (~12 MB).
QUEUE = "arq:queue"  # arq's default queue name, which the workers poll
WORKER_REPORT_SECONDS = 30  # app/jobs/worker.py's health_check_interval
T = TypeVar("T")


CONNECT_SECONDS = 2.0
ANSWER_SECONDS = 2.0  # a Redis that takes the connection but does not answer (stopped, overloaded, cut off)
# After Redis failed to answer, calls fail at once for this long rather than each waiting ANSWER_SECONDS: an
# upload of 50 photos queues 50 tasks, and waited 2 s for each (100 s) on a stopped Redis.
AWAY_SECONDS = 5.0


class QueueAway(ConnectionError):
    """Redis failed to answer a moment ago; not asked again yet."""


class ArqQueue:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._pool: ArqRedis | None = None
        self._away_until = 0.0

    def unreachable(self) -> None:
        """Redis failed to answer: every call fails at once for AWAY_SECONDS. A call refused meanwhile does
        not make the wait longer, or a steady flow of requests would never let Redis be asked again."""
        now = time.monotonic()
        if now >= self._away_until:
            self._away_until = now + AWAY_SECONDS

    async def pool(self) -> ArqRedis:
        """The connection pool, made on the loop that first uses it; QueueAway while Redis is away.

        Not arq's create_pool: it retries a refused connection five times, and gives connections no time limit
        for an answer, so a request that queues work, a sign-in (its failures are counted here) or the health
        check waited for as long as a stopped Redis stayed stopped. Connections are made when first used.
        """
        from arq.connections import ArqRedis

        if time.monotonic() < self._away_until:
            raise QueueAway("Redis did not answer a moment ago")
        if self._pool is None:
            self._pool = ArqRedis.from_url(
                self.redis_url, socket_connect_timeout=CONNECT_SECONDS, socket_timeout=ANSWER_SECONDS
            )
        return self._pool

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        """Queue a task; with Redis down, say so in the log and go on.

        What a task does is recorded in the database first (a photo to score, a job's items), and the periodic
        sweep queues whatever the database says is undone, so the work starts within minutes of Redis coming
        back. Raising here would answer 500 to an upload or a batch that was stored and will be done.
        """
        from redis.exceptions import RedisError

        try:
            # arq refuses an id that is already queued or running: that is our de-duplication.
            await self._asked(lambda redis: redis.enqueue_job(name, *args, _job_id=job_id))
        except QueueAway:
            log.debug("queue away; the sweep queues the task when it answers", task=name)
        except (RedisError, OSError) as exc:
            log.warning("queue unreachable; the sweep queues the task when it answers", task=name, error=str(exc))

    async def _asked(self, call: Callable[[ArqRedis], Awaitable[T]]) -> T:
        """`call` on the pool; a failure to answer marks Redis away (an error it answers with does not)."""
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeout

        redis = await self.pool()
        try:
            return await call(redis)
        except (RedisConnectionError, RedisTimeout, OSError):  # not there, or not answering
            self.unreachable()
            raise

    async def backlog_size(self) -> int:
        return int(await self._asked(lambda redis: redis.zcard(QUEUE)))

    async def worker_report(self) -> str | None:
        """What the last worker to poll the queue said of itself (arq writes it every WORKER_REPORT_SECONDS,
        to expire a second later), or None when no worker has reported for that long."""
        from arq.constants import health_check_key_suffix

        report = await self._asked(lambda redis: redis.get(QUEUE + health_check_key_suffix))
        return report.decode() if isinstance(report, bytes) else report

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
