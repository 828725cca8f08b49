"""A local fake of Dropbox API v2 shared folder links for the tests.

Written to /work/shared/specs/CONTRACTS.md §6, §9 and the Stone specs (files.stone, sharing.stone, auth.stone).
One server, two roots, so the app must send each call to the right host::

    with running_fake_dropbox(page_size=25) as fake:
        url = fake.add_shared_folder("Trip", [("a.jpg", jpeg_bytes)], subfolders={"Day 2": [("b.png", png)]})
        settings = make_settings(..., dropbox_api=fake.api_root, dropbox_content_api=fake.content_root,
                                 dropbox_app_key=fake.app_key, dropbox_app_secret=fake.app_secret)

``fake.api_root`` (``http://127.0.0.1:PORT/api/2``) serves the RPC routes ``files/list_folder``,
``files/list_folder/continue`` and ``sharing/get_shared_link_metadata``; ``fake.content_root``
(``http://127.0.0.1:PORT/content/2``) serves ``sharing/get_shared_link_file``. A route on the wrong root is a
400 plain-text error. State is plain attributes guarded by ``fake.lock``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.drive_fake import RecordedCall, serve_asgi
from tests.fakes.google_http import Request, Response, json_response, read_request, send_response

__all__ = ["DropboxNode", "FakeDropbox", "SharedLink", "content_hash", "running_fake_dropbox"]

API_PREFIX = "/api/2"
CONTENT_PREFIX = "/content/2"
RPC_ROUTES = {"files/list_folder", "files/list_folder/continue", "sharing/get_shared_link_metadata", "check/app"}
CONTENT_ROUTES = {"sharing/get_shared_link_file"}
DOWNLOAD_CONTENT_TYPES = ("text/plain", "application/octet-stream")
PATH_PATTERN = r"(/(.|[\r\n])*)?|id:.*|(ns:[0-9]+(/.*)?)"
BLOCK = 4 * 1024 * 1024


def content_hash(data: bytes) -> str:
    """Dropbox's content_hash: SHA-256 over the SHA-256 digests of 4 MiB blocks."""
    digests = b"".join(hashlib.sha256(data[i : i + BLOCK]).digest() for i in range(0, len(data), BLOCK))
    return hashlib.sha256(digests).hexdigest()


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _dbx_id() -> str:
    return "id:" + base64.urlsafe_b64encode(secrets.token_bytes(12)).decode().rstrip("=")


@dataclass
class DropboxNode:
    """A file (``data`` is not None) or a folder (``children``) inside a shared link."""

    name: str
    data: bytes | None = None
    children: dict[str, DropboxNode] = field(default_factory=dict)  # by lower-cased name, in insertion order
    id: str = field(default_factory=_dbx_id)
    rev: str = field(default_factory=lambda: secrets.token_hex(7))
    client_modified: float = field(default_factory=lambda: time.time() - 86400)
    server_modified: float = field(default_factory=time.time)
    is_downloadable: bool = True

    @property
    def is_folder(self) -> bool:
        return self.data is None

    def entry(self) -> dict[str, Any]:
        """The ``Metadata`` of a list_folder entry (no path_lower/path_display: the link is not mounted)."""
        if self.is_folder:
            return {".tag": "folder", "name": self.name, "id": self.id}
        assert self.data is not None
        return {
            ".tag": "file",
            "name": self.name,
            "id": self.id,
            "client_modified": _iso(self.client_modified),
            "server_modified": _iso(self.server_modified),
            "rev": self.rev,
            "size": len(self.data),
            "is_downloadable": self.is_downloadable,
            "content_hash": content_hash(self.data),
        }


@dataclass
class SharedLink:
    """A shared link to a folder (``/scl/fo/`` or legacy ``/sh/``) or a file (``/scl/fi/``)."""

    link_id: str
    key: str  # the path's hash part (or the file name for /scl/fi/)
    rlkey: str | None
    root: DropboxNode
    kind: str  # "fo", "sh" or "fi"
    revoked: bool = False
    allow_download: bool = True

    @property
    def url(self) -> str:
        if self.kind == "sh":
            return f"https://www.dropbox.com/sh/{self.link_id}/{self.key}?dl=0"
        return f"https://www.dropbox.com/scl/{self.kind}/{self.link_id}/{self.key}?rlkey={self.rlkey}&dl=0"


@dataclass
class Fault:
    path_prefix: str
    status: int
    times: int
    retry_after: int | None
    body: str | None
    after: int = 0


