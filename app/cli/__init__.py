"""The `classify` command: serve, worker, score, users."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each subcommand lives in its own module with `add_arguments(parser)` and `run(args) -> int`;
# they are imported lazily so that `classify score` does not pay for the web stack.
SUBCOMMANDS = {
    "serve": ("app.cli.serve", "migrate the database and serve the app (in-process workers unless REDIS_URL is set)"),
    "worker": ("app.cli.worker", "run an arq worker for batch jobs (needs REDIS_URL)"),
    "score": ("app.cli.score", "score image files or folders for blur"),
    "users": ("app.cli.users", "manage local accounts"),
    "migrate": ("app.cli.migrate", "bring the database to the newest schema"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="classify", description="Classify: sort photos by blur.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(module_name=module_name)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.add_arguments(sub_parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    from app.settings import SettingsError

    args = build_parser().parse_args(argv)
    module = importlib.import_module(args.module_name)
    try:
        return int(module.run(args) or 0)
    except SettingsError as exc:  # a setting that cannot work: one line naming it, not a traceback
        print(f"classify: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C is how a person stops a command, not a crash to report
        return 130


if __name__ == "__main__":
    sys.exit(main())
