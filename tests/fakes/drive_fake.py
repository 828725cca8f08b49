"""A local fake of the Google Drive v3 API (files.list, files.get, alt=media) for the tests.

Written to /work/shared/specs/CONTRACTS.md §5, §8, §9. The app reaches it through GOOGLE_DRIVE_API::

    with running_fake_drive() as fake:
        folder = fake.add_folder("Holiday")                         # public ("anyone with the link")
        fake.fill_folder(folder, 30)                                # JPEGs, PNGs, a text file, a Google Doc
        settings = make_settings(..., google_drive_api=fake.api_root, google_drive_api_key=fake.api_key)

Access model: a public folder (and everything in it) is readable with ``key=<fake.api_key>`` or any known
Bearer token (``fake.tokens``); a private folder only with its owner's Bearer token. Anything the caller cannot
see is a 404 "File not found: <id>." like Drive's. Items made with a ``resource_key`` also need the
``X-Goog-Drive-Resource-Keys: <id>/<key>`` header. State is plain attributes guarded by ``fake.lock``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.google_http import Request, Response, json_response, read_request, send_response

__all__ = [
    "DOC_MIME",
    "FOLDER_MIME",
    "DriveItem",
    "FakeDrive",
    "RecordedCall",
    "running_fake_drive",
    "serve_asgi",
]

FOLDER_MIME = "application/vnd.google-apps.folder"
DOC_MIME = "application/vnd.google-apps.document"
GOOGLE_APPS_PREFIX = "application/vnd.google-apps."
API_PREFIX = "/drive/v3"
DOWNLOAD_PREFIX = "/download/drive/v3"

# File resource fields the fake knows (an unknown name in ``fields`` is a 400 like Drive's).
FILE_FIELDS = {
    "kind",
    "id",
    "name",
    "mimeType",
    "parents",
    "size",
    "md5Checksum",
    "sha256Checksum",
    "modifiedTime",
    "createdTime",
    "trashed",
    "resourceKey",
    "imageMediaMetadata",
    "fileExtension",
    "fullFileExtension",
    "originalFilename",
    "driveId",
    "shortcutDetails",
    "webViewLink",
    "webContentLink",
    "thumbnailLink",
    "iconLink",
    "hasThumbnail",
    "owners",
    "capabilities",
    "description",
    "starred",
    "headRevisionId",
    "quotaBytesUsed",
    "version",
}
LIST_FIELDS = {"kind", "files", "nextPageToken", "incompleteSearch"}
DEFAULT_FILE_FIELDS = ("kind", "id", "name", "mimeType", "resourceKey")
ORDER_KEYS = {"name", "name_natural", "modifiedTime", "createdTime", "folder"}
RETRYABLE_REASONS = {403: "userRateLimitExceeded", 429: "rateLimitExceeded", 500: "backendError", 502: "backendError"}
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _rfc3339(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1000) % 1000:03d}Z"


def _new_id() -> str:
    return "1" + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")


def _image_size(data: bytes) -> tuple[int, int] | None:
    with contextlib.suppress(Exception):
        import io

        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    return None


@dataclass
class DriveItem:
    """A file or folder in the fake's Drive."""

    id: str
    name: str
    mime_type: str
    parent: str | None
    data: bytes = b""
    public: bool = True
    owner_token: str | None = None
    resource_key: str | None = None
    trashed: bool = False
    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)

    @property
    def is_folder(self) -> bool:
        return self.mime_type == FOLDER_MIME

    @property
    def is_blob(self) -> bool:
        return not self.mime_type.startswith(GOOGLE_APPS_PREFIX)

    def resource(self) -> dict[str, Any]:
        """The full File resource (before ``fields`` filtering)."""
        out: dict[str, Any] = {
            "kind": "drive#file",
            "id": self.id,
            "name": self.name,
            "mimeType": self.mime_type,
            "parents": [self.parent] if self.parent else [],
            "trashed": self.trashed,
            "createdTime": _rfc3339(self.created),
            "modifiedTime": _rfc3339(self.modified),
            "starred": False,
            "version": "1",
            "hasThumbnail": self.mime_type.startswith("image/"),
            "webViewLink": f"https://drive.google.com/{'drive/folders' if self.is_folder else 'file/d'}/{self.id}",
            "iconLink": f"https://drive-thirdparty.googleusercontent.com/16/type/{self.mime_type}",
            "capabilities": {"canDownload": self.is_blob, "canEdit": False, "canListChildren": self.is_folder},
        }
        if self.resource_key:
            out["resourceKey"] = self.resource_key
        if self.is_blob and not self.is_folder:
            ext = self.name.rsplit(".", 1)[-1] if "." in self.name else ""
            out.update(
                size=str(len(self.data)),
                quotaBytesUsed=str(len(self.data)),
                md5Checksum=hashlib.md5(self.data).hexdigest(),
                sha256Checksum=hashlib.sha256(self.data).hexdigest(),
                originalFilename=self.name,
                fileExtension=ext,
                fullFileExtension=ext,
                headRevisionId="0B" + hashlib.sha1(self.data).hexdigest()[:20],
                webContentLink=f"https://drive.google.com/uc?id={self.id}&export=download",
            )
            if self.mime_type.startswith("image/"):
                size = _image_size(self.data)
                if size:
                    out["imageMediaMetadata"] = {"width": size[0], "height": size[1], "rotation": 0}
        return out


