"""Our savers against LangGraph's, side by side, on the same database and disk.

Run ``python -m bench.savers [--quick]``; see bench/README.md for what is measured.
Progress goes to stderr, the Markdown report to stdout.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from bench import _graphs, _measure, _pg, _report
from bench._measure import Plan
from bench._savers import ASYNC_POOL_SIZE, SYNC_POOL_SIZE, contenders

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_START = time.perf_counter()


FULL = Plan(
    invokes=500, seq_block=50, seq_warmup=20,
    workers=8, per_worker=100, conc_block=10, conc_warmup=3,
)  # fmt: skip
QUICK = Plan(
    invokes=50, seq_block=10, seq_warmup=5,
    workers=8, per_worker=10, conc_block=2, conc_warmup=1,
)  # fmt: skip


def _log(message: str) -> None:
    print(
        f"[{time.perf_counter() - _START:7.1f}s] {message}", file=sys.stderr, flush=True
    )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.savers", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small counts: a smoke run"
    )
    parser.add_argument(
        "--dsn",
        # An entry point, like cli.py: reading the environment is its job.
        default=os.environ.get("STATEWARD_BENCH_DSN", DEFAULT_DSN),  # noqa: TID251
        help="admin DSN; a scratch database is created and dropped through it "
        "(default: $STATEWARD_BENCH_DSN or %(default)s)",
    )
    return parser.parse_args(argv)


def _revision() -> str:
    """The commit benchmarked, marked ``+dirty`` if src/ has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return f"stateward at {head}{'+dirty' if dirty else ''}"


def _environment(server: str) -> str:
    packages = ", ".join(
        f"{name} {version(name)}"
        for name in (
            "stateward",
            "langgraph",
            "langgraph-checkpoint-postgres",
            "langgraph-checkpoint-sqlite",
            "psycopg",
        )
    )
    return (
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"PostgreSQL {server}, SQLite {sqlite3.sqlite_version}; {_revision()}; "
        f"{packages}"
    )


def _report_text(
    plan: Plan,
    counts: tuple[int, int, int],
    server: str,
    sequential: dict[str, list[_measure.Block]],
    concurrent: dict[str, list[_measure.Block]],
) -> str:
    steps, super_steps, checkpoints = counts
    shrink = 1 - steps / super_steps
    return "\n".join(
        [
            "# Saver benchmark\n",
            _environment(server) + "\n",
            "Every configuration stays open while timed blocks go round them in "
            "turn; figures are medians over each configuration's blocks. Ratio = how "
            "many times better ours is (ours/LangGraph for rates, LangGraph/ours for "
            "times and CPU): above 1 favours ours.\n",
            f'## (a) {plan.invokes} sequential sync invokes, durability="sync"\n',
            f"One thread per configuration; the invokes follow each other on it, "
            f"{plan.seq_warmup} warm-up invokes first, then "
            f"{plan.invokes // plan.seq_block} blocks of {plan.seq_block}. A step is "
            f"a node super-step: {steps} per invoke (a, b, c). Measured per invoke: "
            f"{super_steps} super-steps (LangGraph's __start__ step applies the "
            f"input) writing {checkpoints} checkpoints; dividing by the {steps} node "
            f"steps is the conservative choice (dividing by {super_steps} would "
            f"shrink every per-step figure by {shrink:.0%}). Added per step = (ms "
            f"per invoke - ms per invoke without checkpointer) / {steps}. Our "
            f"PostgresSaver: a pool of {SYNC_POOL_SIZE}; LangGraph's: one "
            f"connection (its from_conn_string).\n",
            _report.sequential_table(sequential, steps) + "\n",
            f"## (b) {plan.workers} concurrent workers x {plan.per_worker} async "
            "invokes\n",
            f"asyncio.gather of {plan.workers} coroutines sharing one saver, each "
            f"on its own thread: {plan.conc_warmup} warm-up invokes each, then "
            f"{plan.per_worker // plan.conc_block} blocks of {plan.conc_block} each. "
            f"PostgreSQL: {ASYNC_POOL_SIZE} pooled connections for both savers. "
            "Client CPU = process CPU time (all threads) / invokes.\n",
            _report.concurrent_table(concurrent),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    plan = QUICK if args.quick else FULL
    counts = _graphs.count_steps()
    _log("one invoke: {} node steps, {} super-steps, {} checkpoints".format(*counts))
    with (
        tempfile.TemporaryDirectory(prefix="stateward-bench-") as tmp,
        _pg.scratch_database(args.dsn) as dsn,
    ):
        _log(f"scratch database ready; SQLite files in {tmp}")
        server = _pg.server_version(dsn)
        everyone = contenders(dsn, Path(tmp))
        sequential = _measure.sequential(everyone, plan, _log)
        concurrent = _measure.concurrent(everyone, plan, _log)
    _log("done; scratch database dropped")
    print(_report_text(plan, counts, server, sequential, concurrent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
