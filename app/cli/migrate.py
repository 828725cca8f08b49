"""`classify migrate`: bring the database to the newest schema (what `classify serve` does first)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    del parser  # no options


def run(args: argparse.Namespace) -> int:
    from app.adapters.sql.migrate import upgrade
    from app.settings import Settings

    upgrade(Settings.from_env().database_url)
    print("database is up to date")
    return 0