@dataclass
class RecordedCall:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    json: Any
    body_size: int
    bearer: str | None
    time: float
    status: int = 0  # the response's status, filled in after handling


@dataclass
class Fault:
    path_prefix: str
    status: int
    times: int
    retry_after: float | None
    reason: str | None
    message: str | None


def drive_error(
    status: int,
    message: str,
    reason: str,
    *,
    location: str | None = None,
    location_type: str = "parameter",
    domain: str = "global",
    retry_after: float | None = None,
) -> Response:
    """Drive v3's error JSON: google.rpc-style ``code/message/status`` plus the legacy ``errors[]`` (§5.4, §8)."""
    item: dict[str, Any] = {"domain": domain, "reason": reason, "message": message}
    if location is not None:
        item.update(locationType=location_type, location=location)
    body = {
        "error": {"code": status, "message": message, "errors": [item], "status": STATUS_NAMES.get(status, "UNKNOWN")}
    }
    headers: dict[str, str] = {}
    if status == 401:
        headers["www-authenticate"] = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    return json_response(body, status, headers)


def not_found(file_id: str) -> Response:
    return drive_error(404, f"File not found: {file_id}.", "notFound", location="fileId")


def invalid(message: str, location: str) -> Response:
    return drive_error(400, message, "invalid", location=location)


# ---------------------------------------------------------------------------------------- fields


def parse_fields(text: str) -> dict[str, Any]:
    """``nextPageToken,files(id,name,imageMediaMetadata(width))`` -> {"nextPageToken": None, "files": {...}}.

    ``None`` means "the whole value"; ``a/b`` is the same as ``a(b)``. Raises ValueError on bad syntax."""
    pos = 0

    def parse_list(depth: int) -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while True:
            match = re.compile(r"\s*([A-Za-z_*][A-Za-z0-9_]*(?:/[A-Za-z_*][A-Za-z0-9_]*)*)\s*").match(text, pos)
            if not match:
                raise ValueError(f"Invalid field selection {text}")
            parts = match.group(1).split("/")
            pos = match.end()
            sub: Any = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list(depth + 1)
                if pos >= len(text) or text[pos] != ")":
                    raise ValueError(f"Invalid field selection {text}")
                pos += 1
                while pos < len(text) and text[pos] == " ":
                    pos += 1
            for name in reversed(parts[1:]):
                sub = {name: sub}
            _merge(out, parts[0], sub)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if depth == 0 and pos < len(text):
                raise ValueError(f"Invalid field selection {text}")
            return out

    tree = parse_list(0)
    if pos != len(text):
        raise ValueError(f"Invalid field selection {text}")
    return tree


def _merge(tree: dict[str, Any], name: str, sub: Any) -> None:
    if name in tree and tree[name] is None:
        return
    if sub is None or name not in tree:
        tree[name] = sub
    else:
        for key, value in sub.items():
            _merge(tree[name], key, value)


