"""Shared folders as photo sources: what a listing holds, and the failures that mean something."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

DROPBOX_BLOCK = 4 * 1024 * 1024


@dataclass(frozen=True)
class RemoteFile:
    key: str  # stable per source: the Drive file id, or the Dropbox path inside the shared folder
    name: str
    mime_type: str | None  # Drive says; Dropbox does not (the name's extension decides there)
    size: int | None = None
    resource_key: str | None = None
    sha256: str | None = None  # Drive lists it: a file whose bytes are here already need not be downloaded
    content_hash: str | None = None  # Dropbox lists its own hash (dropbox_content_hash), for the same purpose
    is_folder: bool = False  # a sub-folder left out (not asked to include them): listed to say so
    file_id: str | None = None  # Dropbox's id of the file ("id:..."): the same file whichever link reaches it

    @property
    def source_id(self) -> str:
        """What a photo from this file keeps as its source id, so that a later import knows it: a Dropbox path
        names a file only within its link (two folders' IMG_0001.jpg are two photos), its id everywhere."""
        return self.file_id or self.key


def dropbox_content_hash(data: bytes) -> str:
    """Dropbox's content_hash of a file: the SHA-256 of the SHA-256 digests of its 4 MiB blocks, in hex.

    Dropbox lists it for every file, so a file whose bytes are here already is known before it is downloaded.
    """
    view = memoryview(data)  # blocks without copying them
    blocks = (hashlib.sha256(view[at : at + DROPBOX_BLOCK]).digest() for at in range(0, len(view), DROPBOX_BLOCK))
    return hashlib.sha256(b"".join(blocks)).hexdigest()


class SourceFailure(Exception):
    def __init__(self, status_code: int, detail: str, retry_after: str | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.retry_after = retry_after


class FolderUnavailable(SourceFailure):
    """Not found, not shared, not a folder, or private: the person can fix it; retrying won't."""


class TokenRefused(FolderUnavailable):
    """The person's own token was refused (401): expired early or revoked. Refreshed once, it may work."""


class SourceBusy(SourceFailure):
    """429 or 5xx (or Drive's 403 rate limits): try again later."""
