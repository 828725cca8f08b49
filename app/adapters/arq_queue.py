"""The task queue on Redis: arq runs the same task functions as the in-process queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arq.connections import ArqRedis

# arq (with redis) is imported where it is used: a server without REDIS_URL never loads it (~12 MB).


class ArqQueue:
    def __init__(self, redis_url: str) -> None:
        from arq.connections import RedisSettings

        self.redis_settings = RedisSettings.from_dsn(redis_url)
        self._pool: ArqRedis | None = None

    async def pool(self) -> ArqRedis:
        from arq import create_pool

        if self._pool is None:  # created on the loop that first uses it
            self._pool = await create_pool(self.redis_settings)
        return self._pool

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        # arq refuses an id that is already queued or running: that is our de-duplication.
        await (await self.pool()).enqueue_job(name, *args, _job_id=job_id)

    async def backlog_size(self) -> int:
        return int(await (await self.pool()).zcard("arq:queue"))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
