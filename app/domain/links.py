"""Reading the folder links people paste: Google Drive and Dropbox, in every form they come in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

from app.domain.errors import InvalidInput

_DRIVE_ID = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_RESOURCE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
DRIVE_HOSTS = ("drive.google.com", "docs.google.com")
DROPBOX_HOSTS = ("www.dropbox.com", "dropbox.com")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".heic", ".heif", ".hif")


@dataclass(frozen=True)
class DriveFolder:
    folder_id: str
    resource_key: str | None = None


@dataclass(frozen=True)
class DropboxFolder:
    url: str  # the whole link, rlkey included: the key is what grants access


def _parsed(url: str) -> tuple[str, str, dict[str, list[str]]]:
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise InvalidInput("Paste the whole link, starting with https://.")
    return parsed.netloc.lower(), parsed.path, parse_qs(parsed.query)


def link_source(url: str) -> str:
    """The service a pasted folder link belongs to: "google_drive" or "dropbox"."""
    host, _, _ = _parsed(url)
    if host in DROPBOX_HOSTS:
        return "dropbox"
    if host in DRIVE_HOSTS:
        return "google_drive"
    raise InvalidInput(
        "Paste the link of a shared Google Drive folder (drive.google.com/drive/folders/...)"
        " or Dropbox folder (www.dropbox.com/scl/fo/...)."
    )


def drive_folder(url: str) -> DriveFolder:
    host, path, query = _parsed(url)
    if host not in DRIVE_HOSTS:
        raise InvalidInput("That is not a Google Drive link (drive.google.com/drive/folders/...).")
    resource_key = (query.get("resourcekey") or [None])[0]
    if match := re.search(r"/folders/([^/?#]+)", path):
        folder_id = match.group(1)
    elif path.rstrip("/") in ("/open", "/folderview") and query.get("id"):
        folder_id = query["id"][0]
    elif "/file/d/" in path or path.startswith(("/document/", "/spreadsheets/", "/presentation/")):
        raise InvalidInput("That link is to a single file; share the folder and paste the folder's link.")
    else:
        raise InvalidInput("That Google Drive link does not point to a folder.")
    if not _DRIVE_ID.match(folder_id):
        raise InvalidInput("That Google Drive link has no valid folder id.")
    if resource_key is not None and not _RESOURCE_KEY.match(resource_key):  # it goes into a request header
        raise InvalidInput("That Google Drive link's resourcekey is not valid: copy the link again from Drive.")
    return DriveFolder(folder_id, resource_key)


def dropbox_folder(url: str) -> DropboxFolder:
    host, path, query = _parsed(url)
    if host not in DROPBOX_HOSTS:
        raise InvalidInput("That is not a Dropbox link (www.dropbox.com/scl/fo/...).")
    if path.startswith(("/scl/fi/", "/s/")):
        raise InvalidInput("That Dropbox link is to a single file; share the folder and paste the folder's link.")
    if path.startswith("/scl/fo/"):
        if not query.get("rlkey"):
            raise InvalidInput("That Dropbox folder link lacks its rlkey=...; copy the whole link from Dropbox.")
    elif not path.startswith("/sh/"):
        raise InvalidInput("That Dropbox link does not point to a shared folder.")
    return DropboxFolder(url.strip())


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def source_link(source: str, source_id: str | None) -> str | None:
    """Where a person can open a photo at its source, where an address follows from what Classify keeps: a Drive
    file's page. A Dropbox path needs its folder's link, and a Google Photos item id has no address of its own."""
    if source == "google_drive" and source_id and _DRIVE_ID.match(source_id):
        return f"https://drive.google.com/file/d/{source_id}/view"
    return None
