"""Refuse a NUL character in a request's path, query or text body before it reaches a handler.

PostgreSQL text cannot hold U+0000 and no name, id, search or field we accept ever contains one, so
such a request is a bad request, answered like any other (JSON on the API), never a database error.
Bodies are checked as they stream in, whatever content type they claim: Litestar decodes a handler's JSON
body under any of them. The one exception is the multipart body of a route that takes files
(`opt={TAKES_FILES: True}`): photo bytes hold NULs, and the names they carry are cleaned where a photo is
stored. A page form sent as multipart is checked like any other."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

NUL_DETAIL = "The request contains a NUL character, which no Classify path, parameter or field accepts."
TAKES_FILES = "takes_files"  # a route handler's opt: its multipart body carries files, NULs and all
# \u0000 in JSON unless its backslash is itself escaped; %00 in a form body
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
FORM_NUL = re.compile(rb"%00")
RAW_NUL = re.compile(rb"\x00")  # a multipart field's own bytes
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
    if content_type.startswith(b"multipart/"):
        handler = scope.get("route_handler")
        return None if handler is not None and handler.opt.get(TAKES_FILES) else RAW_NUL
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return FORM_NUL
    return JSON_NUL  # JSON, or text/plain or none at all: decoded as JSON all the same


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
