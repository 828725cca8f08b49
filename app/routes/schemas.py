"""Request and response shapes of the JSON API (msgspec structs, which also drive the OpenAPI schema)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

from app.domain.categories import MARKS, Category
from app.domain.model import PhotoSource
from app.domain.services.similar import CHOICES


def documented(**schema: Any) -> msgspec.Meta:
    """What the OpenAPI schema says of a field (its range, its values) without msgspec enforcing it: the
    service refuses a value out of range with a 422 that names it, where msgspec would answer a bare 400."""
    return msgspec.Meta(extra_json_schema={"extra": schema})


Threshold = Annotated[float, documented(minimum=0.0, maximum=1.0)]
MonthlyLimit = Annotated[int, documented(minimum=0)]
Source = Annotated[str, documented(enum=[source.value for source in PhotoSource])]
ImportSource = Annotated[str, documented(enum=[PhotoSource.GOOGLE_DRIVE, PhotoSource.DROPBOX, PhotoSource.FOLDER])]
CategoryName = Annotated[str, documented(enum=[category.value for category in Category])]
SimilarChoice = Annotated[str, documented(enum=list(CHOICES))]  # what an export or album takes of similar shots
# a person's own call on a photo, or null where the score decides
Mark = Annotated[str | None, documented(enum=[*MARKS, None])]


class LoginBody(msgspec.Struct):
    email: str
    password: str


class RefreshBody(msgspec.Struct):
    refresh_token: str


class PasswordChange(msgspec.Struct):
    current_password: str
    new_password: str


class AccountDeletion(msgspec.Struct):
    confirm: str  # the account's password; for an account without one (Google only), its email address


class SignedOutEverywhere(msgspec.Struct):
    status: str  # "signed_out"
    api_sign_ins_ended: int  # this one included; every browser's sign-in ends as well


class CodeExchange(msgspec.Struct):
    code: str
    redirect_uri: str
    code_verifier: str | None = None


class Tokens(msgspec.Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class Me(msgspec.Struct):
    id: uuid.UUID
    email: str
    name: str | None
    picture_url: str | None
    blur_threshold: Threshold
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    google_connected: bool


class PhotoOut(msgspec.Struct):
    id: uuid.UUID
    filename: str
    source: Source
    source_id: str | None
    mime_type: str
    width: int
    height: int
    file_size: int
    sha256: str
    taken_at: dt.datetime | None
    created_at: dt.datetime
    flags: list[str]
    blur_score: float | None
    is_blurred: bool | None
    category: CategoryName
    blur_kind: str | None
    scored_at: dt.datetime | None
    processing_time_ms: float | None
    error: str | None
    tags: list[str]
    caption: str | None
    proposed_name: str | None
    image_url: str
    thumbnail_url: str
    details: dict[str, Any] | None = None
    marked_as: Mark = None  # the person's own call, which decides is_blurred and category when set


class PhotoList(msgspec.Struct):
    items: list[PhotoOut]
    next_cursor: str | None
    counts: dict[str, int]
    threshold: float


class UploadRejection(msgspec.Struct):
    filename: str
    status_code: int
    detail: str


class UploadResult(msgspec.Struct):
    photos: list[PhotoOut]
    created: int
    existing: int
    rejected: list[UploadRejection]


class UploadRefused(msgspec.Struct):
    """Nothing was kept: the status of the (first) refusal, and each file's reason; no files listed when the
    request as a whole was refused (too many files, or too large to read)."""

    status_code: int
    detail: str
    rejected: list[UploadRejection] = msgspec.field(default_factory=list)


class AnalyzeResult(msgspec.Struct):
    photo_id: uuid.UUID
    blur_score: float | None
    is_blurred: bool | None
    blur_kind: str | None
    threshold: float
    processing_time_ms: float | None
    scored_at: dt.datetime | None
    error: str | None
    details: dict[str, Any] | None
    marked_as: Mark = None


class JobAccepted(msgspec.Struct):
    job_id: uuid.UUID
    total: int


class JobOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    status: str
    total: int
    done: int
    failed: int
    error: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result: dict[str, Any]
    skipped: int = 0  # of `done`: handled without a result (not an image, already there, past the AI limit)
    title: str = ""  # what the job is, in words ("Import from Dropbox: Holidays")
    waiting: str | None = None  # why it waits on a service that asked it to slow down, while it does
    waiting_until: dt.datetime | None = None  # when it goes on


class JobItemOut(msgspec.Struct):
    item: str
    status: str  # "failed" or "skipped"
    error: str | None


class BatchBody(msgspec.Struct):
    photo_ids: list[uuid.UUID] | None = None


class ThresholdSuggestionOut(msgspec.Struct):
    """The threshold that agrees with most of your marks on scored photos, and how many each agrees with."""

    threshold: Threshold
    agree: int
    marks: int
    agree_now: int  # at your threshold now
    counts: dict[str, int] | None  # what the tabs would hold at the suggested threshold


class SettingsOut(msgspec.Struct):
    blur_threshold: Threshold
    vision_monthly_limit: MonthlyLimit
    vision_used_this_month: int
    ai_available: bool
    # null with fewer than 3 marks, or when your threshold agrees with them as well as any
    suggested_threshold: ThresholdSuggestionOut | None = None


class MarkBatch(msgspec.Struct):
    photo_ids: list[uuid.UUID]
    marked_as: Mark  # as PhotoPatch's, for every one of them


class MarkedOut(msgspec.Struct):
    marked: int


class PhotoPatch(msgspec.Struct):
    marked_as: Mark  # "sharp" or "blurred" decides the photo's category; null lets the score decide


class SettingsPatch(msgspec.Struct):
    blur_threshold: Threshold | None = None
    vision_monthly_limit: MonthlyLimit | None = None


class ImportBody(msgspec.Struct):
    source: ImportSource
    path: str | None = None
    url: str | None = None
    recursive: bool = False
