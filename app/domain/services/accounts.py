"""Local accounts and API sign-in: passwords, access tokens, rotating refresh tokens."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.errors import (
    Conflict,
    Contention,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadRejected,
    RefreshTokenReused,
    TooManyAttempts,
)
from app.domain.google import GoogleFailure
from app.domain.model import User
from app.domain.ports import AccessTokens, LoginAttempts, PasswordHasher, PhotoStorage, UowFactory
from app.domain.services.google_account import GoogleAuth, disconnect
from app.domain.units import plural

REFRESH_LIFETIME = dt.timedelta(days=30)
MIN_PASSWORD_LENGTH = 8
DELETE_ATTEMPTS = 3
KNOWN_ACCOUNTS = 5  # accounts a browser is known to, for the limit on one account from every client
HELD = "Too many failed sign-ins; try again in about {wait}."
ACCOUNT_HELD = (
    "This account has had too many failed sign-ins from many places. Try again in about {wait}, or from a "
    "browser that has signed in to it before."
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def _hash_refresh(token: str) -> str:
    # Refresh tokens are random 256-bit strings, so a plain SHA-256 is enough to keep them useless at rest.
    return hashlib.sha256(token.encode()).hexdigest()


def _refresh_token(session_id: uuid.UUID) -> str:
    """A new refresh token of this sign-in: its id, then 256 random bits. The id is what tells a token used
    twice (copied, and used by someone else) from one that was never issued."""
    return f"{session_id.hex}.{secrets.token_urlsafe(32)}"


def _session_named(refresh_token: str) -> uuid.UUID | None:
    head, dot, _ = refresh_token.partition(".")
    try:
        return uuid.UUID(hex=head) if dot else None
    except ValueError:
        return None


def looks_like_email(text: str) -> bool:
    return len(text) <= 320 and _EMAIL.match(text) is not None


def check_new_credentials(email: str, password: str) -> str:
    email = email.strip().lower()
    if not looks_like_email(email):
        raise InvalidInput("Enter a valid email address, like name@example.com.")
    check_new_password(password)
    return email


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > 1024:
        raise InvalidInput("The password must be at most 1024 characters long.")


def session_stamp(user: User) -> str:
    """What a browser's sign-in keeps of the account's password and session epoch: when either changes, the
    stamp does, and every sign-in made before it ends (the one that changed it is stamped again)."""
    epoch = f"|{user.session_epoch}" if user.session_epoch else ""  # epoch 0 keeps the stamps made before it
    return hashlib.sha256(f"classify-session|{user.password_hash or ''}{epoch}".encode()).hexdigest()[:32]


async def create_user(
    email: str, password: str, *, uow: UowFactory, passwords: PasswordHasher, name: str | None = None
) -> User:
    email = check_new_credentials(email, password)
    async with uow() as tx:
        if await tx.users.by_email(email):
            raise Conflict(f"An account for {email} already exists.")
        user = await tx.users.add(email, passwords.hash(password), name)
        await tx.commit()
    return user


async def create_owner(
    email: str, password: str, *, uow: UowFactory, passwords: PasswordHasher, name: str | None = None
) -> User:
    """The first-run account; refused once any account exists (asked in the transaction that makes it)."""
    email = check_new_credentials(email, password)
    async with uow() as tx:
        await tx.users.hold_first_run()
        if await tx.users.count():
            raise Conflict("Classify already has an owner account; sign in instead.")
        user = await tx.users.add(email, passwords.hash(password), name)
        await tx.commit()
    return user


async def authenticate(
    email: str,
    password: str,
    *,
    uow: UowFactory,
    passwords: PasswordHasher,
    now: dt.datetime,
    throttle: LoginAttempts | None = None,
    client: str = "",
    account_throttle: LoginAttempts | None = None,
    browser_marks: Sequence[str] = (),
    secret_key: str = "",
) -> User:
    """The account for these credentials. After too many failures from one client for one email, even the
    right password waits (TooManyAttempts), or the limit would tell a guesser when they had it. After too
    many for one email from every client together, only a browser that has signed in to it before (it
    brings that account's mark among `browser_marks`) may try."""
    key = f"{email.strip().lower()}|{client}"
    account_key = f"{email.strip().lower()}|every client"
    await _wait_turn(throttle, key, now)
    async with uow() as tx:
        user = await tx.users.by_email(email)
        if not (user and secret_key and _brings_mark(known_browser_mark(secret_key, user), browser_marks)):
            await _wait_turn(account_throttle, account_key, now, ACCOUNT_HELD)
        password_hash = user.password_hash if user else None
        if not password_hash:
            passwords.verify_decoy(password)  # as slow as a wrong password: the time must not tell who has an account
        if user is None or not password_hash or not passwords.verify(password_hash, password):
            for counted, counted_key in ((throttle, key), (account_throttle, account_key)):
                if counted:
                    await counted.failed(counted_key, now)
            raise NotAuthenticated("The email or password is not right.")
        await tx.users.touch_login(user.id, now)
        await tx.commit()
    if throttle:
        await throttle.succeeded(key)
    return user


async def _confirm_password(
    user: User,
    given: str,
    wrong: str,
    passwords: PasswordHasher,
    throttle: LoginAttempts | None,
    client: str,
    now: dt.datetime,
) -> None:
    """A signed-in person's own password, asked again before a change that matters; a wrong one counts with the
    failed sign-ins (InvalidInput saying `wrong`), so a stolen session cannot try passwords freely."""
    key = f"{user.email}|{client}"
    await _wait_turn(throttle, key, now)
    if not passwords.verify(user.password_hash or "", given):
        if throttle:
            await throttle.failed(key, now)
        raise InvalidInput(wrong)


def known_browser_mark(secret_key: str, user: User) -> str:
    """What a browser keeps once it has signed in to this account with its password, so that a guesser
    trying the account from many addresses does not hold its owner back (see authenticate). It goes with
    the session stamp: a new password, or signing out everywhere, makes every browser's mark a stranger's."""
    message = f"signed in here before|{user.email}|{session_stamp(user)}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def _brings_mark(mark: str, marks: Sequence[str]) -> bool:
    return any([hmac.compare_digest(mark, brought) for brought in marks])  # every one compared: no early answer


def marks_kept(marks: Sequence[str], new: str, keep: int = KNOWN_ACCOUNTS) -> list[str]:
    """A browser's marks with `new` first: one for each of the last few accounts signed in to there."""
    return [new, *(m for m in marks if m != new)][:keep]


async def _wait_turn(throttle: LoginAttempts | None, key: str, now: dt.datetime, held: str = HELD) -> None:
    if throttle and (wait := await throttle.wait_seconds(key, now)):
        minutes = max(1, round(wait / 60))
        raise TooManyAttempts(held.format(wait=f"{minutes} {plural('minute', minutes)}"), wait)


async def change_password(
    user: User,
    current: str,
    new: str,
    *,
    uow: UowFactory,
    passwords: PasswordHasher,
    now: dt.datetime,
    throttle: LoginAttempts | None = None,
    client: str = "",
    keep_session: uuid.UUID | None = None,
) -> User:
    """Set a new password, given the current one, and end every other sign-in: the API's (all but
    `keep_session`, the caller's own) and the browsers' (their stamp no longer matches). Wrong guesses at the
    current password count with the failed sign-ins, so a stolen session cannot try passwords freely."""
    if not user.password_hash:
        raise Conflict("This account signs in with Google and has no password to change.")
    await _confirm_password(user, current, "The current password is not right.", passwords, throttle, client, now)
    check_new_password(new)
    if new == current:
        raise InvalidInput("The new password is the same as the current one.")
    return await _set_password(user.id, passwords.hash(new), uow=uow, now=now, keep_session=keep_session)


RECENT_SIGN_IN = dt.timedelta(minutes=15)  # how fresh a Google sign-in must be to give its account a password
RECENT_PASSWORD = dt.timedelta(minutes=15)  # how fresh a password must be to add Google as a way in


def must_confirm_password(user: User, confirmed_at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether this browser must give the account's password before Google becomes a way into it: an old or
    stolen session could otherwise link its own Google, and keep a way in after the password changes."""
    if not user.password_hash or user.google_sub:  # nothing to confirm with, or Google is the account's already
        return False
    return not _within(confirmed_at, now, RECENT_PASSWORD)


async def confirm_password(
    user: User,
    given: str,
    *,
    uow: UowFactory,
    passwords: PasswordHasher,
    now: dt.datetime,
    throttle: LoginAttempts | None = None,
    client: str = "",
) -> None:
    """The signed-in person's password, asked again; a wrong one counts with the failed sign-ins."""
    del uow  # asked for with the other checks (password_checks), not needed here
    await _confirm_password(user, given, "That is not the password of this account.", passwords, throttle, client, now)


def may_add_password(google_signed_in_at: dt.datetime | None, now: dt.datetime) -> bool:
    """`google_signed_in_at` is when this browser last signed in with Google, not the account: a sign-in on
    another device must not make an old session here able to give the account a password."""
    return _within(google_signed_in_at, now, RECENT_SIGN_IN)


def _within(moment: dt.datetime | None, now: dt.datetime, window: dt.timedelta) -> bool:
    """Whether `moment` (this browser's own, kept in its session) is at most `window` ago, and not ahead."""
    return moment is not None and dt.timedelta(0) <= now - moment <= window


async def add_password(
    user: User,
    new: str,
    *,
    uow: UowFactory,
    passwords: PasswordHasher,
    google_signed_in_at: dt.datetime | None,
    now: dt.datetime,
) -> User:
    """Give an account made by signing in with Google a password: to sign in with the email too, and for apps
    and scripts to get an API token. There is no current password to ask for, so a recent Google sign-in in
    this browser stands in for it: a browser left signed in for days cannot give the account a password that
    outlives it."""
    if user.password_hash:
        raise Conflict("This account has a password already; change it with the current one.")
    if not may_add_password(google_signed_in_at, now):
        minutes = int(RECENT_SIGN_IN.total_seconds() // 60)
        raise PayloadRejected(
            403, f"Sign in with Google again first: a password can be added within {minutes} minutes of a sign-in."
        )
    check_new_password(new)
    return await _set_password(user.id, passwords.hash(new), uow=uow, now=now)


async def reset_password(email: str, new: str, *, uow: UowFactory, passwords: PasswordHasher, now: dt.datetime) -> User:
    """Set an account's password without the current one (the server's administrator, from the command line),
    and end every sign-in of the account."""
    check_new_password(new)
    async with uow() as tx:
        user = await tx.users.by_email(email)
    if user is None:
        raise NotFound(f"There is no account for {email.strip().lower()}.")
    return await _set_password(user.id, passwords.hash(new), uow=uow, now=now)


async def _set_password(
    user_id: uuid.UUID, password_hash: str, *, uow: UowFactory, now: dt.datetime, keep_session: uuid.UUID | None = None
) -> User:
    async with uow() as tx:
        await tx.users.set_password_hash(user_id, password_hash)
        await tx.api_sessions.revoke_all(user_id, now, keep=keep_session)
        user = await tx.users.get(user_id)
        await tx.commit()
    assert user is not None
    return user


async def delete_account(
    user: User,
    confirm: str,
    *,
    uow: UowFactory,
    passwords: PasswordHasher,
    storage: PhotoStorage,
    google: GoogleAuth,
    now: dt.datetime,
    throttle: LoginAttempts | None = None,
    client: str = "",
) -> int:
    """Delete the account, confirmed with its password (or, for an account that has none, its email address),
    and everything Classify keeps of it (remove_account); how many photos went. A wrong password counts as a
    failed sign-in, as a password change's does."""
    if user.password_hash:
        wrong = "The password is not right; nothing was deleted."
        await _confirm_password(user, confirm, wrong, passwords, throttle, client, now)
    elif confirm.strip().lower() != user.email:
        raise InvalidInput("Type your account's email address to confirm; nothing was deleted.")
    return await remove_account(user.id, uow=uow, storage=storage, google=google)


async def remove_account(user_id: uuid.UUID, *, uow: UowFactory, storage: PhotoStorage, google: GoogleAuth) -> int:
    """Everything Classify keeps of an account, gone: its Google grant revoked (where Google can be reached;
    the tokens go either way), its rows (photos, jobs, sign-ins, albums' records) and then its files.
    Nothing is deleted at any source. How many photos went."""
    with contextlib.suppress(GoogleFailure):  # out of reach: the grant stays, the tokens go with the account
        await disconnect(user_id, google=google, uow=uow)
    for attempt in range(1, DELETE_ATTEMPTS + 1):
        try:
            keys = await _delete_rows(user_id, uow)
            break
        except Contention:
            # a task of the account's still running wrote to a photo or job as they were going; it is done now
            if attempt == DELETE_ATTEMPTS:
                raise
    for key in keys:
        await storage.delete(key)
    return len(keys)


async def _delete_rows(user_id: uuid.UUID, uow: UowFactory) -> list[str]:
    """The account's rows gone (the foreign keys cascade); the storage keys of the photos that went, those in
    Recently removed too. The
    account's row is locked first, so a photo being added for it now is in the list or is refused."""
    async with uow() as tx:
        if not await tx.users.lock(user_id):
            return []
        # A write before the keys are read: SQLite, which has no row locks, begins a transaction (and takes
        # its write lock) at the first write, so without one the keys were read outside it, and a photo added
        # between the read and the delete went with the account's rows but left its file.
        await tx.users.end_browser_sessions(user_id)
        keys = await tx.photos.storage_keys(user_id)
        await tx.users.delete(user_id)
        await tx.commit()
    return keys


async def start_api_session(user: User, *, uow: UowFactory, tokens: AccessTokens, now: dt.datetime) -> TokenPair:
    async with uow() as tx:
        # the row first, for its id; the hash it is made with belongs to no token ever issued
        session_id = await tx.api_sessions.add(user.id, _hash_refresh(secrets.token_urlsafe(32)), now)
        refresh = _refresh_token(session_id)
        await tx.api_sessions.rotate(session_id, _hash_refresh(refresh), now + REFRESH_LIFETIME)
        await tx.commit()
    return TokenPair(tokens.issue(user.id, session_id, now), refresh, tokens.lifetime_seconds)


async def refresh_api_session(
    refresh_token: str, *, uow: UowFactory, tokens: AccessTokens, now: dt.datetime
) -> TokenPair:
    """Swap a refresh token for a new pair; the old refresh token stops working at once.

    A refresh token used a second time was copied: whoever holds the newer one may not be its owner, so the
    whole sign-in ends (every token of it), and its owner signs in again (RFC 9700, 2.2.2)."""
    async with uow() as tx:
        found = await tx.api_sessions.by_refresh_hash(_hash_refresh(refresh_token))
        if found is None:
            reused = _session_named(refresh_token)
            if reused is not None and await tx.api_sessions.is_live(reused, now):
                await tx.api_sessions.revoke(reused, now)
                await tx.commit()
                raise RefreshTokenReused(
                    "This refresh token was used already, so a copy of it may be in other hands: its sign-in "
                    "is ended, every token of it. Sign in again."
                )
        if found is None or found[2] <= now:
            raise NotAuthenticated("The refresh token is invalid, used already, or expired; sign in again.")
        session_id, user_id, _ = found
        new_refresh = _refresh_token(session_id)
        await tx.api_sessions.rotate(session_id, _hash_refresh(new_refresh), now + REFRESH_LIFETIME)
        await tx.commit()
    return TokenPair(tokens.issue(user_id, session_id, now), new_refresh, tokens.lifetime_seconds)


async def user_for_access_token(
    token: str, *, uow: UowFactory, tokens: AccessTokens, now: dt.datetime
) -> tuple[User, uuid.UUID]:
    user_id, session_id = tokens.read(token)
    async with uow() as tx:
        if not await tx.api_sessions.is_live(session_id, now):
            raise NotAuthenticated("This sign-in has ended; sign in again.")
        user = await tx.users.get(user_id)
    if user is None:
        raise NotAuthenticated("The account no longer exists.")
    return user, session_id


async def end_api_session(session_id: uuid.UUID, *, uow: UowFactory, now: dt.datetime) -> None:
    async with uow() as tx:
        await tx.api_sessions.revoke(session_id, now)
        await tx.commit()


async def sign_out_everywhere(
    user_id: uuid.UUID, *, uow: UowFactory, now: dt.datetime, keep_session: uuid.UUID | None = None
) -> tuple[User, int]:
    """End the account's sign-ins: every browser's (the stamp changes; a browser that asked is stamped again
    with the account returned) and every API sign-in but `keep_session`. The account, and how many API
    sign-ins ended."""
    async with uow() as tx:
        ended = await tx.api_sessions.revoke_all(user_id, now, keep=keep_session)
        await tx.users.end_browser_sessions(user_id)
        user = await tx.users.get(user_id)
        await tx.commit()
    if user is None:
        raise NotFound("There is no such account.")
    return user, ended
