"""State objects of the Google fake (plain dataclasses, mutated under FakeGoogle.lock)."""

from __future__ import annotations

import functools
import io
import secrets
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

OPENID_SCOPES = {"openid", "email", "profile"}
SCOPE_ALIASES = {
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}
PICKER_SCOPE = "https://www.googleapis.com/auth/photospicker.mediaitems.readonly"
APPENDONLY_SCOPE = "https://www.googleapis.com/auth/photoslibrary.appendonly"
READONLY_APPCREATED_SCOPE = "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata"
EDIT_APPCREATED_SCOPE = "https://www.googleapis.com/auth/photoslibrary.edit.appcreateddata"


def new_id(prefix: str = "", nbytes: int = 18) -> str:
    return prefix + secrets.token_urlsafe(nbytes).replace("-", "x").replace("_", "y")


def canonical_scopes(scopes: set[str] | list[str] | str) -> set[str]:
    """email/profile and their userinfo.* URLs are the same scope; store the URL form (as Google answers)."""
    items = scopes.split() if isinstance(scopes, str) else scopes
    return {SCOPE_ALIASES.get(s, s) for s in items if s}


def rfc3339(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def duration(seconds: float) -> str:
    """A protobuf Duration string: "1s", "0.2s", "1799s"."""
    text = f"{max(0.0, seconds):.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


def image_size(data: bytes) -> tuple[int, int]:
    import pillow_heif

    pillow_heif.register_heif_opener()
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return (0, 0)


@dataclass
class GoogleUser:
    sub: str = "100000000000000000001"
    email: str = "alice@example.com"
    name: str = "Alice Example"
    picture: str = "https://lh3.googleusercontent.com/a/fake-alice"
    given_name: str | None = None
    family_name: str | None = None
    email_verified: bool = True
    hd: str | None = None

    def claims(self, scopes: set[str]) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.sub}
        if SCOPE_ALIASES["profile"] in scopes:
            given, _, family = self.name.partition(" ")
            claims |= {"name": self.name, "picture": self.picture}
            claims |= {"given_name": self.given_name or given, "family_name": self.family_name or family}
        if SCOPE_ALIASES["email"] in scopes:
            claims |= {"email": self.email, "email_verified": self.email_verified}
        if self.hd:
            claims["hd"] = self.hd
        return claims


@dataclass
class FakePhoto:
    """One item of the user's Google Photos library, as the Picker shows it."""

    id: str
    filename: str
    mime_type: str
    data: bytes
    create_time: datetime = field(default_factory=lambda: datetime(2024, 1, 1, 12, 0, tzinfo=UTC))
    camera_make: str | None = "Google"
    camera_model: str | None = "Pixel 8"
    width: int = 0  # 0: read from the bytes
    height: int = 0
    kind: str = "PHOTO"  # or "VIDEO": the Picker lets people pick videos too

    def __post_init__(self) -> None:
        if not self.width or not self.height:
            self.width, self.height = image_size(self.data)


@dataclass
class Authorization:
    """One /o/oauth2/v2/auth request, updated when its code is exchanged."""

    params: dict[str, str]
    client_id: str
    redirect_uri: str
    scopes: set[str]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None  # "S256" / "plain" / None (no PKCE)
    access_type: str
    prompt: str
    include_granted_scopes: bool
    nonce: str | None
    time: float
    user: GoogleUser | None = None
    outcome: str | None = None  # "allowed" / "denied" / None while the consent page is open
    code: str | None = None
    granted_scopes: set[str] = field(default_factory=set)
    exchanged: bool = False
    pkce_verified: bool | None = None  # True once a code_verifier matched at /token

    @property
    def pkce(self) -> bool:
        return self.code_challenge is not None


@dataclass
class Grant:
    """What a user granted this client: revoking any of its tokens revokes all of them."""

    user: GoogleUser
    client_id: str
    scopes: set[str] = field(default_factory=set)
    revoked: bool = False
    has_refresh_token: bool = False


@dataclass
class Token:
    value: str
    kind: str  # "access" / "refresh"
    grant: Grant
    scopes: set[str]
    expires_at: float | None = None  # None: no expiry (refresh tokens)

    def live(self, now: float) -> bool:
        return not self.grant.revoked and (self.expires_at is None or now < self.expires_at)


@dataclass
class PickingSession:
    id: str
    user: GoogleUser
    created: float
    expire_time: float
    max_item_count: str | None = None
    picked: list[str] | None = None  # item ids once mediaItemsSet
    deleted: bool = False


@dataclass
class BaseUrlGrant:
    item_id: str
    user_sub: str
    issued: float
    expired: bool = False


@dataclass
class Upload:
    token: str
    data: bytes
    content_type: str | None  # X-Goog-Upload-Content-Type as sent
    file_name: str | None  # X-Goog-Upload-File-Name as sent
    user_sub: str
    created: float
    used: bool = False


@dataclass
class LibraryItem:
    id: str
    filename: str
    mime_type: str
    data: bytes
    description: str | None
    upload_content_type: str | None
    width: int
    height: int
    creation_time: str


@dataclass
class FakeAlbum:
    id: str
    title: str
    owner_sub: str
    app_created: bool = True
    items: list[LibraryItem] = field(default_factory=list)

    @property
    def filenames(self) -> list[str]:
        return [item.filename for item in self.items]


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str] | None
    json: Any
    body_size: int
    bearer: str | None
    time: float  # the fake's clock
    status: int = 0  # the response's status, filled in after handling


def sample_library(count: int, *, heic_every: int = 5, size: tuple[int, int] = (320, 240)) -> list[FakePhoto]:
    """``count`` generated photos (every ``heic_every``-th one HEIC, the rest JPEG), with distinct bytes."""
    photos = []
    for i in range(count):
        is_heic = heic_every > 0 and i % heic_every == heic_every - 1
        tag = f"classify-fake-google photo {i}".encode()
        if is_heic:  # a top-level ISO-BMFF "free" box at the end makes the bytes distinct
            data = _picture(size, i % 7, heic=True) + struct.pack(">I", 8 + len(tag)) + b"free" + tag
        else:  # a JPEG comment segment right after SOI
            jpeg = _picture(size, i % 7, heic=False)
            data = jpeg[:2] + b"\xff\xfe" + struct.pack(">H", 2 + len(tag)) + tag + jpeg[2:]
        photos.append(
            FakePhoto(
                id=f"photo{i:04d}",
                filename=f"IMG_{i:04d}.{'HEIC' if is_heic else 'jpg'}",
                mime_type="image/heif" if is_heic else "image/jpeg",
                data=data,
                create_time=datetime(2024, 1, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=i),
                camera_make="Apple" if is_heic else "Google",
                camera_model="iPhone 15" if is_heic else "Pixel 8",
                width=size[0],
                height=size[1],
            )
        )
    return photos


@functools.lru_cache(maxsize=32)
def _picture(size: tuple[int, int], seed: int, *, heic: bool) -> bytes:
    import pillow_heif

    from tests import images

    pillow_heif.register_heif_opener()
    if heic:
        return images.encode(images.picture(*size, seed=seed), "HEIF", quality=60)
    return images.jpeg(*size, seed=seed, quality=70)
