"""`classify migrate`: bring the database to the newest schema (what `classify serve` does first)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from app.cli.database import migrated
    from app.settings import Settings

    migrated(Settings.from_env())
    print("database is up to date")
    return 0
