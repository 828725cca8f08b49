"""A dependency's check for the System page, its answer kept a while.

/health/services needs no sign-in: without the keeping, anyone could make this server call Google, Dropbox or
the AI provider with its credentials as often as they liked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

KEEP_SECONDS = 60.0


class KeptCheck:
    """Calls `check` at most once every KEEP_SECONDS, and answers with what it said (or raises what it raised,
    as a RuntimeError in words) in between."""

    def __init__(self, check: Callable[[], Awaitable[str]]) -> None:
        self._check = check
        self._kept: tuple[float, str | None, str | None] | None = None  # (when, answer, error)
        self._checking = asyncio.Lock()

    async def __call__(self) -> str:
        async with self._checking:
            if self._kept is None or time.monotonic() - self._kept[0] >= KEEP_SECONDS:
                try:
                    self._kept = (time.monotonic(), await self._check(), None)
                except Exception as exc:
                    self._kept = (time.monotonic(), None, str(exc) or type(exc).__name__)
        _, answer, error = self._kept
        if error is not None:
            raise RuntimeError(error)
        return answer or ""
