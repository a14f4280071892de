"""The ``stateward`` command: thin wrappers over the library.

Only this module (and the server, later) reads environment variables; every option
has one, shown in ``--help``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from stateward import errors

DEFAULT_DATABASE_URL = "sqlite:///stateward.db"


def _database_option(parser: argparse.ArgumentParser) -> None:
    default = os.environ.get("STATEWARD_DATABASE_URL", DEFAULT_DATABASE_URL)
    parser.add_argument(
        "--database-url",
        default=default,
        help="postgresql://... or sqlite:///path "
        f"(env STATEWARD_DATABASE_URL; default {DEFAULT_DATABASE_URL})",
    )


def _migrate(args: argparse.Namespace) -> int:
    from stateward import database  # noqa: PLC0415 - keep `--help` fast
    from stateward.checkpoint import _base  # noqa: PLC0415

    print(f"migrating {database.redact(args.database_url)}", file=sys.stderr)
    with database.open_saver(args.database_url) as saver:
        assert isinstance(saver, _base.StatewardSaver)  # noqa: S101 - narrowing
    print("schema is up to date", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from stateward import demo  # noqa: PLC0415 - imports LangGraph

    return demo.main(args.database_url, thread_id=args.thread, steps=args.steps)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``stateward`` command."""
    parser = argparse.ArgumentParser(
        prog="stateward",
        description="Durable, conflict-safe state for LangGraph agents.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    migrate = commands.add_parser(
        "migrate", help="create or upgrade the schema (idempotent, safe to run at once)"
    )
    _database_option(migrate)
    migrate.set_defaults(run=_migrate)

    demo = commands.add_parser(
        "demo", help="run a durable multi-step graph; interrupt it and run it again"
    )
    _database_option(demo)
    demo.add_argument("--thread", default="demo", help="thread id (default: demo)")
    demo.add_argument("--steps", type=int, default=10, help="steps in the run")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stateward`` command."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except errors.StatewardError as exc:
        print(f"stateward: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
