"""A local fake of Google (OAuth/OIDC, Photos Picker, Photos Library, media bytes) for the tests.

Written to /work/shared/specs/CONTRACTS.md §2-§4, §8, §9. Everything is served under one base URL::

    with running_fake_google(auto_consent=True) as fake:
        fake.fill_library(120)
        settings = make_settings(..., service_roots=fake.service_roots())

``fake.service_roots()`` maps the app's setting names (``google_auth_url`` ...) to the fake's URLs. The fake
keeps its own clock (``fake.now()``, moved by ``fake.advance(seconds)``) for token, code, session and
base-URL expiry. All state is plain attributes, guarded by ``fake.lock`` (the server runs in a thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tests.fakes import google_oauth as oauth
from tests.fakes import google_photos as photos
from tests.fakes.google_http import (
    Request,
    Response,
    google_error,
    json_response,
    oauth_error,
    read_request,
    send_response,
)
from tests.fakes.google_models import (
    APPENDONLY_SCOPE,
    EDIT_APPCREATED_SCOPE,
    PICKER_SCOPE,
    READONLY_APPCREATED_SCOPE,
    Authorization,
    BaseUrlGrant,
    FakeAlbum,
    FakePhoto,
    GoogleUser,
    Grant,
    LibraryItem,
    PickingSession,
    RecordedRequest,
    Token,
    Upload,
    canonical_scopes,
    new_id,
    sample_library,
)

__all__ = [
    "APPENDONLY_SCOPE",
    "EDIT_APPCREATED_SCOPE",
    "PICKER_SCOPE",
    "READONLY_APPCREATED_SCOPE",
    "FakeAlbum",
    "FakeGoogle",
    "FakePhoto",
    "GoogleUser",
    "running_fake_google",
    "sample_library",
]

Handler = Callable[..., Response]
OAUTH_PATHS = ("/token", "/revoke")
GARBLED = "<html><body>The network you are on asks you to sign in first.</body></html>"


@dataclass
class Fault:
    path_prefix: str
    status: int
    times: int
    retry_after: float | None
    message: str | None
    after: int = 0  # matching requests answered as usual first


class FakeGoogle:
    """The fake's state and control methods; also the ASGI app the server runs."""

    def __init__(
        self,
        *,
        base_url: str = "http://127.0.0.1:0",
        client_id: str = "test-client-id",
        client_secret: str = "test-client-secret",
        redirect_uris: Sequence[str] | None = None,
        auto_consent: bool = False,
        user: GoogleUser | None = None,
        expires_in: float = 3599,
        poll_interval: str = "1s",
        picking_timeout: float = 1799.0,
        session_ttl: float = 7200.0,
        base_url_ttl: float = 3600.0,
        upload_token_ttl: float = 86400.0,
        default_rendition: int = 512,
        partial_status: int = 207,
        library: Sequence[FakePhoto] = (),
    ) -> None:
        self.base_url = base_url
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uris: list[str] | None = None if redirect_uris is None else list(redirect_uris)
        self.auto_consent = auto_consent
        self.next_user: GoogleUser = user or GoogleUser()
        self.untick_scopes: set[str] = set()  # scopes the user unticks on the consent screen
        self.expires_in = expires_in
        self.poll_interval, self.picking_timeout, self.session_ttl = poll_interval, picking_timeout, session_ttl
        self.base_url_ttl, self.upload_token_ttl = base_url_ttl, upload_token_ttl
        self.default_rendition, self.partial_status = default_rendition, partial_status
        self.library: list[FakePhoto] = list(library)
        self.lock = threading.RLock()
        self._offset = 0.0
        self.requests: list[RecordedRequest] = []
        self.authorizations: list[Authorization] = []
        self.codes: dict[str, Authorization] = {}
        self.grants: list[Grant] = []
        self.tokens: dict[str, Token] = {}
        self.sessions: dict[str, PickingSession] = {}
        self.base_urls: dict[str, BaseUrlGrant] = {}
        self.uploads: dict[str, Upload] = {}
        self.albums: dict[str, FakeAlbum] = {}
        self.media_items: dict[str, LibraryItem] = {}
        self.faults: list[Fault] = []
        self.delays: list[list[Any]] = []  # [path prefix, seconds, times]
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/o/oauth2/v2/auth"), oauth.authorize),
            ("POST", re.compile(r"/o/oauth2/v2/auth/consent"), oauth.consent),
            ("*", re.compile(r"/token"), oauth.token),
            ("POST", re.compile(r"/revoke"), oauth.revoke),
            ("GET POST", re.compile(r"/v1/userinfo"), oauth.userinfo),
            ("GET", re.compile(r"/oauth2/v3/certs"), lambda fake, req: json_response(oauth.jwks())),
            ("GET", re.compile(r"/\.well-known/openid-configuration"), oauth.openid_configuration),
            ("POST", re.compile(r"/picker/v1/sessions"), photos.create_session),
            ("GET DELETE", re.compile(r"/picker/v1/sessions/([^/]+)"), photos.session_resource),
            ("GET", re.compile(r"/picker/v1/mediaItems"), photos.list_media_items),
            ("GET POST", re.compile(r"/pick/([^/]+)(?:/autoclose)?"), photos.picker_page),
            ("GET", re.compile(r"/media/.+"), photos.media),
            ("POST", re.compile(r"/library/v1/uploads"), photos.upload),
            ("POST", re.compile(r"/library/v1/albums"), photos.create_album),
            ("POST", re.compile(r"/library/v1/mediaItems:batchCreate"), photos.batch_create),
        ]

    # ------------------------------------------------------------------------------------ URLs, clock

    def service_roots(self) -> dict[str, str]:
        """The app's Google service-root settings pointed at this fake."""
        b = self.base_url
        return {
            "google_auth_url": f"{b}/o/oauth2/v2/auth",
            "google_token_url": f"{b}/token",
            "google_revoke_url": f"{b}/revoke",
            "google_userinfo_url": f"{b}/v1/userinfo",
            "google_picker_api": f"{b}/picker/v1",
            "google_photos_library_api": f"{b}/library/v1",
        }

    @property
    def jwks_url(self) -> str:
        return f"{self.base_url}/oauth2/v3/certs"

    @property
    def public_key_pem(self) -> bytes:
        """The PEM of the RS256 key that signs id_tokens (also served as a JWKS at ``jwks_url``)."""
        return oauth.public_key_pem()

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (tokens, codes, sessions and base URLs expire by it)."""
        with self.lock:
            self._offset += seconds

    # ----------------------------------------------------------------------------- users and tokens

    def redirect_uri_allowed(self, uri: str) -> bool:
        if self.redirect_uris is not None:
            return uri in self.redirect_uris
        return re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/", uri) is not None

    def grant_for(self, user: GoogleUser, client_id: str) -> Grant:
        grant = self.live_grant(user.sub, client_id)
        if grant is None:
            grant = Grant(user, client_id)
            self.grants.append(grant)
        return grant

    def live_grant(self, sub: str, client_id: str) -> Grant | None:
        return next((g for g in self.grants if g.user.sub == sub and g.client_id == client_id and not g.revoked), None)

    def issue_token(
        self, scopes: str | Sequence[str] = (PICKER_SCOPE, APPENDONLY_SCOPE), user: GoogleUser | None = None
    ) -> str:
        """An access token without the browser flow (for API-level tests)."""
        with self.lock:
            grant = self.grant_for(user or self.next_user, self.client_id)
            wanted = canonical_scopes(scopes if isinstance(scopes, str) else list(scopes))
            grant.scopes |= wanted
            token = Token(new_id("ya29.a0", 60), "access", grant, wanted, self.now() + self.expires_in)
            self.tokens[token.value] = token
            return token.value

    def check_bearer(self, req: Request, scope: str | None) -> Token | Response:
        """The live access token of ``req`` carrying ``scope``, or the 401/403 error response."""
        found = self.tokens.get(req.bearer or "")
        if found is None or found.kind != "access" or not found.live(self.now()):
            return self.api_error(401)
        if scope is not None and scope not in found.scopes:
            return self.api_error(403)
        return found

    def api_error(self, status: int, message: str | None = None, **kwargs: Any) -> Response:
        return google_error(status, message, **kwargs)

    # -------------------------------------------------------------------------------------- Picker

    def fill_library(self, count: int, *, heic_every: int = 5, size: tuple[int, int] = (320, 240)) -> list[FakePhoto]:
        """Replace the library by ``count`` generated photos (every ``heic_every``-th HEIC); returns it."""
        with self.lock:
            self.library = sample_library(count, heic_every=heic_every, size=size)
            return self.library

    def photo(self, item_id: str) -> FakePhoto | None:
        return next((p for p in self.library if p.id == item_id), None)

    def pick(self, session_id: str, items: Sequence[str] | int | None = None) -> list[str]:
        """The user picks ``items`` (ids, or the first N of the library; None: all) and taps Done."""
        with self.lock:
            session = self.sessions[session_id]
            if items is None or isinstance(items, int):
                ids = [p.id for p in self.library[: items if isinstance(items, int) else None]]
            else:
                ids = list(items)
                unknown = [i for i in ids if self.photo(i) is None]
                if unknown:
                    raise KeyError(f"not in fake.library: {unknown}")
            if session.max_item_count is not None and len(ids) > int(session.max_item_count):
                raise ValueError(f"session allows at most {session.max_item_count} items")
            session.picked = ids
            return ids

    def expire_session(self, session_id: str) -> None:
        with self.lock:
            self.sessions[session_id].expire_time = self.now()

    def expire_base_urls(self) -> None:
        with self.lock:
            for grant in self.base_urls.values():
                grant.expired = True

    # ------------------------------------------------------------------------------------- Library

    def add_album(self, title: str, *, app_created: bool = False, user: GoogleUser | None = None) -> FakeAlbum:
        """An album that exists in the user's library (by default one the app did not create)."""
        with self.lock:
            album = FakeAlbum(new_id(nbytes=30), title, (user or self.next_user).sub, app_created)
            self.albums[album.id] = album
            return album

    # -------------------------------------------------------------------------------------- faults

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
        after: int = 0,
    ) -> None:
        """The next ``times`` requests whose path starts with ``path_prefix`` fail with ``status`` (200: an
        HTML page where the API's JSON should be), once ``after`` of them have been answered as usual."""
        with self.lock:
            self.faults.append(Fault(path_prefix, status, times, retry_after, message, after))

    def delay_next(self, path_prefix: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` requests whose path starts with ``path_prefix`` are answered ``seconds`` late (as
        themselves, after the wait), so that two of them can be in flight at once."""
        with self.lock:
            self.delays.append([path_prefix, seconds, times])

    def _delay(self, path: str) -> float:
        with self.lock:
            for delay in self.delays:
                if delay[2] > 0 and path.startswith(delay[0]):
                    delay[2] -= 1
                    return delay[1]
        return 0.0

    def revoke_all(self, user: GoogleUser | str | None = None) -> None:
        """The user (default: all users) revokes access: refresh and access tokens die."""
        sub = user.sub if isinstance(user, GoogleUser) else user
        with self.lock:
            for grant in self.grants:
                if sub is None or grant.user.sub == sub:
                    grant.revoked = True

    def expire_access_tokens(self) -> None:
        with self.lock:
            now = self.now()
            for token in self.tokens.values():
                if token.kind == "access" and token.expires_at is not None:
                    token.expires_at = min(token.expires_at, now)

    # ----------------------------------------------------------------------------------- recording

    def calls(self, path_prefix: str = "", method: str | None = None) -> list[RecordedRequest]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method.upper())
            ]

    @property
    def last_authorization(self) -> Authorization | None:
        return self.authorizations[-1] if self.authorizations else None

    def _record(self, req: Request) -> RecordedRequest:
        form = req.form()
        data = None
        if req.content_type == "application/json":
            with contextlib.suppress(ValueError):
                data = req.json()
        rec = RecordedRequest(
            req.method, req.path, req.query, dict(req.headers), form, data, len(req.body), req.bearer, self.now()
        )
        self.requests.append(rec)
        return rec

    def _fault(self, req: Request) -> Response | None:
        for fault in self.faults:
            if fault.times > 0 and req.path.startswith(fault.path_prefix):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.times -= 1
                if fault.status == 200:  # a 200 that is not the API's JSON, as a captive portal or proxy sends
                    return Response(200, (fault.message or GARBLED).encode(), "text/html; charset=utf-8")
                if req.path in OAUTH_PATHS:
                    error = {401: "invalid_client", 429: "rate_limit_exceeded"}.get(fault.status, "internal_failure")
                    return oauth_error(error, fault.message or "Injected failure", fault.status, fault.retry_after)
                return google_error(fault.status, fault.message, retry_after=fault.retry_after)
        return None

    def handle(self, req: Request) -> Response:
        with self.lock:
            rec = self._record(req)
            response = self._fault(req) or self._route(req)
            rec.status = response.status
            return response

    def _route(self, req: Request) -> Response:
        for methods, pattern, handler in self.routes:
            match = pattern.fullmatch(req.path)
            if match and (methods == "*" or req.method in methods.split()):
                return handler(self, req, *match.groups())
        return google_error(404, f"The requested URL {req.path} was not found on this server.")

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
        req = await read_request(scope, receive)
        if wait := self._delay(req.path):
            await asyncio.sleep(wait)
        await send_response(send, self.handle(req))


@contextlib.contextmanager
def running_fake_google(**options: Any) -> Iterator[FakeGoogle]:
    """Start a FakeGoogle (uvicorn in a daemon thread) on a free 127.0.0.1 port; stop it on exit."""
    import uvicorn

    from tests.support.servers import wait_for

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    fake = FakeGoogle(**options)
    fake.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    config = uvicorn.Config(fake, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fake-google", daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started or not thread.is_alive(), 10, f"fake Google at {fake.base_url}")
        if not server.started:
            raise RuntimeError("fake Google did not start (see the log above)")
        yield fake
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