class DropboxError(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def text_error(status: int, text: str) -> DropboxError:
    return DropboxError(Response(status, text.encode(), "text/plain; charset=utf-8"))


def route_error(tags: Sequence[str], status: int = 409, **extra: Any) -> DropboxError:
    """``{"error_summary": "path/not_found/..", "error": {".tag": "path", "path": {".tag": "not_found"}}}``."""
    error: dict[str, Any] = {".tag": tags[-1], **extra}
    for tag in reversed(tags[:-1]):
        error = {".tag": tag, tag: error}
    summary = "/".join(tags) + "/.." + secrets.token_hex(2)[:3]
    return DropboxError(json_response({"error_summary": summary, "error": error}, status))


class FakeDropbox:
    """The fake's state and control methods; also the ASGI app the server runs."""

    def __init__(
        self,
        *,
        base_url: str = "http://127.0.0.1:0",
        app_key: str = "test-app-key",
        app_secret: str = "test-app-secret",
        tokens: Iterable[str] = ("test-dropbox-token",),
        page_size: int = 2000,
    ) -> None:
        self.base_url = base_url
        self.app_key, self.app_secret = app_key, app_secret
        self.tokens: set[str] = set(tokens)
        # The most entries one list_folder page holds, whatever ``limit`` asks (Dropbox's limit is approximate).
        self.page_size = page_size
        self.lock = threading.RLock()
        self.links: dict[str, SharedLink] = {}  # by link id
        self.requests: list[RecordedCall] = []
        self.faults: list[Fault] = []
        self.cursor_generation = 0
        self.download_delay = 0.0  # seconds each file download takes, as over a slow network

    @property
    def api_root(self) -> str:
        """For DROPBOX_API (RPC routes)."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def content_root(self) -> str:
        """For DROPBOX_CONTENT_API (download routes)."""
        return f"{self.base_url}{CONTENT_PREFIX}"

    # ------------------------------------------------------------------------------------ content

    def add_shared_folder(
        self,
        name: str,
        files: Sequence[tuple[str, bytes]] = (),
        *,
        subfolders: Mapping[str, Any] | None = None,
        rlkey: str | None = None,
        legacy: bool = False,
    ) -> str:
        """A folder shared by link; returns the link (``https://www.dropbox.com/scl/fo/<id>/<key>?rlkey=..&dl=0``,
        or ``https://www.dropbox.com/sh/<id>/<key>?dl=0`` with ``legacy``).

        ``files`` are (name, bytes); a name with slashes (``"Day 2/b.jpg"``) makes the folders on its way.
        ``subfolders`` maps a folder name to a list of (name, bytes), or recursively to a dict
        ``{"files": [...], "subfolders": {...}}``; an empty list makes an empty folder."""
        with self.lock:
            root = DropboxNode(name)
            self._fill(root, files, subfolders)
            link = SharedLink(
                secrets.token_urlsafe(18).replace("-", "a").replace("_", "b").lower()[:21],
                secrets.token_hex(12) if not legacy else secrets.token_urlsafe(16).replace("-", "x")[:22],
                None if legacy else (rlkey or secrets.token_hex(12)),
                root,
                "sh" if legacy else "fo",
            )
            self.links[link.link_id] = link
            return link.url

    def add_shared_file(self, name: str, data: bytes, *, rlkey: str | None = None) -> str:
        """A single file shared by link (``/scl/fi/<id>/<name>?rlkey=..``): metadata says ``.tag`` file."""
        with self.lock:
            link = SharedLink(
                secrets.token_hex(10), name, rlkey or secrets.token_hex(12), DropboxNode(name, data), "fi"
            )
            self.links[link.link_id] = link
            return link.url

    def fill_shared_folder(
        self,
        name: str,
        count: int,
        *,
        png_every: int = 3,
        heic_every: int = 0,
        extras: bool = True,
        size: tuple[int, int] = (64, 48),
        subfolders: Mapping[str, Any] | None = None,
        legacy: bool = False,
    ) -> str:
        """A shared folder of ``count`` real images (``photo_001.jpg``...; every ``png_every``-th a PNG, every
        ``heic_every``-th a HEIC) plus, with ``extras``, ``notes.txt``; returns the link."""
        return self.add_shared_folder(
            name,
            sample_files(count, png_every=png_every, heic_every=heic_every, extras=extras, size=size),
            subfolders=subfolders,
            legacy=legacy,
        )

    def _fill(
        self, folder: DropboxNode, files: Sequence[tuple[str, bytes]], subfolders: Mapping[str, Any] | None
    ) -> None:
        for path, data in files:
            *dirs, leaf = [p for p in path.split("/") if p]
            node = folder
            for d in dirs:
                node = node.children.setdefault(d.lower(), DropboxNode(d))
            node.children[leaf.lower()] = DropboxNode(leaf, data)
        for sub_name, content in (subfolders or {}).items():
            sub = folder.children.setdefault(sub_name.lower(), DropboxNode(sub_name))
            if isinstance(content, Mapping):
                self._fill(sub, content.get("files", ()), content.get("subfolders"))
            else:
                self._fill(sub, content, None)

    def link(self, url: str) -> SharedLink:
        """The SharedLink behind ``url`` (KeyError if unknown)."""
        with self.lock:
            found = self._find_link(url)
            if found is None:
                raise KeyError(url)
            return found

    def node(self, url: str, path: str = "") -> DropboxNode:
        """The file or folder at ``path`` (relative to the link root) for changing it in a test."""
        with self.lock:
            found = self._walk(self.link(url).root, path)
            if found is None:
                raise KeyError(path)
            return found

    def revoke(self, url: str) -> None:
        """The owner stops sharing: the link answers shared_link_not_found / path/not_found."""
        with self.lock:
            self.link(url).revoked = True

    def reset_cursors(self) -> None:
        """Cursors handed out so far are invalid: list_folder/continue answers 409 ``reset``."""
        with self.lock:
            self.cursor_generation += 1

    # ------------------------------------------------------------------------------------- faults

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        *,
        body: str | None = None,
        after: int = 0,
    ) -> None:
        """The next ``times`` requests whose path starts with ``path_prefix`` fail with ``status``, once ``after``
        of them have been answered as usual (each request counts down every fault still waiting its turn).

        ``path_prefix`` is matched against the path under either root (``/files/list_folder`` also matches
        ``/files/list_folder/continue``; ``/sharing``) and the full path (``/api/2/files``). 429 gets the
        RateLimitError JSON with ``retry_after`` (body and ``Retry-After`` header); other statuses get a
        plain-text ``body``."""
        with self.lock:
            self.faults.append(Fault(path_prefix, status, times, retry_after, body, after))

    def _fault(self, req: Request) -> Response | None:
        short = req.path.removeprefix(API_PREFIX).removeprefix(CONTENT_PREFIX)
        for fault in self.faults:
            if fault.times > 0 and (req.path.startswith(fault.path_prefix) or short.startswith(fault.path_prefix)):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
                if fault.status == 429:
                    error: dict[str, Any] = {"reason": {".tag": "too_many_requests"}}
                    error["retry_after"] = fault.retry_after if fault.retry_after is not None else 1
                    headers.setdefault("retry-after", str(error["retry_after"]))
                    return json_response({"error_summary": "too_many_requests/..", "error": error}, 429, headers)
                if fault.status == 401:
                    return json_response(
                        {"error_summary": "expired_access_token/..", "error": {".tag": "expired_access_token"}}, 401
                    )
                text = fault.body or {500: "Internal Server Error", 503: "Service Unavailable"}.get(
                    fault.status, "Injected failure"
                )
                return Response(fault.status, text.encode(), "text/plain; charset=utf-8", headers)
        return None

    # ---------------------------------------------------------------------------------- recording

    def calls(self, path_prefix: str = "", method: str | None = None) -> list[RecordedCall]:
        """Recorded requests whose path (full, or under either root) starts with ``path_prefix``."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (
                    r.path.startswith(path_prefix)
                    or r.path.removeprefix(API_PREFIX).removeprefix(CONTENT_PREFIX).startswith(path_prefix)
                )
                and (method is None or r.method == method.upper())
            ]

    def _record(self, req: Request) -> RecordedCall:
        data = None
        if req.content_type == "application/json":
            with contextlib.suppress(ValueError):
                data = req.json()
        elif "dropbox-api-arg" in req.headers:
            with contextlib.suppress(ValueError):
                data = json.loads(req.headers["dropbox-api-arg"])
        rec = RecordedCall(
            req.method, req.path, req.query, dict(req.headers), data, len(req.body), req.bearer, time.time()
        )
        self.requests.append(rec)
        return rec

    # ------------------------------------------------------------------------------------ routing

    def handle(self, req: Request) -> Response:
        with self.lock:
            rec = self._record(req)
            try:
                response = self._fault(req) or self._route(req)
            except DropboxError as exc:
                response = exc.response
            rec.status = response.status
            return response

    def _route(self, req: Request) -> Response:
        host, route = None, ""
        for prefix in (API_PREFIX, CONTENT_PREFIX):
            if req.path.startswith(prefix + "/"):
                host, route = prefix, req.path[len(prefix) + 1 :]
        if host is None or route not in RPC_ROUTES | CONTENT_ROUTES:
            raise text_error(404, f"Unknown API function: {route or req.path!r}")
        where = "api.dropboxapi.com" if route in RPC_ROUTES else "content.dropboxapi.com"
        if (host == API_PREFIX) != (route in RPC_ROUTES):
            raise text_error(
                400,
                f'Error in call to API function "{route}": This function is only available on the host "{where}".',
            )
        if route in RPC_ROUTES:
            if req.method != "POST":
                raise text_error(405, f'Error in call to API function "{route}": Only POST is allowed.')
            arg = self._rpc_arg(req, route)
        else:
            if req.method not in ("POST", "GET"):
                raise text_error(405, f'Error in call to API function "{route}": Only POST and GET are allowed.')
            arg = self._download_arg(req, route)
        self._check_auth(req, route)
        if route == "check/app":  # check.stone: app auth only; echoes `query` (at most 500 characters)
            return self._echo(req, route, arg)
        if route == "files/list_folder":
            return self._list_folder(route, arg)
        if route == "files/list_folder/continue":
            return self._continue(route, arg)
        if route == "sharing/get_shared_link_metadata":
            return self._link_metadata(route, arg)
        return self._get_file(req, route, arg)

    def _echo(self, req: Request, route: str, arg: dict[str, Any]) -> Response:
        if not req.headers.get("authorization", "").lower().startswith("basic "):
            raise text_error(
                400,
                f'Error in call to API function "{route}": Invalid authorization value in HTTP header '
                '"Authorization": this function needs app authentication (the app key and secret).',
            )
        query = arg.get("query", "")
        if not isinstance(query, str) or len(query) > 500:
            raise text_error(
                400,
                f'Error in call to API function "{route}": request body: query: a string of at most 500 characters',
            )
        return json_response({"result": query})

    def _rpc_arg(self, req: Request, route: str) -> dict[str, Any]:
        given = req.headers.get("content-type", "")
        if req.content_type != "application/json":
            raise text_error(
                400,
                f'Error in call to API function "{route}": Bad HTTP "Content-Type" header: "{given}".  Expecting one '
                'of "application/json", "application/json; charset=utf-8", "text/plain; charset=dropbox-cors-hack".',
            )
        try:
            arg = json.loads(req.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise text_error(
                400, f'Error in call to API function "{route}": request body: could not decode input as JSON'
            ) from None
        if not isinstance(arg, dict):
            raise text_error(400, f'Error in call to API function "{route}": request body: expected object')
        return arg

    def _download_arg(self, req: Request, route: str) -> dict[str, Any]:
        if req.content_type and req.content_type not in DOWNLOAD_CONTENT_TYPES:
            raise text_error(
                400,
                f'Error in call to API function "{route}": Bad HTTP "Content-Type" header: '
                f'"{req.headers.get("content-type")}".  Expecting one of "text/plain", "text/plain; charset=utf-8", '
                '"application/octet-stream", "application/octet-stream; charset=utf-8".',
            )
        if req.body:
            raise text_error(400, f'Error in call to API function "{route}": This function takes no request body.')
        raw = req.headers.get("dropbox-api-arg")
        if raw is None:
            raw = req.query.get("arg")
        if raw is None:
            raise text_error(
                400,
                f'Error in call to API function "{route}": Must provide HTTP header "Dropbox-API-Arg" or URL '
                'parameter "arg".',
            )
        if any(ord(ch) > 127 for ch in raw):
            raise text_error(
                400,
                f'Error in call to API function "{route}": HTTP header "Dropbox-API-Arg": could not decode input as '
                "JSON (non-ASCII characters must be escaped as \\uXXXX)",
            )
        try:
            arg = json.loads(raw)
        except ValueError:
            raise text_error(
                400,
                f'Error in call to API function "{route}": HTTP header "Dropbox-API-Arg": '
                "could not decode input as JSON",
            ) from None
        if not isinstance(arg, dict):
            raise text_error(
                400, f'Error in call to API function "{route}": HTTP header "Dropbox-API-Arg": expected object'
            )
        return arg

    def _check_auth(self, req: Request, route: str) -> None:
        scheme, _, value = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                key, _, secret = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                key = secret = ""
            if key == self.app_key and secret == self.app_secret:
                return
        elif scheme.lower() == "bearer" and value.strip() in self.tokens:
            return
        raise route_error(["invalid_access_token"], 401)

    # --------------------------------------------------------------------------------- link lookup

    def _find_link(self, url: str) -> SharedLink | None:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("https", "http") or parts.hostname not in ("www.dropbox.com", "dropbox.com"):
            return None
        segments = [s for s in parts.path.split("/") if s]
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if len(segments) == 4 and segments[0] == "scl" and segments[1] in ("fo", "fi"):
            link = self.links.get(segments[2])
            if link and link.kind == segments[1] and link.key == segments[3] and query.get("rlkey") == link.rlkey:
                return link
        elif len(segments) >= 3 and segments[0] == "sh":
            link = self.links.get(segments[1])
            if link and link.kind == "sh" and link.key == segments[2]:
                return link
        return None

    def _live_link(self, arg: dict[str, Any], route: str) -> SharedLink | None:
        url = arg.get("url")
        if not isinstance(url, str):
            raise text_error(
                400, f'Error in call to API function "{route}": request body: missing required field "url"'
            )
        link = self._find_link(url)
        return None if link is None or link.revoked else link

    @staticmethod
    def _walk(root: DropboxNode, path: str) -> DropboxNode | None:
        node = root
        for part in [p for p in path.split("/") if p]:
            if node.is_folder is False:
                return None
            found = node.children.get(part.lower())
            if found is None:
                return None
            node = found
        return node

    def _check_path(self, route: str, path: Any) -> str:
        if not isinstance(path, str):
            raise text_error(400, f'Error in call to API function "{route}": request body: path: expected string')
        if path == "/":
            raise text_error(
                400,
                f'Error in call to API function "{route}": request body: path: Specify the root folder as an empty '
                'string rather than as "/".',
            )
        if not re.fullmatch(PATH_PATTERN, path):
            raise text_error(
                400,
                f"Error in call to API function \"{route}\": request body: path: '{path}' did not match pattern "
                f"'{PATH_PATTERN}'",
            )
        return path

    # ------------------------------------------------------------------------------------- routes

    def _list_folder(self, route: str, arg: dict[str, Any]) -> Response:
        path = self._check_path(route, arg.get("path"))
        limit = arg.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 2000):
            raise text_error(
                400, f'Error in call to API function "{route}": request body: limit: {limit!r} is not within [1, 2000]'
            )
        shared = arg.get("shared_link")
        if shared is None:
            # The fake only holds shared links: a plain path is a user's own Dropbox, which is empty here.
            raise route_error(["path", "not_found"])
        if not isinstance(shared, dict) or not isinstance(shared.get("url"), str):
            raise text_error(
                400, f'Error in call to API function "{route}": request body: shared_link: missing required field "url"'
            )
        if arg.get("recursive"):
            raise text_error(
                400,
                f'Error in call to API function "{route}": request body: recursive: Only non-recursive mode is '
                "supported for shared link.",
            )
        link = self._live_link(shared, route)
        if link is None:
            raise route_error(["path", "not_found"])
        if link.kind == "fi":
            raise route_error(["path", "not_folder"])
        node = self._walk(link.root, path)
        if node is None:
            raise route_error(["path", "not_found"])
        if not node.is_folder:
            raise route_error(["path", "not_folder"])
        per_page = min(limit or 2000, self.page_size)
        return self._page(link, path, 0, per_page)

    def _page(self, link: SharedLink, path: str, offset: int, per_page: int) -> Response:
        node = self._walk(link.root, path)
        children = list(node.children.values()) if node is not None and node.is_folder else []
        page = children[offset : offset + per_page]
        end = offset + len(page)
        cursor_raw = json.dumps([self.cursor_generation, link.link_id, path, end, per_page])
        cursor = "AAG" + base64.urlsafe_b64encode(cursor_raw.encode()).decode().rstrip("=")
        return json_response({"entries": [c.entry() for c in page], "cursor": cursor, "has_more": end < len(children)})

    def _continue(self, route: str, arg: dict[str, Any]) -> Response:
        cursor = arg.get("cursor")
        if not isinstance(cursor, str) or not cursor.startswith("AAG"):
            raise text_error(400, f'Error in call to API function "{route}": Invalid "cursor" parameter: {cursor!r}')
        try:
            raw = cursor[3:]
            generation, link_id, path, offset, per_page = json.loads(
                base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            )
        except (ValueError, TypeError, binascii.Error):
            raise text_error(
                400, f'Error in call to API function "{route}": Invalid "cursor" parameter: {cursor!r}'
            ) from None
        if generation != self.cursor_generation:
            raise route_error(["reset"])
        link = self.links.get(link_id)
        if link is None or link.revoked or self._walk(link.root, path) is None:
            raise route_error(["path", "not_found"])
        return self._page(link, path, offset, per_page)

    def _link_meta(self, link: SharedLink, node: DropboxNode) -> dict[str, Any]:
        meta: dict[str, Any] = {
            ".tag": "folder" if node.is_folder else "file",
            "url": link.url,
            "id": node.id,
            "name": node.name,
            "link_permissions": {
                "can_revoke": False,
                "resolved_visibility": {".tag": "public"},
                "revoke_failure_reason": {".tag": "owner_only"},
                "allow_download": link.allow_download,
                "can_allow_download": False,
                "can_disallow_download": False,
                "allow_comments": True,
                "team_restricts_comments": False,
            },
        }
        if not node.is_folder:
            entry = node.entry()
            meta.update({k: entry[k] for k in ("client_modified", "server_modified", "rev", "size")})
        return meta

    def _link_metadata(self, route: str, arg: dict[str, Any]) -> Response:
        link = self._live_link(arg, route)
        if link is None:
            raise route_error(["shared_link_not_found"])
        path = arg.get("path")
        if path is not None:
            if link.kind == "fi":
                raise route_error(["shared_link_not_found"])
            self._check_path(route, path)
        node = self._walk(link.root, path or "")
        if node is None:
            raise route_error(["shared_link_not_found"])
        return json_response(self._link_meta(link, node))

    def _get_file(self, req: Request, route: str, arg: dict[str, Any]) -> Response:
        link = self._live_link(arg, route)
        if link is None:
            raise route_error(["shared_link_not_found"])
        path = arg.get("path")
        if path is not None:
            self._check_path(route, path)
        node = self._walk(link.root, path or "")
        if node is None:
            raise route_error(["shared_link_not_found"])
        if node.is_folder:
            raise route_error(["shared_link_is_directory"])
        if not link.allow_download or not node.is_downloadable:
            raise route_error(["shared_link_access_denied"])
        assert node.data is not None
        result = json.dumps(self._link_meta(link, node), ensure_ascii=True)
        headers = {"dropbox-api-result": result, "etag": f'W/"{node.rev}"', "accept-ranges": "bytes"}
        data, status = node.data, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", req.headers.get("range", "").strip())
        if match and (match.group(1) or match.group(2)) and data:
            start, end = match.group(1), match.group(2)
            first = int(start) if start else max(0, len(data) - int(end))
            last = min(int(end), len(data) - 1) if start and end else len(data) - 1
            if first < len(data) and first <= last:
                headers["content-range"] = f"bytes {first}-{last}/{len(data)}"
                data, status = data[first : last + 1], 206
        return Response(status, data, "application/octet-stream", headers)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        request = await read_request(scope, receive)
        if self.download_delay and request.path.startswith(CONTENT_PREFIX + "/"):
            await asyncio.sleep(self.download_delay)
        await send_response(send, self.handle(request))


