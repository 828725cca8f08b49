"""Reading a download without trusting its size: the body, cut off just past the limit."""

from __future__ import annotations

import httpx


async def read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    """At most max_bytes + 1 bytes: enough for the import to refuse the file with a 413, no need for the rest."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            break
    return b"".join(chunks)
