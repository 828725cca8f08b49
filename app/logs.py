"""Structured JSON logs with a request id on every line; secrets and tokens are masked before output."""

from __future__ import annotations

import logging
import re
import sys
import uuid
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

SECRET_KEYS = re.compile(
    r"pass|secret|token|authorization|cookie|api_key|apikey|code_verifier|refresh|rlkey|resource_?key", re.I
)
BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
JWT_LIKE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")
# a link's or address's keys: a Dropbox folder link's rlkey reads the folder (httpcore's DEBUG lines carry the
# dropbox-api-result header, which holds it), a Drive link's resourcekey, the server's Google API key
LINK_KEY = re.compile(r"(?i)(?<![a-z0-9])((?:rlkey|resourcekey|key|access_token|code|client_secret)=)[^&\s\"'\\,;)]+")

log = structlog.get_logger("classify")


def _mask(value: Any) -> Any:
    if isinstance(value, str):
        return LINK_KEY.sub(r"\1*****", JWT_LIKE.sub("*****", BEARER.sub(r"\1*****", value)))
    if isinstance(value, dict):
        return {k: "*****" if SECRET_KEYS.search(str(k)) else _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(v) for v in value)
    return value


def redact_secrets(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return {k: "*****" if SECRET_KEYS.search(k) and k != "event" else _mask(v) for k, v in event.items()}


def configure_logging(level: str = "INFO") -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic", "arq"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # Our own access line (with the request id) replaces uvicorn's; httpx would log every outgoing URL.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # the openai SDK's copy of httpx
    # The database layers log every statement with its parameters (password hashes, sealed tokens): aiosqlite
    # at DEBUG, SQLAlchemy's engine at INFO.
    for name in ("aiosqlite", "asyncpg", "sqlalchemy.engine"):
        logging.getLogger(name).setLevel(logging.WARNING)


class RequestIdMiddleware:
    """Gives each request an id (or keeps a sane incoming X-Request-ID), binds it to every log line,
    returns it in the response, and writes one access line when the response starts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if re.fullmatch(r"[A-Za-z0-9._-]{8,64}", incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                if not scope["path"].startswith(("/static/", "/health", "/metrics")):
                    log.info("request", method=scope["method"], path=scope["path"], status=message["status"])
            await send(message)

        await self.app(scope, receive, send_with_id)