def sample_files(
    count: int, *, png_every: int = 3, heic_every: int = 0, extras: bool = True, size: tuple[int, int] = (64, 48)
) -> list[tuple[str, bytes]]:
    """(name, bytes) of ``count`` real images (JPEG, every ``png_every``-th PNG, every ``heic_every``-th HEIC)
    plus, with ``extras``, ``notes.txt``."""
    from tests import images

    out: list[tuple[str, bytes]] = []
    for i in range(1, count + 1):
        if heic_every and i % heic_every == 0:
            out.append((f"photo_{i:03d}.heic", images.heic(*size)))
        elif png_every and i % png_every == 0:
            out.append((f"photo_{i:03d}.png", images.png(*size)))
        else:
            out.append((f"photo_{i:03d}.jpg", images.jpeg(*size, seed=i)))
    if extras:
        out.append(("notes.txt", b"not a picture\n"))
    return out


@contextlib.contextmanager
def running_fake_dropbox(**options: Any) -> Iterator[FakeDropbox]:
    """Start a FakeDropbox on a free 127.0.0.1 port (``fake.api_root`` for DROPBOX_API, ``fake.content_root``
    for DROPBOX_CONTENT_API); stop it on exit."""
    fake = FakeDropbox(**options)
    with serve_asgi(fake, "fake-dropbox") as base_url:
        fake.base_url = base_url
        yield fake
