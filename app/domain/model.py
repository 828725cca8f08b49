"""The things Classify is about: accounts, photos, jobs. Plain dataclasses, no I/O."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.categories import DEFAULT_THRESHOLD, Category, category_of, is_blurred, kind_at
from app.domain.errors import InvalidInput
from app.domain.vision import folded


class PhotoSource(StrEnum):
    UPLOAD = "upload"
    FOLDER = "folder"
    GOOGLE_PHOTOS = "google_photos"
    GOOGLE_DRIVE = "google_drive"
    DROPBOX = "dropbox"


SOURCE_NAMES = {  # what people call each source, in menus and messages
    PhotoSource.UPLOAD: "Uploads",
    PhotoSource.FOLDER: "Server folder",
    PhotoSource.GOOGLE_PHOTOS: "Google Photos",
    PhotoSource.GOOGLE_DRIVE: "Google Drive",
    PhotoSource.DROPBOX: "Dropbox",
}


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # waiting for the person, e.g. to reconnect Google; resumes where it stopped

    @property
    def finished(self) -> bool:
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class User:
    id: uuid.UUID
    email: str
    name: str | None
    blur_threshold: float
    created_at: dt.datetime
    password_hash: str | None = None
    picture_url: str | None = None
    google_sub: str | None = None
    last_login_at: dt.datetime | None = None
    vision_monthly_limit: int | None = None  # None: the server's default
    session_epoch: int = 0  # raised by "sign out everywhere": browsers' sessions from before it end

    @property
    def display_name(self) -> str:
        return self.name or self.email


KIND_WORDS = {"sharp": "sharp", "defocus": "out of focus", "motion": "camera shake"}


@dataclass(frozen=True)
class Photo:
    id: uuid.UUID
    user_id: uuid.UUID
    source: str
    filename: str
    mime_type: str
    width: int
    height: int
    file_size: int
    sha256: str
    storage_key: str
    created_at: dt.datetime
    source_id: str | None = None
    taken_at: dt.datetime | None = None
    flags: tuple[str, ...] = ()
    blur_score: float | None = None
    blur_kind: str | None = None
    blur_details: dict | None = None
    processing_ms: float | None = None
    scored_at: dt.datetime | None = None
    error: str | None = None
    tags: tuple[str, ...] = ()
    caption: str | None = None
    proposed_name: str | None = None
    marked_as: str | None = None  # the person's own call, "sharp" or "blurred"; None: the score decides

    def is_blurred_at(self, threshold: float) -> bool | None:
        return is_blurred(self.blur_score, threshold, self.marked_as)

    def category_at(self, threshold: float) -> Category:
        return category_of(self.blur_score, threshold, self.marked_as)

    def blur_kind_at(self, threshold: float, *, measured: bool = False) -> str | None:
        """The kind shown at a threshold: the person's call decides sharp or not, unless `measured` asks what
        the score alone says."""
        angle = (self.blur_details or {}).get("motion_angle")
        return kind_at(self.blur_score, self.blur_kind, angle, threshold, None if measured else self.marked_as)

    def reasons_at(self, threshold: float) -> tuple[str, ...]:
        """Why the score says what it says at a threshold (what it says, not the person's call: the reasons
        explain the score)."""
        details = self.blur_details or {}
        if self.blur_score is None:
            return tuple(details.get("reasons", ()))
        blurred = is_blurred(self.blur_score, threshold)
        if by_verdict := details.get("reasons_by_verdict"):
            return tuple(by_verdict["blurred" if blurred else "sharp"])
        # scored before the reasons were kept for both verdicts: those kept are 0.5's, right where it agrees
        if blurred == is_blurred(self.blur_score, DEFAULT_THRESHOLD):
            return tuple(details.get("reasons", ()))
        return (KIND_WORDS[self.blur_kind_at(threshold, measured=True) or "sharp"],)

    def details_at(self, threshold: float) -> dict | None:
        """The blur details as the API shows them: what the score says at the person's threshold (the kind, the
        reasons, a shake's direction and path only where it calls the photo shaken), as `classify score` does."""
        if self.blur_details is None:
            return None
        shown = {k: v for k, v in self.blur_details.items() if k != "reasons_by_verdict"}
        kind = self.blur_kind_at(threshold, measured=True)
        shake = {} if kind == "motion" else {"motion_angle": None, "shake_path": None}
        return shown | {"blur_kind": kind, "reasons": list(self.reasons_at(threshold))} | shake


