"""The ports: what the use cases need from the outside world, phrased in domain words."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from app.domain.categories import Category, CategoryCounts, Order
from app.domain.grouping import Shot, SimilarGroup
from app.domain.model import NO_FILTER, Job, NewPhoto, Photo, PhotoFilter, RemovedPhoto, User


@dataclass(frozen=True)
class ScoreOutcome:
    blur_score: float
    blur_kind: str
    details: dict[str, Any]
    processing_ms: float


@dataclass(frozen=True)
class PhotoPage:
    items: list[Photo]
    next_cursor: str | None


@dataclass(frozen=True)
class RemovedPage:
    items: list[RemovedPhoto]
    next_cursor: str | None


@dataclass(frozen=True)
class Restored:
    """What putting photos back did: those back in the library, and those left in the bin because the
    same picture (or the same item of its source) is in the library again."""

    photos: list[Photo]
    left: list[Photo]


@dataclass(frozen=True)
class StoredTokens:
    access_token: str | None
    refresh_token: str | None
    expires_at: dt.datetime | None
    scope: str
    status: str  # "connected" or "reconnect"


@dataclass(frozen=True)
class PickerRecord:
    session_id: str
    user_id: uuid.UUID
    picker_uri: str
    poll_interval: float
    job_id: uuid.UUID | None


@dataclass(frozen=True)
class AlbumRecord:
    title: str
    product_url: str
    photo_count: int
    created_at: dt.datetime


class PickerSessionRepository(Protocol):
    async def add(self, user_id: uuid.UUID, session_id: str, picker_uri: str, poll_interval: float) -> PickerRecord: ...
    async def get(self, user_id: uuid.UUID, session_id: str) -> PickerRecord | None: ...
    async def set_job(self, session_id: str, job_id: uuid.UUID) -> bool:
        """Give a session its import job; False if it has one already or was cancelled."""
        ...

    async def remove_unpicked(self, user_id: uuid.UUID, session_id: str) -> bool:
        """Forget a session that has no import job yet; False if it has one (or is not there)."""
        ...


class AlbumRepository(Protocol):
    async def add(self, user_id: uuid.UUID, google_album_id: str, title: str, product_url: str) -> None: ...
    async def set_count(self, google_album_id: str, photo_count: int) -> None: ...
    async def recent(self, user_id: uuid.UUID, limit: int = 10) -> list[AlbumRecord]: ...


class VisionRepository(Protocol):
    async def cached(self, sha256: str, model: str) -> Any: ...
    async def remember(self, sha256: str, model: str, result: Any, *, replace: bool = False) -> None: ...
    async def record_call(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> uuid.UUID: ...
    async def forget_call(self, call_id: uuid.UUID) -> None:
        """A call that did not happen after all (the model failed): it does not count."""

    async def calls_since(self, user_id: uuid.UUID, since: dt.datetime) -> int: ...
    async def describe_photo(self, photo_id: uuid.UUID, result: Any) -> None: ...
    async def set_monthly_limit(self, user_id: uuid.UUID, limit: int | None) -> None: ...


class OAuthTokenRepository(Protocol):
    async def get(self, user_id: uuid.UUID, provider: str) -> StoredTokens | None: ...
    async def save(self, user_id: uuid.UUID, provider: str, tokens: Any) -> None: ...
    async def set_status(self, user_id: uuid.UUID, provider: str, status: str) -> None: ...
    async def delete(self, user_id: uuid.UUID, provider: str) -> None: ...


class UserRepository(Protocol):
    async def get(self, user_id: uuid.UUID) -> User | None: ...
    async def by_email(self, email: str) -> User | None: ...
    async def hold(self, user_id: uuid.UUID) -> None:
        """Until this unit of work ends, other units that hold the same user wait (their writes are serialised)."""

    async def add(self, email: str, password_hash: str | None, name: str | None) -> User: ...
    async def count(self) -> int: ...
    async def hold_first_run(self) -> None:
        """Until this unit of work ends, other units that hold the first run wait: two first-run forms sent
        at once cannot both find no account."""

    async def set_threshold(self, user_id: uuid.UUID, threshold: float) -> None: ...
    async def set_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None: ...
    async def end_browser_sessions(self, user_id: uuid.UUID) -> None:
        """Every browser signed in to the account signs in again (its session_epoch goes up)."""

    async def lock(self, user_id: uuid.UUID) -> bool: ...
    async def delete(self, user_id: uuid.UUID) -> None:
        """The account and, with it, every row that is the account's (photos, jobs, sign-ins, tokens)."""

    async def touch_login(self, user_id: uuid.UUID, now: dt.datetime) -> None: ...
    async def by_google_sub(self, sub: str) -> User | None: ...
    async def link_google(self, user_id: uuid.UUID, sub: str, name: str | None, picture: str | None) -> None: ...


