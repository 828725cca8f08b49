"""`classify users create EMAIL [--password-stdin]`: add a local account.
`classify users set-password EMAIL [--password-stdin]`: give an account a new password (a forgotten one).
`classify users sign-out EMAIL`: end every sign-in of an account (browsers and API tokens); the password stays.
`classify users delete EMAIL --yes`: delete an account and everything Classify keeps of it."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the command imports the app only when it runs
    from app.bootstrap import Container
    from app.domain.model import User
    from app.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create a local account")
    create.add_argument("email")
    create.add_argument("--name", default=None, help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    reset = sub.add_parser("set-password", help="give an account a new password and end all of its sign-ins")
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    out = sub.add_parser("sign-out", help="end every sign-in of an account, browsers and API tokens alike")
    out.add_argument("email")
    remove = sub.add_parser("delete", help="delete an account, its photos and everything else Classify keeps of it")
    remove.add_argument("email")
    remove.add_argument("--yes", action="store_true", help="really delete (nothing is deleted without it)")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():  # getpass would read the pipe after a warning, or end in a traceback at its end
        raise SystemExit("classify: no terminal to ask for the password; pipe it in with --password-stdin")
    try:
        first = getpass.getpass("Password: ")
        again = getpass.getpass("Password again: ")
    except (EOFError, KeyboardInterrupt):
        raise SystemExit("\nclassify: no password given; nothing was changed") from None
    if first != again:
        raise SystemExit("classify: the two passwords are not the same")
    return first


async def _apply(args: argparse.Namespace, password: str) -> str:
    from app.bootstrap import bootstrap
    from app.domain.services.accounts import create_user, reset_password
    from app.settings import Settings

    container = bootstrap(Settings.from_env())
    try:
        if args.users_command == "delete":
            return await _delete(args.email, container)
        if args.users_command == "sign-out":
            return await _sign_out(args.email, container)
        if args.users_command == "create":
            user = await create_user(
                args.email, password, uow=container.uow, passwords=container.passwords, name=args.name
            )
            return f"created {user.email}"
        user = await reset_password(
            args.email, password, uow=container.uow, passwords=container.passwords, now=container.clock()
        )
        return f"set a new password for {user.email}; its sign-ins have ended"
    finally:
        await container.close()


async def _delete(email: str, container: Container) -> str:
    from app.domain.services.accounts import remove_account

    user = await _account(email, container)
    photos = await remove_account(user.id, uow=container.uow, storage=container.storage, google=container.google)
    return f"deleted {user.email} and its {photos} photos"


async def _sign_out(email: str, container: Container) -> str:
    from app.domain.services.accounts import sign_out_everywhere
    from app.domain.units import plural

    user = await _account(email, container)
    _, ended = await sign_out_everywhere(user.id, uow=container.uow, now=container.clock())
    return f"signed {user.email} out everywhere: every browser, and {ended} API {plural('sign-in', ended)}"


async def _account(email: str, container: Container) -> User:
    from app.domain.errors import NotFound

    async with container.uow() as tx:
        user = await tx.users.by_email(email)
    if user is None:
        raise NotFound(f"There is no account for {email.strip().lower()}.")
    return user


def run(args: argparse.Namespace) -> int:
    from app.cli.database import migrated
    from app.domain.errors import DomainError
    from app.settings import Settings, data_dir_path

    if args.users_command == "delete" and not args.yes:
        print("classify: this deletes the account and all its photos; add --yes to do it", file=sys.stderr)
        return 2
    new_folder = not data_dir_path().exists()
    settings = Settings.from_env()
    new_file = _missing_sqlite_file(settings)
    if new_file and args.users_command != "create":
        print(f"classify: there is no database at {new_file}: {WHICH_DATABASE}", file=sys.stderr)
        if new_folder:  # made by reading the settings (with a new secret key in it): not left behind
            shutil.rmtree(settings.data_dir, ignore_errors=True)
        return 1
    password = _password(args.password_stdin) if args.users_command in ("create", "set-password") else ""
    migrated(settings)
    try:
        done = asyncio.run(_apply(args, password))
    except DomainError as exc:
        print(f"classify: {exc.detail}", file=sys.stderr)
        return 1
    print(done)
    if new_file:  # likely run from another folder than the server's: say so rather than let the sign-in fail
        print(f"classify: this made a new database at {new_file}; {WHICH_DATABASE}", file=sys.stderr)
    return 0


WHICH_DATABASE = "the server uses the one in its CLASSIFY_DATA_DIR (default ./data) or at its DATABASE_URL"


def _missing_sqlite_file(settings: Settings) -> Path | None:
    from app.adapters.sql.migrate import sqlite_file

    path = sqlite_file(settings.database_url)
    return path if path and not path.exists() else None
