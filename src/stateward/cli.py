"""The ``stateward`` command: thin wrappers over the library.

Only this module (and the server, later) reads environment variables; every option
has one, shown in ``--help``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

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


def _history_options(parser: argparse.ArgumentParser) -> None:
    _database_option(parser)
    parser.add_argument("thread", help="thread id")
    parser.add_argument("--ns", default="", help="checkpoint namespace (default: root)")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _history(args: argparse.Namespace) -> int:
    from stateward import database, history  # noqa: PLC0415 - imports LangGraph

    with database.open_saver(args.database_url) as saver:
        entries = history.timeline(saver, args.thread, args.ns)
    print(history.to_json(entries) if args.json else history.render_timeline(entries))
    return 0


def _diff(args: argparse.Namespace) -> int:
    from stateward import database, history  # noqa: PLC0415 - imports LangGraph

    with database.open_saver(args.database_url) as saver:
        result = history.diff(saver, args.thread, args.a, args.b, args.ns)
    print(history.to_json(result) if args.json else history.render_diff(result))
    return 0


def _blame(args: argparse.Namespace) -> int:
    from stateward import database, history  # noqa: PLC0415 - imports LangGraph

    with database.open_saver(args.database_url) as saver:
        lines = history.blame(saver, args.thread, args.key, args.ns)
    rendered = history.render_blame(args.key, lines)
    print(history.to_json(lines) if args.json else rendered)
    return 0


def _add_history_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    timeline = commands.add_parser(
        "history", help="list a thread's checkpoints: node, source, changed keys"
    )
    _history_options(timeline)
    timeline.set_defaults(run=_history)

    diff = commands.add_parser("diff", help="show what changed between two checkpoints")
    _history_options(diff)
    diff.add_argument("a", help="older checkpoint id (or unique prefix)")
    diff.add_argument("b", help="newer checkpoint id (or unique prefix)")
    diff.set_defaults(run=_diff)

    blame = commands.add_parser(
        "blame", help="show which node and step set each part of a state key"
    )
    _history_options(blame)
    blame.add_argument("key", help="state key, e.g. messages")
    blame.set_defaults(run=_blame)


@contextlib.contextmanager
def _tracing() -> Iterator[None]:
    """Export spans over OTLP when the standard OTEL_* variables ask for it."""
    from stateward.observability.setup import configure_tracing  # noqa: PLC0415

    provider = configure_tracing(os.environ)
    try:
        yield
    finally:
        if provider is not None:
            provider.shutdown()  # flush what is buffered


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
    _add_history_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stateward`` command."""
    args = build_parser().parse_args(argv)
    try:
        with _tracing():
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