class ApiSessionRepository(Protocol):
    async def add(self, user_id: uuid.UUID, refresh_token_hash: str, expires_at: dt.datetime) -> uuid.UUID: ...
    async def by_refresh_hash(self, refresh_token_hash: str) -> tuple[uuid.UUID, uuid.UUID, dt.datetime] | None:
        """(session id, user id, expires_at) of a live session whose current refresh token this is."""

    async def rotate(self, session_id: uuid.UUID, refresh_token_hash: str, expires_at: dt.datetime) -> None: ...
    async def is_live(self, session_id: uuid.UUID, now: dt.datetime) -> bool: ...
    async def revoke(self, session_id: uuid.UUID, now: dt.datetime) -> None: ...
    async def revoke_all(self, user_id: uuid.UUID, now: dt.datetime, keep: uuid.UUID | None = None) -> int:
        """End every live session of the user but `keep`; how many ended."""

    async def count_live(self, user_id: uuid.UUID, now: dt.datetime) -> int: ...


class PhotoRepository(Protocol):
    async def get(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> Photo | None: ...
    async def get_any(self, photo_id: uuid.UUID) -> Photo | None: ...
    async def by_sha256(self, user_id: uuid.UUID, sha256: str) -> Photo | None: ...
    async def by_source_id(self, user_id: uuid.UUID, source: str, source_id: str) -> Photo | None: ...
    async def by_content_hash(self, user_id: uuid.UUID, content_hash: str) -> Photo | None: ...
    async def unhashed_of_size(self, user_id: uuid.UUID, size: int) -> list[Photo]:
        """The user's photos of `size` bytes whose content hash is not kept yet."""

    async def set_content_hash(self, photo_id: uuid.UUID, content_hash: str) -> None: ...
    async def storage_keys(self, user_id: uuid.UUID) -> list[str]:
        """The storage keys of the user's photos, in the library and in Recently removed."""

    async def is_kept(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> bool:
        """Whether the photo is the user's, in the library or in Recently removed (its files are wanted)."""

    async def add(self, photo: NewPhoto, score: ScoreOutcome | None = None, now: dt.datetime | None = None) -> Photo:
        """The new photo, scored at `now` when its score is already known."""

    async def owned(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of the ids that are photos of the user."""

    async def filenames(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The file names of those of the photos that are the user's."""

    async def set_marks(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID], marked_as: str | None) -> None:
        """The person's own call on the photos ("sharp" or "blurred"), or None to let the score decide."""

    async def page(
        self,
        user_id: uuid.UUID,
        category: Category,
        threshold: float,
        limit: int,
        cursor: str | None,
        only: PhotoFilter = NO_FILTER,
        order: Order = Order.NEWEST,
    ) -> PhotoPage: ...
    async def neighbours(
        self,
        user_id: uuid.UUID,
        photo: Photo,
        category: Category,
        threshold: float,
        order: Order = Order.NEWEST,
        only: PhotoFilter = NO_FILTER,
    ) -> tuple[uuid.UUID | None, uuid.UUID | None]: ...
    async def place(
        self,
        user_id: uuid.UUID,
        photo: Photo,
        category: Category,
        threshold: float,
        order: Order = Order.NEWEST,
        only: PhotoFilter = NO_FILTER,
    ) -> tuple[int, int] | None:
        """(place from 1, how many) of `photo` in `category`'s order, as filtered; None if it is not among them."""

    async def counts(
        self,
        user_id: uuid.UUID,
        threshold: float,
        only: PhotoFilter = NO_FILTER,
    ) -> CategoryCounts: ...
    async def scores(self, user_id: uuid.UUID) -> list[float]: ...
    async def marked_scores(self, user_id: uuid.UUID) -> list[tuple[float, bool]]:
        """(score, marked blurred) of each scored photo the person marked."""

    async def in_category(
        self,
        user_id: uuid.UUID,
        category: Category,
        threshold: float,
        only: PhotoFilter = NO_FILTER,
    ) -> list[Photo]:
        """The category's photos, oldest first."""

    async def calls_in_category(
        self, user_id: uuid.UUID, category: Category, threshold: float, only: PhotoFilter = NO_FILTER
    ) -> dict[uuid.UUID, tuple[float | None, str | None]]:
        """The category's photos as id -> (blur score, the person's mark): all a choice among them needs."""

    async def all_storage_keys(self) -> set[str]:
        """Every photo's storage key, of every account, in the library and in Recently removed."""

    async def unprocessed_ids(
        self, user_id: uuid.UUID | None = None, *, with_errors: bool = False
    ) -> list[uuid.UUID]: ...
    async def bytes_stored(self, user_id: uuid.UUID) -> int:
        """The bytes of the user's photos, in the library and in Recently removed: the quota counts both."""

    async def save_score(self, photo_id: uuid.UUID, outcome: ScoreOutcome, now: dt.datetime) -> None: ...
    async def save_error(self, photo_id: uuid.UUID, error: str) -> None: ...
    async def stats(self, user_id: uuid.UUID, since: dt.datetime) -> dict[str, float | int | None]: ...


class JobRepository(Protocol):
    async def add(
        self, user_id: uuid.UUID, kind: str, total: int, payload: dict[str, Any], item_keys: Sequence[str]
    ) -> Job: ...
    async def get(self, user_id: uuid.UUID, job_id: uuid.UUID) -> Job | None: ...
    async def get_any(self, job_id: uuid.UUID) -> Job | None: ...
    async def recent(self, user_id: uuid.UUID, limit: int, before: Job | None = None) -> list[Job]:
        """The user's jobs, newest first; with `before`, those started before that one."""

    async def pending_items(self, job_id: uuid.UUID) -> list[str]: ...
    async def waiting_for(self, item_key: str, kind: str) -> list[uuid.UUID]: ...
    async def is_pending(self, job_id: uuid.UUID, item_key: str) -> bool: ...
    async def failed_items(self, job_id: uuid.UUID, limit: int | None = None) -> list[tuple[str, str, str | None]]: ...
    async def count_failed_items(self, job_id: uuid.UUID) -> int: ...
    async def mark_item(
        self, job_id: uuid.UUID, item_key: str, status: str, error: str | None, now: dt.datetime
    ) -> Job | None: ...
    async def mark_items(
        self, job_id: uuid.UUID, item_keys: Sequence[str], status: str, error: str | None, now: dt.datetime
    ) -> Job | None: ...
    async def set_status(self, job_id: uuid.UUID, status: str, now: dt.datetime, error: str | None = None) -> Job: ...
    async def set_waiting(self, job_id: uuid.UUID, until: dt.datetime, reason: str) -> None: ...
    async def requeue_failed(self, job_id: uuid.UUID) -> int: ...
    async def unfinished(self) -> list[Job]: ...
    async def set_items(self, job_id: uuid.UUID, item_keys: Sequence[str]) -> None: ...
    async def set_result(self, job_id: uuid.UUID, result: dict[str, Any]) -> None: ...
    async def set_payload(self, job_id: uuid.UUID, payload: dict[str, Any]) -> None: ...
    async def paused_for(self, user_id: uuid.UUID) -> list[Job]: ...


class SimilarRepository(Protocol):
    """Photos' fingerprints (`grouping.fingerprint`), for similar shots."""

    async def shots(self, user_id: uuid.UUID) -> list[Shot]: ...
    async def groups(self, user_id: uuid.UUID) -> list[SimilarGroup]:
        """`grouping.similar_groups` of the user's shots, made again only when their photos change."""

    async def shots_near(
        self, user_id: uuid.UUID, taken_at: dt.datetime | None, added_at: dt.datetime, window: dt.timedelta
    ) -> list[Shot]:
        """Shots taken within `window` of `taken_at`; when it is None, shots without a capture time added
        within `window` of `added_at`."""

    async def photos(self, user_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Photo]: ...
    async def pending(self, user_id: uuid.UUID) -> int: ...
    async def backlog(self, limit: int) -> list[tuple[uuid.UUID, str]]:
        """(id, storage key) of photos, anyone's, whose fingerprint is still to be taken."""

    async def set_fingerprint(self, photo_id: uuid.UUID, fingerprint: str | None) -> None:
        """None: the photo's thumb could not be read; it is not asked for again."""


class RemovedPhotoRepository(Protocol):
    """Recently removed: the bin a removed photo's row goes to, with its file kept, for KEEP_REMOVED_DAYS."""

    async def put(
        self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID], removed_at: dt.datetime, job_id: uuid.UUID | None
    ) -> list[uuid.UUID]:
        """Move those of the photos that are the user's from the library to the bin; the ids that moved."""

    async def wanted(
        self,
        user_id: uuid.UUID,
        photo_ids: Sequence[uuid.UUID] | None = None,
        job_id: uuid.UUID | None = None,
        up_to: dt.datetime | None = None,
    ) -> list[uuid.UUID]:
        """The ids of the user's removed photos among `photo_ids`, or those `job_id` removed, or (neither) all
        of them, removed no later than `up_to` if given; the most recently removed first."""

    async def restore(self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID]) -> Restored:
        """Put back those of the user's removed photos (at most a batch). One whose picture or source item is
        in the library again, or in a photo before it in `photo_ids`, stays in the bin."""

    async def page(self, user_id: uuid.UUID, limit: int, cursor: str | None) -> RemovedPage:
        """The user's removed photos, the most recently removed first."""

    async def get(self, user_id: uuid.UUID, photo_id: uuid.UUID) -> RemovedPhoto | None: ...

    async def summary(self, user_id: uuid.UUID) -> tuple[int, int]:
        """How many photos the user's bin holds, and their files' bytes."""

    async def removals_in_bin(self, user_id: uuid.UUID, job_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of these removals that have photos in the user's bin still."""

    async def newest_removal(self, user_id: uuid.UUID) -> dt.datetime | None:
        """When the photo removed last of those in the user's bin was removed; None for an empty bin."""

    async def discard(
        self, user_id: uuid.UUID, photo_ids: Sequence[uuid.UUID] | None = None, up_to: dt.datetime | None = None
    ) -> list[str]:
        """Remove those of the photos (or, with None, all, removed no later than `up_to` if given) from the user's
        bin for good; their storage keys."""

    async def discard_expired(self, before: dt.datetime, limit: int) -> list[str]:
        """Remove at most `limit` photos removed before `before`, anyone's; their storage keys."""


class UnitOfWork(Protocol):
    users: UserRepository
    api_sessions: ApiSessionRepository
    photos: PhotoRepository
    jobs: JobRepository
    oauth: OAuthTokenRepository
    pickers: PickerSessionRepository
    albums: AlbumRepository
    vision: VisionRepository
    similar: SimilarRepository
    removed: RemovedPhotoRepository

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        """Ends the transaction, undoing what was not committed; a transaction the database stopped for a
        concurrent one leaves as Contention."""

    async def commit(self) -> None: ...


UowFactory = Callable[[], UnitOfWork]


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def verify_decoy(self, password: str) -> None:
        """Cost what `verify` costs, for an account that has no password to check."""


class AccessTokens(Protocol):
    lifetime_seconds: int

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID, now: dt.datetime) -> str: ...
    def read(self, token: str) -> tuple[uuid.UUID, uuid.UUID]:
        """(user id, session id) of a valid, unexpired token; raises NotAuthenticated otherwise."""


