"""Refuse a NUL character in a request's path, query or text body before it reaches a handler.

PostgreSQL text cannot hold U+0000 and no name, id, search or field we accept ever contains one, so
such a request is a bad request, answered like any other (JSON on the API), never a database error.
JSON and form bodies are checked as they stream in; multipart bodies are not (photo bytes hold NULs),
and the names they carry are cleaned where a photo is stored."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

NUL_DETAIL = "The request contains a NUL character, which no Classify path, parameter or field accepts."
# \u0000 in JSON unless its backslash is itself escaped; %00 in a form body
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
FORM_NUL = re.compile(rb"%00")
OVERLAP = 16  # bytes kept from the previous chunk, so a pattern split across chunks is still seen


class NulGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            raise ClientException(NUL_DETAIL)
        pattern = _body_pattern(scope)
        await self.app(scope, _checked(receive, pattern) if pattern else receive, send)


def _body_pattern(scope: Scope) -> re.Pattern[bytes] | None:
    content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
    if b"json" in content_type:
        return JSON_NUL
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return FORM_NUL
    return None


def _checked(receive: Receive, pattern: re.Pattern[bytes]) -> Receive:
    tail = b""

    async def receive_checked() -> Message:
        nonlocal tail
        message = await receive()
        if message["type"] == "http.request":
            window = tail + message.get("body", b"")
            if b"\x00" in window or pattern.search(window):
                raise ClientException(NUL_DETAIL)
            tail = window[-OVERLAP:]
        return message

    return receive_checked
