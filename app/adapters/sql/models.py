"""ORM rows. One database: SQLite by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import datetime as dt
import uuid

from advanced_alchemy.base import UUIDv7AuditBase
from advanced_alchemy.types import JsonB
from advanced_alchemy.types.datetime import DateTimeUTC
from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

# A photo's key in blur-score order, most blurred first or sharpest first: unscored photos sort past either end
# of [0, 1], so they come last both ways. Spelt with literals so that the query's expression is the index's.
BLURRIEST_KEY = "coalesce(blur_score, -1.0)"
SHARPEST_KEY = "coalesce(blur_score, 2.0)"
UNSCORED = "blur_score IS NULL"


class UserRow(UUIDv7AuditBase):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    picture_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    google_sub: Mapped[str | None] = mapped_column(String(255), unique=True, default=None)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    blur_threshold: Mapped[float] = mapped_column(Float, default=0.5)
    vision_monthly_limit: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the server's default
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # +1: browsers sign in again


class ApiSessionRow(UUIDv7AuditBase):
    """One API sign-in: its current refresh token (hashed) and whether it was ended."""

    __tablename__ = "api_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    refresh_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)


class OAuthTokenRow(UUIDv7AuditBase):
    """Tokens from an external provider; both token columns hold ciphertext, never plaintext."""

    __tablename__ = "oauth_tokens"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(32))
    access_token: Mapped[str | None] = mapped_column(Text, default=None)
    refresh_token: Mapped[str | None] = mapped_column(Text, default=None)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    scope: Mapped[str | None] = mapped_column(Text, default=None)
    status: Mapped[str] = mapped_column(String(32), default="connected")


class PhotoColumns:
    """A photo's columns, shared by the library (`photos`) and the bin it goes to when removed."""

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(512), default=None)
    filename: Mapped[str] = mapped_column(String(512))
    mime_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    file_size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    storage_key: Mapped[str] = mapped_column(String(128))
    flags: Mapped[list[str]] = mapped_column(JsonB, default=list)
    blur_score: Mapped[float | None] = mapped_column(Float, default=None)
    blur_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    blur_details: Mapped[dict | None] = mapped_column(JsonB, default=None)
    processing_ms: Mapped[float | None] = mapped_column(Float, default=None)
    scored_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    tags: Mapped[list[str]] = mapped_column(JsonB, default=list)
    caption: Mapped[str | None] = mapped_column(Text, default=None)
    proposed_name: Mapped[str | None] = mapped_column(String(255), default=None)
    # grouping.fingerprint of the thumb; "" when the thumb could not be read, None until it is taken
    fingerprint: Mapped[str | None] = mapped_column(String(16), default=None)
    # Dropbox's content hash of the original, taken when a Dropbox import lists a file of its size; else None
    content_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    # the person's own call, "sharp" or "blurred", which then decides the category instead of the score
    marked_as: Mapped[str | None] = mapped_column(String(8), default=None)


class PhotoRow(PhotoColumns, UUIDv7AuditBase):
    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "source_id", name="uq_photos_user_source_item"),
        UniqueConstraint("user_id", "sha256", name="uq_photos_user_sha256"),
        # the person's mark beside the score, so the tabs' counts are read from this index alone
        Index("ix_photos_user_score_mark", "user_id", "blur_score", "marked_as"),
        Index("ix_photos_user_scored_at", "user_id", "scored_at"),
        Index("ix_photos_user_created", "user_id", "created_at", "id"),
        Index("ix_photos_user_content_hash", "user_id", "content_hash"),
        Index("ix_photos_user_size", "user_id", "file_size"),
        Index("ix_photos_user_processing", "user_id", "processing_ms"),  # Statistics' average, from it alone
        # a photo page's similar shots: those taken near it, or without a capture time, those added near it
        Index("ix_photos_user_taken", "user_id", "taken_at", "created_at"),
        # what the Similar shots page asks on every page (similar_repositories._version, pending), from it alone
        Index("ix_photos_user_fingerprint", "user_id", "fingerprint", "created_at"),
        # a tab in blur-score order, unscored photos last either way (repositories._Ordering)
        Index("ix_photos_user_blurriest", "user_id", text(BLURRIEST_KEY), "id"),
        Index("ix_photos_user_sharpest", "user_id", text(SHARPEST_KEY), "id"),
        # the Unprocessed tab, newest first: only the photos not scored yet, so it stays small
        Index(
            "ix_photos_user_unscored",
            "user_id",
            "created_at",
            "id",
            sqlite_where=text(UNSCORED),
            postgresql_where=text(UNSCORED),
        ),
    )


class RemovedPhotoRow(PhotoColumns, UUIDv7AuditBase):
    """A photo removed from the library, as it was, kept for KEEP_REMOVED_DAYS with its file so that it can be
    put back; the same id, columns and file key as its `photos` row had."""

    __tablename__ = "removed_photos"
    __table_args__ = (
        Index("ix_removed_photos_user_removed", "user_id", "removed_at", "id"),
        Index("ix_removed_photos_removed", "removed_at"),  # the daily purge
        Index("ix_removed_photos_job", "removal_job_id"),
    )

    removed_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC(timezone=True))
    removal_job_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # the removal's job, for its Undo


class JobRow(UUIDv7AuditBase):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_user_created", "user_id", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # of `done`
    error: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict] = mapped_column(JsonB, default=dict)
    result: Mapped[dict] = mapped_column(JsonB, default=dict)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    waiting_until: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC(timezone=True), default=None)
    waiting_reason: Mapped[str | None] = mapped_column(Text, default=None)


class JobItemRow(UUIDv7AuditBase):
    """One unit of a job (a photo to score, an item to import); the database says what is left to do."""

    __tablename__ = "job_items"
    __table_args__ = (
        UniqueConstraint("job_id", "item_key"),
        Index("ix_job_items_status", "job_id", "status"),
        Index("ix_job_items_key_status", "item_key", "status"),  # the batches waiting for one photo
    )

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, default=None)


class AlbumRow(UUIDv7AuditBase):
    __tablename__ = "albums"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    google_album_id: Mapped[str | None] = mapped_column(String(255), default=None)
    title: Mapped[str] = mapped_column(String(500))
    product_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    photo_count: Mapped[int] = mapped_column(Integer, default=0)


class PickerSessionRow(UUIDv7AuditBase):
    """A Google Photos Picker session a person started, and the import job it turned into."""

    __tablename__ = "picker_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    google_session_id: Mapped[str] = mapped_column(String(255), unique=True)
    picker_uri: Mapped[str] = mapped_column(String(2000))
    poll_interval: Mapped[float] = mapped_column(Float, default=5.0)
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), default=None)


class VisionResultRow(UUIDv7AuditBase):
    """What the vision model said about one image (by its SHA-256) with one model: never paid for twice."""

    __tablename__ = "vision_results"
    __table_args__ = (UniqueConstraint("sha256", "model", name="uq_vision_results_image_model"),)

    sha256: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(100))
    tags: Mapped[list[str]] = mapped_column(JsonB, default=list)
    caption: Mapped[str] = mapped_column(Text)
    proposed_name: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str | None] = mapped_column(String(255), default=None)


class VisionCallRow(UUIDv7AuditBase):
    """One paid call to the vision model, counted against its person's monthly budget."""

    __tablename__ = "vision_calls"
    __table_args__ = (Index("ix_vision_calls_user_created", "user_id", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    photo_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"), default=None)