class PhotoStorage(Protocol):
    def new_key(self) -> str: ...
    async def put_original(self, key: str, data: bytes) -> None: ...
    async def read_original(self, key: str) -> bytes: ...
    async def put_rendition(self, key: str, size: str, data: bytes) -> None: ...
    def original_path(self, key: str) -> Path: ...
    def rendition_path(self, key: str, size: str) -> Path: ...
    async def delete(self, key: str) -> None: ...
    async def keys_older_than(self, seconds: float) -> list[str]:
        """The keys of the originals written more than `seconds` ago; half-written files that old are removed."""


class LoginAttempts(Protocol):
    """Failed sign-ins per (email, client) key, and how long a key must wait before it may try again."""

    async def wait_seconds(self, key: str, now: dt.datetime) -> float: ...
    async def failed(self, key: str, now: dt.datetime) -> None: ...
    async def succeeded(self, key: str) -> None: ...


class TaskQueue(Protocol):
    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None: ...


Offload = Callable[..., Awaitable[Any]]


class ProbedImage(Protocol):
    format: str
    mime_type: str
    extension: str
    width: int
    height: int
    flags: tuple[str, ...]
    taken_at: dt.datetime | None
    sideways: bool  # width and height are as stored; on screen they swap


class ImageRendition(Protocol):
    data: bytes


