"""The task queue on Redis: arq runs the same task functions as the in-process queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.logs import log

if TYPE_CHECKING:
    from arq.connections import ArqRedis

# arq (with redis) is imported where it is used: a server without REDIS_URL never loads it (~12 MB).
QUEUE = "arq:queue"  # arq's default queue name, which the workers poll
WORKER_REPORT_SECONDS = 30  # app/jobs/worker.py's health_check_interval


CONNECT_SECONDS = 2.0
ANSWER_SECONDS = 2.0  # a Redis that takes the connection but does not answer (stopped, overloaded, cut off)


class ArqQueue:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self._pool: ArqRedis | None = None

    async def pool(self) -> ArqRedis:
        """The connection pool, made on the loop that first uses it.

        Not arq's create_pool: it retries a refused connection five times, and gives connections no time limit
        for an answer, so a request that queues work, a sign-in (its failures are counted here) or the health
        check waited for as long as a stopped Redis stayed stopped. Connections are made when first used.
        """
        from arq.connections import ArqRedis

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
            await (await self.pool()).enqueue_job(name, *args, _job_id=job_id)
        except (RedisError, OSError) as exc:
            log.warning("queue unreachable; the sweep queues the task when it answers", task=name, error=str(exc))

    async def backlog_size(self) -> int:
        return int(await (await self.pool()).zcard(QUEUE))

    async def worker_report(self) -> str | None:
        """What the last worker to poll the queue said of itself (arq writes it every WORKER_REPORT_SECONDS,
        to expire a second later), or None when no worker has reported for that long."""
        from arq.constants import health_check_key_suffix

        report = await (await self.pool()).get(QUEUE + health_check_key_suffix)
        return report.decode() if isinstance(report, bytes) else report

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
