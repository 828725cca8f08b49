"""First run, sign in and sign out for people in a browser (a server-side session cookie)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from app.domain.errors import Conflict, InvalidInput, NotAuthenticated, TooManyAttempts
from app.domain.model import User
from app.domain.services import accounts
from app.routes.deps import ContainerDep, caller, password_checks
from app.routes.errors import status_of
from app.routes.security import requires_page_user
from app.routes.sessions import rotate_session_id

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect to another host."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


async def _has_owner(container: ContainerDep) -> bool:
    async with container.uow() as tx:
        return await tx.users.count() > 0


def sign_in(request: Request[Any, Any, Any], user: User) -> None:
    request.clear_session()
    request.set_session({"user_id": str(user.id), "stamp": accounts.session_stamp(user)})
    rotate_session_id(request.scope)


GOOGLE_SIGNED_IN_AT = "google_signed_in_at"
KNOWN_BROWSER = "classify_known"  # this browser signed in to the account before (accounts.known_browser_mark)
KNOWN_BROWSER_DAYS = 365
PASSWORD_GIVEN_AT = "password_given_at"


def mark_password_given(request: Request[Any, Any, Any], now: dt.datetime) -> None:
    """Note in this browser's session that its person has just given the account's password."""
    request.set_session({**request.session, PASSWORD_GIVEN_AT: now.isoformat()})


def password_given_at(request: Request[Any, Any, Any]) -> dt.datetime | None:
    return _session_time(request, PASSWORD_GIVEN_AT)


def mark_google_sign_in(request: Request[Any, Any, Any], now: dt.datetime) -> None:
    """Note in this browser's session that it has just signed in with Google (see accounts.may_add_password)."""
    request.set_session({**request.session, GOOGLE_SIGNED_IN_AT: now.isoformat()})


def google_signed_in_at(request: Request[Any, Any, Any]) -> dt.datetime | None:
    return _session_time(request, GOOGLE_SIGNED_IN_AT)


def _session_time(request: Request[Any, Any, Any], key: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(request.session[key])
    except (KeyError, TypeError, ValueError):
        return None


DELETED = "Your account and everything Classify kept of it are deleted."
ENDED = "You were signed out here: the password was changed, or this account signed out everywhere else."
EXPIRED = "Your session ended. Sign in again to go on where you were."
SIGNED_OUT = "You are signed out."


LOOPBACK_NAMES = ("localhost", "localhost.")
# what a reverse proxy adds (nginx, Apache, Caddy, Traefik, HAProxy): a request that carries one came through it
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "via")


def asked_from_this_machine(host_header: str | None, client: str | None, proxied: bool = False) -> bool:
    """Whether a request reached the server from this machine by a loopback name, and not through a proxy. A
    server listening on 127.0.0.1 still hears the world through a reverse proxy on the same machine (which
    names the real client in X-Forwarded-For, and the site in Host), and a page elsewhere can rebind its own
    name to 127.0.0.1 (its name stays in Host). A proxy that adds nothing and rewrites Host to 127.0.0.1
    cannot be told from a browser here: the README says to make the first account on the command line there."""
    try:
        name = urlsplit(f"//{host_header or ''}").hostname or ""
    except ValueError:  # a Host no browser sends ("[::1")
        return False
    named_here = name in LOOPBACK_NAMES or name.endswith(".localhost") or _is_loopback(name)
    return named_here and not proxied and client is not None and _is_loopback(client)