@dataclass(frozen=True)
class Intake:
    """What a new photo yields as it arrives: its thumb, and its blur score where this process scores photos."""

    thumb: ImageRendition
    score: ScoreOutcome | None
    fingerprint: str | None = None  # `grouping.fingerprint` of the thumb; None when it could not be taken


class ImageInspector(Protocol):
    """Reads what an incoming file is (cheaply, from its header) and renders it for display."""

    def probe(self, data: bytes, filename: str | None) -> ProbedImage: ...
    async def render(self, data: bytes, size: str) -> ImageRendition:
        """The JPEG `size` ("thumb" or "medium"); decodes fully, so a damaged file is PayloadRejected."""

    async def intake(self, original: Path, filename: str | None = None) -> Intake:
        """A stored original's thumb, as `render` makes it, and its score where this process scores photos
        (None otherwise, or when it could not be scored here). A damaged file is PayloadRejected, its
        message naming `filename`."""

    async def fingerprint(self, thumb: Path) -> str | None:
        """`grouping.fingerprint` of a stored thumb; None when it is missing or cannot be read."""


class BlurScorer(Protocol):
    async def score(self, path: Path, name: str | None = None) -> ScoreOutcome:
        """Raises Undecodable, its reason naming the file `name` (the photo's own name), not the path."""
