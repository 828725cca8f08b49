"""ASGI plumbing for the Google fake: a parsed request, a response, and Google's two error shapes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

# google.rpc.Code names per HTTP status (CONTRACTS.md §8).
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
    "other valid authentication credential.",
    403: "Request had insufficient authentication scopes.",
    404: "Requested entity was not found.",
    429: "Quota exceeded.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


@dataclass
class Request:
    method: str
    path: str
    query_string: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.query_string, keep_blank_values=True).items()}

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def form(self) -> dict[str, str] | None:
        if self.content_type != "application/x-www-form-urlencoded":
            return None
        text = self.body.decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def bearer(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        headers = dict(self.headers)
        if self.content_type:
            headers["content-type"] = self.content_type
        headers["content-length"] = str(len(self.body))
        return [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, json.dumps(data).encode(), headers=headers or {})


def html_response(html: str, status: int = 200) -> Response:
    return Response(status, html.encode(), "text/html; charset=utf-8")


def redirect(location: str) -> Response:
    return Response(302, b"", None, {"location": location})


def google_error(
    status: int, message: str | None = None, *, rpc_status: str | None = None, retry_after: float | None = None
) -> Response:
    """The googleapis.com error JSON (google.rpc.Status), CONTRACTS.md §8."""
    name = rpc_status or STATUS_NAMES.get(status, "UNKNOWN")
    error: dict[str, Any] = {"code": status, "message": message or DEFAULT_MESSAGES.get(status, name), "status": name}
    headers: dict[str, str] = {}
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        error["details"] = [_info("CREDENTIALS_MISSING")]
    elif status == 403 and message is None:
        headers["www-authenticate"] = 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"'
        error["details"] = [_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT")]
    elif status == 429:
        error["details"] = [_info("RATE_LIMIT_EXCEEDED")]
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    return json_response({"error": error}, status, headers)


def _info(reason: str) -> dict[str, Any]:
    return {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com"}


def oauth_error(error: str, description: str, status: int = 400, retry_after: float | None = None) -> Response:
    """RFC 6749 error JSON, as the token and revoke endpoints send it (CONTRACTS.md §2.3)."""
    headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
    return json_response({"error": error, "error_description": description}, status, headers)


async def read_request(scope: dict[str, Any], receive: Any) -> Request:
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    return Request(scope["method"], scope["path"], scope["query_string"].decode("latin-1"), headers, bytes(body))


async def send_response(send: Any, response: Response) -> None:
    await send({"type": "http.response.start", "status": response.status, "headers": response.raw_headers()})
    await send({"type": "http.response.body", "body": response.body})