def select(value: Any, tree: dict[str, Any] | None) -> Any:
    """Keep only the selected fields of ``value`` (a dict, or a list of dicts)."""
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [select(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: select(value[k], sub) for k, sub in tree.items() if k in value}


def _unknown_fields(tree: dict[str, Any], known: set[str]) -> list[str]:
    return [name for name in tree if name != "*" and name not in known]


# --------------------------------------------------------------------------------------------- q


@dataclass
class Query:
    parents: list[str] = field(default_factory=list)
    trashed: bool | None = None
    tests: list[Callable[[DriveItem], bool]] = field(default_factory=list)

    def matches(self, item: DriveItem) -> bool:
        if self.parents and item.parent not in self.parents:
            return False
        if self.trashed is not None and item.trashed != self.trashed:
            return False
        return all(test(item) for test in self.tests)


_STRING = r"'((?:[^'\\]|\\.)*)'"
_TERMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"{_STRING}\s+in\s+parents", re.I), "parent"),
    (re.compile(r"trashed\s*(=|!=)\s*(true|false)", re.I), "trashed"),
    (re.compile(rf"(mimeType|name)\s+contains\s+{_STRING}", re.I), "contains"),
    (re.compile(rf"(mimeType|name)\s*(=|!=)\s*{_STRING}", re.I), "equals"),
]


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _split_and(q: str) -> list[str]:
    """Split on top-level ``and`` outside quotes (no ``or``, ``not`` or brackets: the fake refuses those)."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(q):
        ch = q[i]
        if ch == "\\" and quoted:
            current.append(q[i : i + 2])
            i += 2
            continue
        if ch == "'":
            quoted = not quoted
        if not quoted and re.match(r"\s+and\s+", q[i:], re.I) and current:
            match = re.match(r"\s+and\s+", q[i:], re.I)
            assert match is not None
            parts.append("".join(current).strip())
            current = []
            i += match.end()
            continue
        current.append(ch)
        i += 1
    if quoted:
        raise ValueError("unterminated string")
    parts.append("".join(current).strip())
    return parts


def parse_q(q: str) -> Query:
    """Parse the subset of Drive's query language the app uses; ValueError for anything else."""
    query = Query()
    if not q.strip():
        return query
    for term in _split_and(q.strip()):
        while term.startswith("(") and term.endswith(")"):
            term = term[1:-1].strip()
        kind, match = next(((k, m) for p, k in _TERMS if (m := p.fullmatch(term))), ("", None))
        if match is None:
            raise ValueError(term)
        if kind == "parent":
            query.parents.append(_unquote(match.group(1)))
        elif kind == "trashed":
            value = match.group(2).lower() == "true"
            query.trashed = value if match.group(1) == "=" else not value
        elif kind == "contains":
            attr, needle = match.group(1).lower(), _unquote(match.group(2))
            if attr == "mimetype":
                query.tests.append(lambda item, n=needle: n in item.mime_type)
            else:  # name contains: Drive matches word prefixes; a plain substring test is close enough
                lowered = needle.lower()
                query.tests.append(lambda item, n=lowered: n in item.name.lower())
        else:
            attr, op, value = match.group(1).lower(), match.group(2), _unquote(match.group(3))

            def test(item: DriveItem, a: str = attr, o: str = op, v: str = value) -> bool:
                actual = item.mime_type if a == "mimetype" else item.name
                return (actual == v) == (o == "=")

            query.tests.append(test)
    return query


# ------------------------------------------------------------------------------------------ fake


