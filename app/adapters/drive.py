"""Google Drive v3: list a shared folder's files and download them (API key for public folders, or a token)."""

from __future__ import annotations

from typing import Any

import httpx

from app.adapters.answers import unavailable_when_unanswered
from app.adapters.capped import read_capped
from app.adapters.kept_check import KeptCheck
from app.domain.link_sources import FolderUnavailable, RemoteFile, SourceBusy, SourceFailure, TokenRefused
from app.domain.links import DriveFolder

FOLDER_MIME = "application/vnd.google-apps.folder"
RATE_LIMIT_REASONS = {"userRateLimitExceeded", "rateLimitExceeded"}
UNANSWERED = unavailable_when_unanswered("Google Drive", SourceBusy)
PROBE_FILE = "classify-health-check"  # an id no file has: a good key gets a 404 for it, a bad key a 400


class GoogleDrive:
    def __init__(self, api_root: str, api_key: str | None, http: httpx.AsyncClient | None = None) -> None:
        self.api_root = api_root.rstrip("/")
        self.api_key = api_key
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True)
        self.check = KeptCheck(self._check_key)  # for the System page

    def _auth(self, token: str | None, resource_keys: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if resource_keys:
            headers["X-Goog-Drive-Resource-Keys"] = ",".join(f"{i}/{k}" for i, k in resource_keys.items())
        params = {} if token or not self.api_key else {"key": self.api_key}
        return headers, params

    @UNANSWERED
    async def _check_key(self) -> str:
        """Whether Drive takes the server's API key, asking for a file that does not exist."""
        response = await self.http.get(
            f"{self.api_root}/files/{PROBE_FILE}", params={"key": self.api_key or "", "fields": "id"}
        )
        if response.status_code in (200, 404):
            return "the API key is accepted"
        error = _error(response)
        if response.status_code in (400, 403) and not _reasons(error) & RATE_LIMIT_REASONS:  # those are "busy"
            message = error.get("message") or response.reason_phrase
            raise SourceFailure(503, f"Google Drive refuses the server's API key (GOOGLE_API_KEY): {message}")
        _raise_for(response)
        return "the API key is accepted"

    @UNANSWERED
    async def check_folder(self, folder: DriveFolder, token: str | None) -> str:
        """The folder's name; FolderUnavailable when it cannot be seen with these credentials."""
        keys = {folder.folder_id: folder.resource_key} if folder.resource_key else {}
        headers, params = self._auth(token, keys)
        response = await self.http.get(
            f"{self.api_root}/files/{folder.folder_id}",
            params={**params, "fields": "id,name,mimeType,trashed", "supportsAllDrives": "true"},
            headers=headers,
        )
        _raise_for(response)
        body = response.json()
        if body.get("mimeType") != FOLDER_MIME:
            raise FolderUnavailable(422, "That Drive link is to a file, not a folder.")
        if body.get("trashed"):  # still shown to its link, but its files are not listed: the import found nothing
            raise FolderUnavailable(422, "That Drive folder is in the bin: restore it in Drive first.")
        return str(body.get("name", ""))

    @UNANSWERED
    async def list_files(self, folder: DriveFolder, token: str | None, recursive: bool = False) -> list[RemoteFile]:
        files: list[RemoteFile] = []
        pending = [(folder.folder_id, folder.resource_key)]
        while pending:
            folder_id, resource_key = pending.pop(0)
            for item in await self._list_children(folder_id, resource_key, token):
                if item.get("mimeType") == FOLDER_MIME:
                    if recursive:
                        pending.append((item["id"], item.get("resourceKey")))
                    else:
                        files.append(RemoteFile(item["id"], item.get("name", item["id"]), FOLDER_MIME, is_folder=True))
                    continue
                size = item.get("size")
                files.append(
                    RemoteFile(
                        item["id"],
                        item.get("name", item["id"]),
                        item.get("mimeType"),
                        int(size) if size else None,
                        item.get("resourceKey"),
                        item.get("sha256Checksum"),
                    )
                )
        return files

    async def _list_children(self, folder_id: str, resource_key: str | None, token: str | None) -> list[dict[str, Any]]:
        headers, params = self._auth(token, {folder_id: resource_key} if resource_key else {})
        query = {
            **params,
            "q": f"'{folder_id}' in parents and trashed = false",
            "fields": "nextPageToken,files(id,name,mimeType,size,resourceKey,sha256Checksum)",
            "pageSize": "1000",
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        }
        items: list[dict[str, Any]] = []
        while True:
            response = await self.http.get(f"{self.api_root}/files", params=query, headers=headers)
            _raise_for(response)
            body = response.json()
            items.extend(body.get("files", []))
            if not body.get("nextPageToken"):
                return items
            query["pageToken"] = body["nextPageToken"]

    @UNANSWERED
    async def download(self, file: RemoteFile, token: str | None, max_bytes: int) -> bytes:
        headers, params = self._auth(token, {file.key: file.resource_key} if file.resource_key else {})
        async with self.http.stream(
            "GET",
            f"{self.api_root}/files/{file.key}",
            params={**params, "alt": "media", "supportsAllDrives": "true"},
            headers=headers,
        ) as response:
            if not response.is_success:
                await response.aread()
                _raise_for(response)
            return await read_capped(response, max_bytes)

    async def aclose(self) -> None:
        await self.http.aclose()


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def _reasons(error: dict[str, Any]) -> set[str]:
    return {e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)}


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    error = _error(response)
    message = error.get("message")
    reasons = _reasons(error)
    status = response.status_code
    if status == 429 or status >= 500 or (status == 403 and reasons & RATE_LIMIT_REASONS):
        # Drive's 403 rate limits are 429s by another name: waited out, not given up on
        raise SourceBusy(
            429 if status == 403 else status,
            f"Google Drive is busy ({status}); trying again later.",
            response.headers.get("retry-after"),
        )
    if status == 401 and response.request.headers.get("authorization"):
        raise TokenRefused(401, "Google no longer accepts Classify's access to your Drive.")
    if status in (401, 403, 404):
        raise FolderUnavailable(
            404,
            'Google Drive does not show this folder: check the link, share the folder with "Anyone with the '
            'link", or connect Google with Drive access in Settings if the folder is private to you.',
        )
    raise SourceFailure(status, f"Google Drive answered {status}: {message or response.reason_phrase}")
