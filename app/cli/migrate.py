"""`classify migrate`: bring the database to the newest schema (what `classify serve` does first)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from app.adapters.sql.migrate import head_revision, revision_of, sqlite_file
    from app.cli.database import migrated
    from app.settings import Settings

    settings = Settings.from_env()
    file = sqlite_file(settings.database_url)
    before = None if file and not file.exists() else revision_of(settings.database_url)  # not made by asking
    migrated(settings)
    head = head_revision()
    if before == head:
        print(f"database is up to date (revision {head})")
    else:
        print(f"database migrated from {f'revision {before}' if before else 'empty'} to revision {head}")
    return 0