class FakeDrive:
    """The fake's state and control methods; also the ASGI app the server runs."""

    def __init__(
        self,
        *,
        base_url: str = "http://127.0.0.1:0",
        api_key: str = "test-api-key",
        tokens: Iterable[str] = ("test-drive-token",),
        default_owner_token: str = "test-drive-token",
        max_page_items: int | None = None,
    ) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.tokens: set[str] = set(tokens) | {default_owner_token}
        self.default_owner_token = default_owner_token
        # Serve at most this many files per page whatever pageSize asks (Drive may return partial pages).
        self.max_page_items = max_page_items
        # Extra check for Bearer tokens not in ``tokens`` (e.g. ``lambda t: t in fake_google.tokens``).
        self.token_validator: Callable[[str], bool] | None = None
        self.lock = threading.RLock()
        self.items: dict[str, DriveItem] = {}
        self.requests: list[RecordedCall] = []
        self.faults: list[Fault] = []
        self.page_token_generation = 0

    @property
    def api_root(self) -> str:
        """For GOOGLE_DRIVE_API."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def download_root(self) -> str:
        """Where client libraries download from (``/download/drive/v3``); ``files/{id}?alt=media`` works there too."""
        return f"{self.base_url}{DOWNLOAD_PREFIX}"

    # ------------------------------------------------------------------------------------ content

    def add_folder(
        self,
        name: str,
        *,
        public: bool | None = None,
        owner_token: str | None = None,
        parent: str | None = None,
        resource_key: str | None = None,
    ) -> str:
        """A folder (in ``parent``, or at the top); returns its id. ``public`` and ``owner_token`` default to
        the parent's (top level: public, owned by ``default_owner_token``)."""
        with self.lock:
            above = self.items[parent] if parent else None
            owner = owner_token or (above.owner_token if above else self.default_owner_token)
            self.tokens.add(owner)
            item = DriveItem(
                _new_id(),
                name,
                FOLDER_MIME,
                parent,
                public=(above.public if above else True) if public is None else public,
                owner_token=owner,
                resource_key=resource_key,
            )
            self.items[item.id] = item
            return item.id

    def add_file(
        self,
        folder_id: str,
        name: str,
        data: bytes,
        mime_type: str,
        *,
        resource_key: str | None = None,
        trashed: bool = False,
        modified: float | None = None,
    ) -> str:
        """A file in ``folder_id`` (same visibility as the folder); returns its id."""
        with self.lock:
            folder = self.items[folder_id]
            item = DriveItem(
                _new_id(),
                name,
                mime_type,
                folder_id,
                data,
                public=folder.public,
                owner_token=folder.owner_token,
                resource_key=resource_key,
                trashed=trashed,
            )
            if modified is not None:
                item.modified = item.created = modified
            self.items[item.id] = item
            return item.id

    def fill_folder(
        self,
        folder_id: str,
        count: int,
        *,
        png_every: int = 3,
        heic_every: int = 0,
        extras: bool = True,
        size: tuple[int, int] = (64, 48),
    ) -> list[str]:
        """Add ``count`` real images (``photo_001.jpg``...; every ``png_every``-th a PNG, every ``heic_every``-th a
        HEIC) and, with ``extras``, a ``notes.txt`` (text/plain) and a ``Plan`` Google Doc. Returns the image ids."""
        from tests import images

        ids = []
        for i in range(1, count + 1):
            if heic_every and i % heic_every == 0:
                name, data, mime = f"photo_{i:03d}.heic", images.heic(*size), "image/heic"
            elif png_every and i % png_every == 0:
                name, data, mime = f"photo_{i:03d}.png", images.png(*size), "image/png"
            else:
                name, data, mime = f"photo_{i:03d}.jpg", images.jpeg(*size, seed=i), "image/jpeg"
            ids.append(self.add_file(folder_id, name, data, mime))
        if extras:
            self.add_file(folder_id, "notes.txt", b"not a picture\n", "text/plain")
            self.add_file(folder_id, "Plan", b"", DOC_MIME)
        return ids

    def add_shortcut(self, folder_id: str, name: str) -> str:
        with self.lock:
            return self.add_file(folder_id, name, b"", "application/vnd.google-apps.shortcut")

    def trash(self, item_id: str) -> None:
        with self.lock:
            self.items[item_id].trashed = True

    def remove(self, item_id: str) -> None:
        with self.lock:
            self.items.pop(item_id, None)

    def children(self, folder_id: str) -> list[DriveItem]:
        with self.lock:
            return [i for i in self.items.values() if i.parent == folder_id]

    def folder_url(self, folder_id: str, *, form: str = "plain") -> str:
        """A sharing URL for the folder: ``plain``, ``sharing`` (?usp=sharing), ``user`` (/u/0/), ``open``
        (?id=), ``folderview``; the resource key is appended when the folder has one."""
        item = self.items[folder_id]
        base = "https://drive.google.com"
        url = {
            "plain": f"{base}/drive/folders/{folder_id}",
            "sharing": f"{base}/drive/folders/{folder_id}?usp=sharing",
            "user": f"{base}/drive/u/0/folders/{folder_id}",
            "open": f"{base}/open?id={folder_id}",
            "folderview": f"{base}/folderview?id={folder_id}",
        }[form]
        if item.resource_key:
            url += ("&" if "?" in url else "?") + f"resourcekey={item.resource_key}"
        return url

    def expire_page_tokens(self) -> None:
        """Page tokens handed out so far are refused (400 invalid pageToken), as after "several hours"."""
        with self.lock:
            self.page_token_generation += 1

    # ------------------------------------------------------------------------------------- faults

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        *,
        reason: str | None = None,
        message: str | None = None,
    ) -> None:
        """The next ``times`` requests whose path starts with ``path_prefix`` fail with ``status``.

        ``path_prefix`` is matched against the path under the API root (``/files``, ``/files/<id>``) and the
        full path (``/drive/v3/files``). ``reason`` defaults to userRateLimitExceeded (403), rateLimitExceeded
        (429) or backendError (5xx)."""
        with self.lock:
            self.faults.append(Fault(path_prefix, status, times, retry_after, reason, message))

    def _fault(self, req: Request) -> Response | None:
        short = req.path.removeprefix(API_PREFIX).removeprefix(DOWNLOAD_PREFIX)
        for fault in self.faults:
            if fault.times > 0 and (req.path.startswith(fault.path_prefix) or short.startswith(fault.path_prefix)):
                fault.times -= 1
                reason = fault.reason or RETRYABLE_REASONS.get(fault.status, "backendError")
                message = fault.message or {
                    "userRateLimitExceeded": "User rate limit exceeded.",
                    "rateLimitExceeded": "Rate limit exceeded.",
                    "backendError": "Backend Error",
                }.get(reason, "Injected failure")
                domain = "usageLimits" if "RateLimit" in reason or reason == "rateLimitExceeded" else "global"
                return drive_error(fault.status, message, reason, domain=domain, retry_after=fault.retry_after)
        return None

    # ---------------------------------------------------------------------------------- recording

    def calls(self, path_prefix: str = "", method: str | None = None) -> list[RecordedCall]:
        """Recorded requests whose path (full, or under the API root) starts with ``path_prefix``."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (r.path.startswith(path_prefix) or r.path.removeprefix(API_PREFIX).startswith(path_prefix))
                and (method is None or r.method == method.upper())
            ]

    def _record(self, req: Request) -> RecordedCall:
        data = None
        if req.content_type == "application/json":
            with contextlib.suppress(ValueError):
                data = req.json()
        rec = RecordedCall(
            req.method, req.path, req.query, dict(req.headers), data, len(req.body), req.bearer, time.time()
        )
        self.requests.append(rec)
        return rec

    # ------------------------------------------------------------------------------------ access

    def _caller(self, req: Request) -> tuple[str | None, Response | None]:
        """(bearer token or None for API-key access, or the error response)."""
        token = req.bearer
        if token is not None:
            if token in self.tokens or (self.token_validator is not None and self.token_validator(token)):
                return token, None
            return None, drive_error(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                "other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                "authError",
                location="Authorization",
                location_type="header",
            )
        key = req.query.get("key")
        if key is None:
            return None, drive_error(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
                "forbidden",
            )
        if key != self.api_key:
            return None, drive_error(
                400, "API key not valid. Please pass a valid API key.", "badRequest", location="key"
            )
        return None, None

    def _resource_keys(self, req: Request) -> dict[str, str]:
        keys: dict[str, str] = {}
        for part in req.headers.get("x-goog-drive-resource-keys", "").split(","):
            item_id, _, key = part.strip().partition("/")
            if item_id and key:
                keys[item_id] = key
        return keys

    def _visible(self, item: DriveItem, token: str | None, keys: dict[str, str]) -> bool:
        # Public: a key, or any valid token (validated in _caller); private: only the owner's token.
        allowed = item.public or (token is not None and token == item.owner_token)
        if not allowed:
            return False
        # The owner never needs the resource key; link viewers do.
        if item.resource_key and token != item.owner_token:
            return keys.get(item.id) == item.resource_key
        return True

    # ------------------------------------------------------------------------------------ routes

    def handle(self, req: Request) -> Response:
        with self.lock:
            rec = self._record(req)
            response = self._fault(req) or self._route(req)
            rec.status = response.status
            return response

    def _route(self, req: Request) -> Response:
        if req.path in (f"{API_PREFIX}/files", f"{API_PREFIX}/files/"):
            if req.method != "GET":
                return drive_error(405, "Method not allowed in the fake (files.create is not faked).", "badRequest")
            return self._list(req)
        match = re.fullmatch(rf"(?:{API_PREFIX}|{DOWNLOAD_PREFIX})/files/([^/]+)", req.path)
        if match and req.method == "GET":
            return self._get(req, match.group(1))
        if match and req.method == "HEAD":
            response = self._get(req, match.group(1))
            return Response(response.status, b"", response.content_type, response.headers)
        return Response(404, f"Not Found: {req.path}".encode(), "text/html; charset=UTF-8")

    def _fields(self, req: Request, known: set[str]) -> tuple[dict[str, Any] | None, Response | None]:
        text = req.query.get("fields")
        if text is None:
            return None, None
        try:
            tree = parse_fields(text)
        except ValueError:
            return None, invalid(f"Invalid field selection {text}", "fields")
        bad = _unknown_fields(tree, known)
        if not bad and isinstance(tree.get("files"), dict):
            bad = _unknown_fields(tree["files"], FILE_FIELDS)
        if bad:
            return None, invalid(f"Invalid field selection {bad[0]}", "fields")
        return tree, None

    def _list(self, req: Request) -> Response:
        token, error = self._caller(req)
        if error:
            return error
        tree, error = self._fields(req, LIST_FIELDS)
        if error:
            return error
        try:
            query = parse_q(req.query.get("q", ""))
        except ValueError as exc:
            return invalid(f"Invalid Value: {exc}", "q")
        raw_size = req.query.get("pageSize", "100")
        if not raw_size.lstrip("-").isdigit() or not 1 <= int(raw_size) <= 1000:
            return invalid(f"Invalid value '{raw_size}'. Values must be within the range: [1, 1000]", "pageSize")
        page_size = int(raw_size)
        if self.max_page_items is not None:
            page_size = min(page_size, self.max_page_items)
        keys = self._resource_keys(req)
        for parent in query.parents:
            folder = self.items.get(parent)
            if folder is None or not self._visible(folder, token, keys):
                return not_found(parent)
        if query.parents:
            candidates = [i for i in self.items.values() if i.parent in query.parents]
        else:  # a bare search: only what the caller owns ("My Drive"); API-key callers own nothing
            candidates = [i for i in self.items.values() if token is not None and i.owner_token == token]
        matched = [i for i in candidates if query.matches(i)]
        order, error = self._order(req.query.get("orderBy"))
        if error:
            return error
        for key, desc in reversed(order):
            matched.sort(key=key, reverse=desc)

        signature = hashlib.sha1(
            json.dumps([req.query.get("q", ""), req.query.get("orderBy", "")]).encode()
        ).hexdigest()[:12]
        offset = 0
        if "pageToken" in req.query:
            offset_or_none = self._read_page_token(req.query["pageToken"], signature)
            if offset_or_none is None:
                return invalid("Invalid Value", "pageToken")
            offset = offset_or_none
        page = matched[offset : offset + page_size]
        body: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False}
        if offset + page_size < len(matched):
            body["nextPageToken"] = self._page_token(offset + page_size, signature)
        files = [i.resource() for i in page]
        file_tree = tree.get("files") if tree is not None else dict.fromkeys(DEFAULT_FILE_FIELDS)
        body["files"] = select(files, file_tree) if tree is None or "files" in tree else []
        if tree is not None:
            body = {k: v for k, v in body.items() if k in tree or "*" in tree}
        return json_response(body)

    def _order(self, text: str | None) -> tuple[list[tuple[Callable[[DriveItem], Any], bool]], Response | None]:
        keys: list[tuple[Callable[[DriveItem], Any], bool]] = []
        for part in (text or "").split(","):
            words = part.split()
            if not words:
                continue
            name, desc = words[0], len(words) > 1 and words[1].lower() == "desc"
            if name not in ORDER_KEYS:
                return [], invalid(f"Invalid Value: orderBy {name}", "orderBy")
            if name == "name":
                keys.append((lambda i: i.name, desc))
            elif name == "name_natural":
                keys.append(
                    (lambda i: [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", i.name)], desc)
                )
            elif name == "folder":
                keys.append((lambda i: not i.is_folder, desc))
            else:
                keys.append(((lambda i: i.modified) if name == "modifiedTime" else (lambda i: i.created), desc))
        return keys, None

    def _page_token(self, offset: int, signature: str) -> str:
        raw = f"{self.page_token_generation}:{signature}:{offset}:{secrets.token_hex(4)}"
        return "~!!~" + base64.urlsafe_b64encode(raw.encode()).decode()

    def _read_page_token(self, token: str, signature: str) -> int | None:
        try:
            generation, sig, offset, _ = base64.urlsafe_b64decode(token.removeprefix("~!!~")).decode().split(":")
            if int(generation) != self.page_token_generation or sig != signature:
                return None
            return int(offset)
        except (ValueError, UnicodeDecodeError):
            return None

    def _get(self, req: Request, item_id: str) -> Response:
        token, error = self._caller(req)
        if error:
            return error
        item = self.items.get(item_id)
        if item is None or not self._visible(item, token, self._resource_keys(req)):
            return not_found(item_id)
        if req.query.get("alt") == "media":
            return self._media(req, item)
        if req.query.get("alt") not in (None, "json"):
            return invalid(f"Invalid value '{req.query['alt']}'. Values must be one of: json, media", "alt")
        tree, error = self._fields(req, FILE_FIELDS)
        if error:
            return error
        return json_response(select(item.resource(), tree or dict.fromkeys(DEFAULT_FILE_FIELDS)))

    def _media(self, req: Request, item: DriveItem) -> Response:
        if item.is_folder or not item.is_blob:
            return drive_error(
                403,
                "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                "fileNotDownloadable",
                location="alt",
            )
        data, status, headers = item.data, 200, {"etag": f'"{hashlib.md5(item.data).hexdigest()}"'}
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", req.headers.get("range", "").strip())
        if match and (match.group(1) or match.group(2)) and data:
            start, end = match.group(1), match.group(2)
            first = int(start) if start else max(0, len(data) - int(end))
            last = min(int(end), len(data) - 1) if start and end else len(data) - 1
            if first < len(data) and first <= last:
                headers["content-range"] = f"bytes {first}-{last}/{len(data)}"
                data, status = data[first : last + 1], 206
        return Response(status, data, item.mime_type, headers)

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
        await send_response(send, self.handle(await read_request(scope, receive)))


@contextlib.contextmanager
def serve_asgi(app: Any, name: str) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a daemon thread on a free 127.0.0.1 port; yields its base URL."""
    import uvicorn

    from tests.support.servers import wait_for

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), 10, f"{name} at {base_url}")
        if not server.started:
            raise RuntimeError(f"{name} did not start (see the log above)")
        yield base_url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@contextlib.contextmanager
def running_fake_drive(**options: Any) -> Iterator[FakeDrive]:
    """Start a FakeDrive on a free 127.0.0.1 port (``fake.api_root`` is for GOOGLE_DRIVE_API); stop it on exit."""
    fake = FakeDrive(**options)
    with serve_asgi(fake, "fake-drive") as base_url:
        fake.base_url = base_url
        yield fake
