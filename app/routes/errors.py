"""Domain failures to HTTP answers, once: JSON `{status_code, detail}` on the API, a page for people."""

from __future__ import annotations

import html
import re
import traceback
from urllib.parse import quote, urlsplit

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, InternalServerException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.adapters.sql.outage import NO_SPACE, is_disk_full, is_outage
from app.domain.errors import (
    DISK_FULL,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadRejected,
    TooManyAttempts,
)
from app.domain.google import GoogleFailure, RateLimited
from app.domain.vision import VisionAnswerInvalid, VisionBusy, VisionUnavailable
from app.logs import log
from app.routes.security import API_PREFIX, LoginRequired
from app.routes.sessions import SESSION_COOKIE


def status_of(exc: DomainError) -> int:
    if isinstance(exc, PayloadRejected):
        return exc.status_code
    kinds = (
        (NotFound, 404),
        (Conflict, 409),
        (InvalidInput, 422),
        (NotAuthenticated, 401),
        (Forbidden, 403),
        (TooManyAttempts, 429),
    )
    for kind, status in kinds:
        if isinstance(exc, kind):
            return status
    return 400


def _wants_json(request: Request) -> bool:
    return (
        request.url.path.startswith(API_PREFIX)
        or request.url.path.startswith("/health")
        or ("application/json" in request.headers.get("accept", "") and not request.headers.get("hx-request"))
    )


def _answer(request: Request, status: int, detail: str) -> Response:
    if _wants_json(request):
        return Response({"status_code": status, "detail": detail}, status_code=status, media_type=MediaType.JSON)
    if request.headers.get("hx-request"):
        return Response(
            f'<p class="error" role="alert">{html.escape(detail)}</p>', status_code=status, media_type=MediaType.HTML
        )
    return Template("error.html", context={"status_code": status, "detail": detail}, status_code=status)


def domain_error(request: Request, exc: DomainError) -> Response:
    response = _answer(request, status_of(exc), exc.detail)
    if wait := getattr(exc, "retry_after", None):  # too many sign-ins; the month's AI allowance spent
        response.headers["Retry-After"] = str(int(wait))
    return response


def vision_error(request: Request, exc: VisionUnavailable) -> Response:
    if isinstance(exc, VisionBusy):
        response = _answer(request, 429, exc.detail)
        if exc.retry_after:
            response.headers["Retry-After"] = str(int(exc.retry_after))
        return response
    return _answer(request, 502 if isinstance(exc, VisionAnswerInvalid) else 503, exc.detail)


def google_error(request: Request, exc: GoogleFailure) -> Response:
    """Google refused or could not be reached, where no use case turned that into its own answer."""
    if isinstance(exc, RateLimited):
        response = _answer(request, 429, f"{exc.detail} Try again later.")
        if exc.retry_after:
            response.headers["Retry-After"] = exc.retry_after
        return response
    return _answer(request, 502, exc.detail)


