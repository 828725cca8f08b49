"""A service's answer that never came whole, or came in a shape its contract does not have.

Both are the service unavailable for now, in the service's own failure type: a job backs off and tries
again, then gives up with words a person can read. Left alone they were unexpected errors, and a task that
crashed on them was queued again by every sweep, its job "running" for good.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import httpx

from app.logs import log

P = ParamSpec("P")
T = TypeVar("T")
# What reading a body that is not the documented JSON raises: not JSON at all, a key missing, a list for a dict.
MISSHAPEN = (ValueError, KeyError, TypeError, AttributeError)


def unavailable_when_unanswered(
    service: str, unavailable: Callable[[int, str], Exception]
) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Decorate an adapter's calls: `unavailable(status, detail)` is raised for a transport failure (503) or
    a misshapen answer (502)."""

    def decorate(call: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(call)
        async def answered(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await call(*args, **kwargs)
            except httpx.TransportError as exc:
                detail = f"{service} cannot be reached right now ({type(exc).__name__}); trying again later."
                raise unavailable(503, detail) from None
            except MISSHAPEN as exc:
                log.warning(
                    "misshapen answer", service=service, call=call.__name__, error=f"{type(exc).__name__}: {exc}"[:300]
                )
                detail = f"{service} sent an answer Classify cannot read; trying again later."
                raise unavailable(502, detail) from None

        return answered

    return decorate
