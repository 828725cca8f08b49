"""A dependency's check for the System page, its answer kept a while.

/health/services needs no sign-in: without the keeping, anyone could make this server call Google, Dropbox or
the AI provider with its credentials as often as they liked. A check that does not answer in time is kept as
such too, or a slow service would be asked again at every look.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

KEEP_SECONDS = 60.0
ANSWER_SECONDS = 2.5  # within the health report's own 3 s per check


@dataclass(frozen=True)
class CheckAnswer:
    ok: bool
    detail: str  # what the service said, or why it failed, in words
    latency_ms: float  # of the call that was kept, not of the look at the kept answer


class KeptCheck:
    """Calls `check` at most once every KEEP_SECONDS, and answers with what it said (or why it failed) in
    between."""

    def __init__(self, check: Callable[[], Awaitable[str]]) -> None:
        self._check = check
        self._kept: tuple[float, CheckAnswer] | None = None
        self._checking = asyncio.Lock()

    async def __call__(self) -> CheckAnswer:
        async with self._checking:
            if self._kept is None or time.monotonic() - self._kept[0] >= KEEP_SECONDS:
                self._kept = (time.monotonic(), await self._ask())
        return self._kept[1]

    async def _ask(self) -> CheckAnswer:
        start = time.perf_counter()
        try:
            ok, detail = True, await asyncio.wait_for(self._check(), ANSWER_SECONDS)
        except TimeoutError:
            ok, detail = False, f"no answer within {ANSWER_SECONDS:g} s"
        except Exception as exc:
            ok, detail = False, str(exc).strip() or type(exc).__name__
        return CheckAnswer(ok, detail[:300], round((time.perf_counter() - start) * 1000, 2))
