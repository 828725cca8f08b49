"""Dropbox shared folder links: list and download with the app's own key and secret."""

from __future__ import annotations

import json
from typing import Any

import httpx

from app.adapters.answers import unavailable_when_unanswered
from app.adapters.capped import read_capped
from app.adapters.kept_check import KeptCheck
from app.domain.link_sources import FolderUnavailable, RemoteFile, SourceBusy, SourceFailure
from app.domain.links import DropboxFolder

PAGE_LIMIT = 2000
UNANSWERED = unavailable_when_unanswered("Dropbox", SourceBusy)
PROBE = "classify"  # what the System page's check asks Dropbox to echo
RESET_TRIES = 3  # listings started over on a reset cursor before the import gives up


class ListingReset(SourceFailure):
    """list_folder/continue's `reset`: the cursor is no longer valid, and the listing starts over."""


class DropboxSharedLinks:
    def __init__(
        self,
        api_root: str,
        content_root: str,
        app_key: str | None,
        app_secret: str | None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.api_root, self.content_root = api_root.rstrip("/"), content_root.rstrip("/")
        self.auth = httpx.BasicAuth(app_key or "", app_secret or "")
        self.configured = bool(app_key and app_secret)
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0))
        self.check = KeptCheck(self._check_app)  # for the System page

    async def _rpc(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"{self.api_root}/{route}", json=body, auth=self.auth)
        _raise_for(response)
        return response.json()

    @UNANSWERED
    async def _check_app(self) -> str:
        """Whether Dropbox takes the app key and secret: check/app echoes a word back, and does nothing else.
        Its refusals are told in our words only: anyone may read them, and Dropbox's text of a 400 may quote
        the Authorization header it was sent."""
        response = await self.http.post(f"{self.api_root}/check/app", json={"query": PROBE}, auth=self.auth)
        status = response.status_code
        if status in (400, 401, 403):
            raise SourceFailure(
                503, "Dropbox does not accept the app key and secret (DROPBOX_APP_KEY / DROPBOX_APP_SECRET)."
            )
        if not response.is_success:
            raise SourceFailure(status, f"Dropbox answered {status} to its check.")
        if response.json().get("result") != PROBE:
            raise SourceFailure(502, "Dropbox's check/app did not answer with what it was sent.")
        return "the app key and secret are accepted"

    @UNANSWERED
    async def check_folder(self, folder: DropboxFolder) -> str:
        meta = await self._rpc("sharing/get_shared_link_metadata", {"url": folder.url})
        if meta.get(".tag") != "folder":
            raise FolderUnavailable(422, "That Dropbox link is to a file, not a folder.")
        return str(meta.get("name", ""))

    @UNANSWERED
    async def list_files(self, folder: DropboxFolder, recursive: bool = False) -> list[RemoteFile]:
        for _ in range(RESET_TRIES - 1):
            try:
                return await self._list(folder, recursive)
            except ListingReset:
                continue
        return await self._list(folder, recursive)

    async def _list(self, folder: DropboxFolder, recursive: bool) -> list[RemoteFile]:
        files: list[RemoteFile] = []
        pending = [""]
        while pending:  # shared links list one level at a time (recursive listing is not allowed there)
            path = pending.pop(0)
            page = await self._rpc(
                "files/list_folder", {"path": path, "shared_link": {"url": folder.url}, "limit": PAGE_LIMIT}
            )
            while True:
                for entry in page.get("entries", []):
                    entry_path = f"{path}/{entry['name']}"
                    if entry.get(".tag") == "folder":
                        if recursive:
                            pending.append(entry_path)
                        else:
                            files.append(RemoteFile(entry_path, entry["name"], None, is_folder=True))
                    elif entry.get(".tag") == "file":
                        file = RemoteFile(entry_path, entry["name"], None, entry.get("size"),
                                          content_hash=entry.get("content_hash"), file_id=entry.get("id"))  # fmt: skip
                        files.append(file)
                if not page.get("has_more"):
                    break
                page = await self._rpc("files/list_folder/continue", {"cursor": page["cursor"]})
        return files

    @UNANSWERED
    async def download(self, folder: DropboxFolder, file: RemoteFile, max_bytes: int) -> bytes:
        arg = json.dumps({"url": folder.url, "path": file.key}, ensure_ascii=True)  # header must stay ASCII
        async with self.http.stream(
            "POST",
            f"{self.content_root}/sharing/get_shared_link_file",
            headers={"Dropbox-API-Arg": arg},
            auth=self.auth,
        ) as response:
            if not response.is_success:
                await response.aread()
                _raise_for(response)
            return await read_capped(response, max_bytes)

    async def aclose(self) -> None:
        await self.http.aclose()


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    status = response.status_code
    try:
        body = response.json()
        summary, error = str(body.get("error_summary", "")), body.get("error")
    except (ValueError, AttributeError):
        summary, error = response.text[:200], None
    if status == 429 or status >= 500:
        # Dropbox says how long to wait in the body (error.retry_after) as well as, sometimes, the header
        in_body = error.get("retry_after") if isinstance(error, dict) else None
        raise SourceBusy(
            status,
            f"Dropbox is busy ({status}); trying again later.",
            response.headers.get("retry-after") or (str(in_body) if in_body is not None else None),
        )
    if status == 409 and summary.startswith("reset"):
        raise ListingReset(409, "Dropbox started the folder's listing over.")
    if status == 409 or status == 403:
        raise FolderUnavailable(
            404,
            "Dropbox does not share this folder: check the link, or ask its owner to share it "
            f"again ({summary.split('/')[0] or 'not found'}).",
        )
    if status == 401:
        raise SourceFailure(503, "The server's Dropbox app key or secret is not accepted (DROPBOX_APP_KEY/SECRET).")
    raise SourceFailure(status, f"Dropbox answered {status}: {summary}")
