"""Google in domain words: tokens, profiles, picked items, album results, and the failures that matter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

SIGN_IN_SCOPES = ("openid", "email", "profile", "https://www.googleapis.com/auth/photospicker.mediaitems.readonly")
PICKER_SCOPE = "https://www.googleapis.com/auth/photospicker.mediaitems.readonly"
APPEND_SCOPE = "https://www.googleapis.com/auth/photoslibrary.appendonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive.readonly"
MAX_BATCH_CREATE = 50  # Google's limit for mediaItems:batchCreate
PICKER_PAGE_SIZE = 100  # the Picker's largest page


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    expires_at: dt.datetime
    scope: str
    refresh_token: str | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scope.split()


@dataclass(frozen=True)
class GoogleProfile:
    sub: str
    email: str
    name: str | None
    picture: str | None
    email_verified: bool = False  # Google's word that the account holds this address


@dataclass(frozen=True)
class PickerSession:
    id: str
    picker_uri: str
    media_items_set: bool
    poll_interval_seconds: float
    expire_time: dt.datetime | None


@dataclass(frozen=True)
class PickedItem:
    id: str
    filename: str
    mime_type: str
    base_url: str
    create_time: dt.datetime | None
    kind: str = "PHOTO"  # the Picker's type: PHOTO, VIDEO, or TYPE_UNSPECIFIED


@dataclass(frozen=True)
class AlbumCreated:
    id: str
    product_url: str


@dataclass(frozen=True)
class ItemAdded:
    upload_token: str
    ok: bool
    message: str


class GoogleFailure(Exception):
    """Google answered something we cannot use; `detail` is fit to show."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class Unauthorized(GoogleFailure):
    """401: the access token is no longer accepted."""


class RateLimited(GoogleFailure):
    def __init__(self, status_code: int, detail: str, retry_after: str | None) -> None:
        super().__init__(status_code, detail)
        self.retry_after = retry_after


class ServiceUnavailable(GoogleFailure):
    """5xx: try again later."""


class BaseUrlExpired(GoogleFailure):
    """A picked item's download address has expired; list the session again for fresh ones."""


class SessionGone(GoogleFailure):
    """The picking session expired or was deleted: the person has to pick again."""


class InvalidGrant(Exception):
    """Google no longer honours the refresh token: the person has to reconnect."""


def parse_duration(value: str | None, default: float) -> float:
    """Google Duration strings like "5s" or "0.25s"."""
    if not value or not value.endswith("s"):
        return default
    try:
        return float(value[:-1])
    except ValueError:
        return default
