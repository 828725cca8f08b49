"""Shared bits of the controllers: the container, the caller, and small parsers."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.params import SkipValidation

from app.bootstrap import Container
from app.domain.errors import InvalidInput, NotFound
from app.domain.model import User

# The container holds engines and pools: injected as is, never validated or modelled by Litestar.
ContainerDep = SkipValidation[Container]


def provide_container(request: Request) -> Container:
    return request.app.state.container


def caller(request: Request[Any, Any, Any]) -> User:
    return request.scope["user"]  # guards have checked it is a User


def parse_uuid(value: str, what: str = "photo") -> uuid.UUID:
    """A malformed id is answered like an unknown one: 404, never a 500 or a validation essay."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"No such {what}.") from None


def parse_before(value: str | None) -> uuid.UUID | None:
    """The jobs list's `before`, a job's id that pages on: a malformed one is bad input (422), as a malformed
    cursor is; a well-formed one that is not yours is an unknown job (404, from the service)."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        raise InvalidInput("before is not a job's id; start again from the first page.") from None


def form_ids(values: Any) -> list[uuid.UUID]:
    """A page form's ids: a field sent once is a string, sent for each ticked photo a list. One that is not an
    id at all is bad input (422), not an unknown photo."""
    try:
        return [uuid.UUID(value) for value in ([values] if isinstance(values, str) else values or [])]
    except (TypeError, ValueError, AttributeError):
        raise InvalidInput("The form named something that is not a photo; reload the page and try again.") from None


def client_address(request: Request[Any, Any, Any]) -> str:
    """Who is asking, as far as this server can tell (behind a proxy: the proxy, unless uvicorn trusts it)."""
    return request.client.host if request.client else ""


def password_checks(request: Request[Any, Any, Any], container: Container) -> dict[str, Any]:
    """What the accounts service needs to check a password and count failed tries (sign-in, a password
    change, deleting the account), as keyword arguments."""
    return {
        "uow": container.uow,
        "passwords": container.passwords,
        "now": container.clock(),
        "throttle": container.logins,
        "client": client_address(request),
    }


def server_features(container: Container) -> dict[str, bool]:
    """What this server is set up for, so that pages offer only what can work here."""
    return {
        "google": container.google.configured,
        "drive": bool(container.drive.api_key) or container.google.configured,  # public folders, or one's own
        "dropbox": container.dropbox.configured,
        "ai": container.vision.configured,
        "folder_import": container.settings.import_root is not None,
    }
