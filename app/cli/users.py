"""`classify users create EMAIL [--password-stdin]`: add a local account."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create a local account")
    create.add_argument("email")
    create.add_argument("--name", default=None, help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise SystemExit("classify: the two passwords are not the same")
    return first


async def _create(email: str, password: str, name: str | None) -> str:
    from app.bootstrap import bootstrap
    from app.domain.services.accounts import create_user
    from app.settings import Settings

    container = bootstrap(Settings.from_env())
    try:
        user = await create_user(email, password, uow=container.uow, passwords=container.passwords, name=name)
    finally:
        await container.close()
    return user.email


def run(args: argparse.Namespace) -> int:
    from app.adapters.sql.migrate import upgrade
    from app.domain.errors import DomainError
    from app.settings import Settings

    password = _password(args.password_stdin)
    upgrade(Settings.from_env().database_url)
    try:
        email = asyncio.run(_create(args.email, password, args.name))
    except DomainError as exc:
        print(f"classify: {exc.detail}", file=sys.stderr)
        return 1
    print(f"created {email}")
    return 0