def _is_loopback(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def _setup_closed(request: Request[Any, Any, Any], container: ContainerDep) -> str | None:
    """Why the first-run page makes no account here: the server listens on a public address, or this
    request came from elsewhere; None when it may."""
    if not container.first_run_page:
        return "public"
    client = request.client.host if request.client else None
    proxied = any(name in request.headers for name in PROXY_HEADERS)
    return None if asked_from_this_machine(request.headers.get("host"), client, proxied) else "elsewhere"


@get("/setup", include_in_schema=False)
async def setup_page(
    request: Request[Any, Any, Any], container: ContainerDep, deleted: bool = False
) -> Template | Redirect:
    if await _has_owner(container):
        return Redirect("/login")
    context = {"error": None, "email": "", "notice": DELETED if deleted else None}
    return Template("setup.html", context={**context, "closed": _setup_closed(request, container)})


@post("/setup", include_in_schema=False, status_code=303)
async def setup(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Template | Redirect:
    if closed := _setup_closed(request, container):
        return Template("setup.html", context={"closed": closed, "notice": None, "error": None}, status_code=403)
    email, password = data.get("email", ""), data.get("password", "")
    try:
        if password != data.get("password_again", ""):
            raise InvalidInput("The two passwords are not the same.")
        user = await accounts.create_owner(
            email, password, uow=container.uow, passwords=container.passwords, name=data.get("name") or None
        )
    except (InvalidInput, Conflict) as exc:
        context = {"error": exc.detail, "email": email, "name": data.get("name", "")}
        return Template("setup.html", context=context, status_code=422)
    sign_in(request, user)
    mark_password_given(request, container.clock())
    return Redirect("/", status_code=303)


@get("/login", include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any],
    container: ContainerDep,
    next: str | None = None,
    deleted: bool = False,
    ended: bool = False,
    expired: bool = False,
    signed_out: bool = False,
) -> Template | Redirect:
    if not await _has_owner(container):
        return Redirect("/setup?deleted=1" if deleted else "/setup")
    if isinstance(request.scope.get("user"), User):
        return Redirect(safe_next(next))
    context = {"error": None, "email": "", "next": safe_next(next), "google": container.google.configured}
    notices = [
        words
        for asked, words in ((deleted, DELETED), (ended, ENDED), (expired, EXPIRED), (signed_out, SIGNED_OUT))
        if asked
    ]
    context["notice"] = notices[0] if notices else None
    return Template("login.html", context=context)


@post("/login", include_in_schema=False, status_code=303)
async def login(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Template | Redirect:
    email, target = data.get("email", ""), safe_next(data.get("next"))
    secret = container.settings.secret_key
    marks = [mark for mark in request.cookies.get(KNOWN_BROWSER, "").split(".") if mark]
    try:
        user = await accounts.authenticate(
            email,
            data.get("password", ""),
            **password_checks(request, container),
            account_throttle=container.account_logins,
            browser_marks=marks,
            secret_key=secret,
        )
    except (NotAuthenticated, TooManyAttempts) as exc:
        context = {"error": exc.detail, "email": email, "next": target, "google": container.google.configured}
        wait = {"Retry-After": str(int(exc.retry_after))} if isinstance(exc, TooManyAttempts) else None
        return Template("login.html", context=context, status_code=status_of(exc), headers=wait)
    sign_in(request, user)
    mark_password_given(request, container.clock())
    known = Cookie(
        key=KNOWN_BROWSER,
        value=".".join(accounts.marks_kept(marks, accounts.known_browser_mark(secret, user))),
        max_age=KNOWN_BROWSER_DAYS * 86400,
        httponly=True,
        secure=container.settings.secure_cookies,
        samesite="lax",
    )
    return Redirect(target, status_code=303, cookies=[known])


@get("/settings/confirm", guards=[requires_page_user], include_in_schema=False)
async def confirm_page(next: str | None = None) -> Template:
    """The password asked again before Google becomes a way into the account (accounts.must_confirm_password)."""
    return Template("confirm_password.html", context={"next": safe_next(next), "error": None})


@post("/settings/confirm", guards=[requires_page_user], include_in_schema=False, status_code=303)
async def confirm(request: Request[Any, Any, Any], container: ContainerDep, data: Form) -> Template | Redirect:
    target = safe_next(data.get("next"))
    try:
        given = data.get("password", "")
        await accounts.confirm_password(caller(request), given, **password_checks(request, container))
    except (InvalidInput, TooManyAttempts) as exc:
        wait = {"Retry-After": str(int(exc.retry_after))} if isinstance(exc, TooManyAttempts) else None
        context = {"next": target, "error": exc.detail}
        return Template("confirm_password.html", context=context, status_code=status_of(exc), headers=wait)
    mark_password_given(request, container.clock())
    return Redirect(target, status_code=303)


# With the session, the browser's copies of the signed-in pages go: Back on a shared computer showed the gallery.
FORGET_PAGES = {"Clear-Site-Data": '"cache"'}


@post("/logout", include_in_schema=False, status_code=303)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return Redirect("/login?signed_out=1", status_code=303, headers=FORGET_PAGES)


HANDLERS = [setup_page, setup, login_page, login, logout, confirm_page, confirm]