KEEP_REMOVED_DAYS = 30  # a removed photo waits this long in Recently removed, then its file goes


@dataclass(frozen=True)
class RemovedPhoto:
    """A photo removed from the library, kept as it was (scores, tags, the person's call) with its file."""

    photo: Photo
    removed_at: dt.datetime
    removal_job_id: uuid.UUID | None = None  # the removal job that took it; None for one photo removed alone

    @property
    def expires_at(self) -> dt.datetime:
        return self.removed_at + dt.timedelta(days=KEEP_REMOVED_DAYS)


MAX_FILTER_CHARS = 500


@dataclass(frozen=True)
class PhotoFilter:
    """What narrows a category, as the gallery does: a source, a tag, words in a caption or file name."""

    source: str | None = None
    tag: str | None = None
    query: str | None = None

    @classmethod
    def of(cls, source: str | None = None, tag: str | None = None, query: str | None = None) -> PhotoFilter:
        """From what a person typed: tags are lowercase words, blanks mean no filter. Longer than anyone types,
        it is refused: SQLite gives up on a LIKE pattern of 50,000 characters."""
        for name, value in (("search", query), ("tag", tag)):
            if value and len(value) > MAX_FILTER_CHARS:
                raise InvalidInput(f"That {name} is too long: at most {MAX_FILTER_CHARS} characters.")
        tag = folded((tag or "").strip())  # as tags are kept
        return cls((source or "").strip() or None, tag or None, (query or "").strip() or None)


NO_FILTER = PhotoFilter()


@dataclass(frozen=True)
class NewPhoto:
    """What an import knows about a photo before it has an id."""

    user_id: uuid.UUID
    source: str
    filename: str
    mime_type: str
    width: int
    height: int
    file_size: int
    sha256: str
    storage_key: str
    source_id: str | None = None
    taken_at: dt.datetime | None = None
    flags: tuple[str, ...] = ()
    fingerprint: str | None = None  # grouping.fingerprint of its thumb, for similar shots


@dataclass(frozen=True)
class Job:
    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    status: JobStatus
    total: int
    done: int
    failed: int
    created_at: dt.datetime
    error: str | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    payload: dict = field(default_factory=dict)
    result: dict = field(default_factory=dict)
    skipped: int = 0  # of `done`: items handled without a result (not an image, already there, past a limit)
    waiting_until: dt.datetime | None = None  # a service asked it to slow down: it goes on then
    waiting_reason: str | None = None

    def waiting_at(self, now: dt.datetime) -> str | None:
        """Why the job is waiting on a service at `now`, or None when it is not."""
        if self.status.finished or self.waiting_until is None or self.waiting_until <= now:
            return None
        return self.waiting_reason

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def title(self) -> str:
        """What the job is, in words, with what it works on where the job knows it."""
        p = self.payload
        match self.kind:
            case "link_import":
                service = SOURCE_NAMES.get(p.get("source", ""), "a shared link")
                return f"Import from {service}" + (f": {p['folder_name']}" if p.get("folder_name") else "")
            case "import_folder":
                return f"Import of the server folder {p['path']}" if p.get("path") else "Import of a server folder"
            case "google_album":
                return f"Google Photos album: {p['title']}" if p.get("title") else "Google Photos album"
        return JOB_TITLES.get(self.kind, self.kind.replace("_", " ").capitalize())


JOB_TITLES = {
    "score_batch": "Blur scoring",
    "tag_photos": "AI tagging",
    "remove_photos": "Remove photos",
    "google_photos_import": "Import from Google Photos",
}
