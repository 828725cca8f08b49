"""The task queue on Redis: arq runs the same task functions as the in-process queue."""

from __future__ import annotations

from typing import Any

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings


class ArqQueue:
    def __init__(self, redis_url: str) -> None:
        self.redis_settings = RedisSettings.from_dsn(redis_url)
        self._pool: ArqRedis | None = None

    async def pool(self) -> ArqRedis:
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