def http_error(request: Request, exc: HTTPException) -> Response:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 400 and getattr(exc, "extra", None):
        # Litestar's detail names the whole address, query and all (30 KB of a long parameter, echoed): the path
        # is enough, with what was wrong with which parameter
        failed = f"Validation failed for {request.method} {request.url.path}"
        detail = NO_BODY if _body_missing(exc.extra) else f"{failed}: {_describe(exc.extra)}"
    if exc.status_code == 413:
        detail = TOO_LARGE  # uploads say their own limit (app/routes/upload_stream.py); this is any other request
    if exc.status_code == 403 and detail == LITESTAR_CSRF_FAILED:
        detail = CSRF_FAILED
    detail = FRAMEWORK_PHRASES.get(detail, detail)
    response = _answer(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


TOO_LARGE = "The request is too large for this address; nothing was changed."
LITESTAR_CSRF_FAILED = "CSRF token verification failed"  # what Litestar's CSRF middleware says, to a person
CSRF_FAILED = (
    "This form is out of date, or was not sent from Classify's own page (its security token did not match): "
    "reload the page and try again. Nothing was changed."
)
NO_BODY = "This request needs a JSON body; none came."
# what Litestar says of an address it has no route for, in words a person reads on the error page
FRAMEWORK_PHRASES = {
    "Not Found": "There is nothing at this address: the link is wrong or out of date.",
    "Method Not Allowed": "This address does not take that kind of request.",
}
JSON_DECODER = "litestar/serialization/msgspec_hooks.py"  # where Litestar decodes a JSON body
TOO_DEEP = "The JSON body is nested too deeply to read; nothing was changed."


def _body_missing(extra: object) -> bool:
    # an empty body leaves the handler's `data` unset, which Litestar reports as the missing key itself
    return isinstance(extra, list) and any(
        isinstance(item, dict) and item.get("key") == "data" and item.get("message") == "'data'" for item in extra
    )


DATABASE_AWAY = "The database cannot be reached just now; nothing was changed. Try again in a moment."
DATABASE_RETRY_SECONDS = 5
DATABASE_BUSY = "The database was busy with another change; nothing was changed. Try again in a moment."
REMOVED_MEANWHILE = (
    "Something this request refers to (a photo, or the account itself) was removed meanwhile; nothing was changed."
)
FOREIGN_KEY = re.compile(r"FOREIGN KEY constraint failed|violates foreign key constraint", re.IGNORECASE)
DATABASE_DRIVERS = ("/sqlalchemy/", "/asyncpg/", "/aiosqlite/")  # a refused connection elsewhere is not the database


def _raised_in(exc: BaseException, packages: tuple[str, ...]) -> bool:
    return any(part in frame.filename for frame in traceback.extract_tb(exc.__traceback__) for part in packages)


def database_error(request: Request, exc: Exception) -> Response:
    """The database down or restarting is a 503 the client may retry; a row this request refers to, removed by
    another one meanwhile (an account deleted while its requests were under way), a 409; any other error of it
    is ours (500)."""
    if is_disk_full(exc):
        return disk_full(request, exc)
    if isinstance(exc, IntegrityError) and FOREIGN_KEY.search(str(exc)):
        log.info("a row referred to was removed meanwhile", path=request.url.path)
        return _answer(request, 409, REMOVED_MEANWHILE)
    if not is_outage(exc) or not _raised_in(exc, DATABASE_DRIVERS):
        return unexpected_error(request, exc)
    # SQLite answers "locked" to a write that another one got in before: busy, not out of reach
    busy = "database is locked" in str(exc)
    log.warning("database busy" if busy else "database unreachable", path=request.url.path,
                error=f"{type(exc).__name__}: {exc}"[:300])  # fmt: skip
    response = _answer(request, 503, DATABASE_BUSY if busy else DATABASE_AWAY)
    response.headers["Retry-After"] = str(1 if busy else DATABASE_RETRY_SECONDS)
    return response


def disk_error(request: Request, exc: OSError) -> Response:
    """A write the disk had no room for (a sign-in's session file, say) is the server's state, not a fault:
    507, and the log says so without a traceback."""
    if exc.errno not in NO_SPACE:
        return unexpected_error(request, exc)
    return disk_full(request, exc)


def disk_full(request: Request, exc: Exception) -> Response:
    log.warning("disk full", path=request.url.path, error=f"{type(exc).__name__}: {exc}"[:300])
    return _answer(request, 507, DISK_FULL)


def too_deep(request: Request, exc: RecursionError) -> Response:
    """msgspec gives up on a body nested deeper than the interpreter's recursion limit (`[[[[...`); a
    recursion anywhere else is ours."""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames and frames[-1].filename.endswith(JSON_DECODER):
        return _answer(request, 400, TOO_DEEP)
    return unexpected_error(request, exc)


def _describe(extra: object) -> str:
    if isinstance(extra, list):
        parts = []
        for item in extra:
            if isinstance(item, dict):
                key = item.get("key")
                parts.append(f"{key}: {item.get('message')}" if key else str(item.get("message")))
        return "; ".join(parts) or str(extra)
    return str(extra)


def login_required(request: Request, _: LoginRequired) -> Response:
    """To the sign-in page, which says why when a session ended, and back to where the person was after."""
    auth = request.scope.get("auth")
    if isinstance(auth, dict) and auth.get("ended"):  # signed out from elsewhere
        why = "&ended=1"
    else:  # a session cookie that no longer signs anyone in: it expired, or its store was cleared
        why = "&expired=1" if SESSION_COOKIE in request.cookies else ""
    location = f"/login?next={quote(_return_to(request))}{why}"
    if request.headers.get("hx-request"):
        return Response("", status_code=401, headers={"HX-Redirect": location})
    return Redirect(location)


def _return_to(request: Request) -> str:
    """This page; for an action (a form's post, an htmx request) the page it was taken on, since the action's
    own address may answer nothing to a GET."""
    if request.method == "GET" and not request.headers.get("hx-request"):
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    page = urlsplit(request.headers.get("hx-current-url") or request.headers.get("referer") or "/")
    if page.netloc and page.netloc != request.url.netloc:
        return "/"
    return (page.path or "/") + (f"?{page.query}" if page.query else "")


CLIENT_GONE = "client disconnected prematurely"  # Litestar's detail when the body stops half-way


def unexpected_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, InternalServerException) and exc.detail == CLIENT_GONE:
        # a closed tab or a dropped connection (an upload, a form, a JSON body), not our failure: nobody
        # reads the answer, but the log and /metrics should count it as a bad request, not a server error
        return _answer(request, 400, "The request stopped before its whole body arrived; nothing was changed.")
    log.exception("unhandled error", path=request.url.path)
    return _answer(request, HTTP_500_INTERNAL_SERVER_ERROR, "Something went wrong on our side; it has been logged.")


EXCEPTION_HANDLERS = {
    DomainError: domain_error,
    VisionUnavailable: vision_error,
    GoogleFailure: google_error,
    HTTPException: http_error,
    LoginRequired: login_required,
    RecursionError: too_deep,
    DBAPIError: database_error,
    ConnectionError: database_error,  # asyncpg's refused connection comes through unwrapped
    OSError: disk_error,
    HTTP_500_INTERNAL_SERVER_ERROR: unexpected_error,
}
