"""Our savers against LangGraph's, side by side, on the same database and disk.

Run ``python -m bench.savers [--quick]``; see bench/README.md for what is measured.
Progress goes to stderr, the Markdown report to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sqlite3
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from bench import _graphs, _measure, _pg, _report
from bench._savers import ASYNC_POOL_SIZE, SYNC_POOL_SIZE, Contender, contenders

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_START = time.perf_counter()


@dataclasses.dataclass(frozen=True)
class Plan:
    invokes: int
    seq_warmup: int
    workers: int
    per_worker: int
    conc_warmup: int
    rounds: int


FULL = Plan(
    invokes=500, seq_warmup=20, workers=8, per_worker=100, conc_warmup=3, rounds=3
)
QUICK = Plan(
    invokes=50, seq_warmup=5, workers=8, per_worker=10, conc_warmup=1, rounds=1
)


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
    parser.add_argument("--rounds", type=int, help="rounds per configuration (median)")
    return parser.parse_args(argv)


def run_sequential(everyone: list[Contender], plan: Plan) -> dict[str, list[float]]:
    """Benchmark (a): seconds per invoke, per configuration, per round."""
    results: dict[str, list[float]] = {c.key: [] for c in everyone}
    for round_ in range(plan.rounds):
        for c in everyone:
            per_invoke = _measure.sequential(
                c.open_sync, plan.invokes, plan.seq_warmup, f"seq-{c.key}-{round_}"
            )
            results[c.key].append(per_invoke)
            _log(
                f"(a) round {round_ + 1}/{plan.rounds} {c.key:<17} "
                f"{per_invoke * 1000:7.3f} ms/invoke"
            )
    return results


def run_concurrent(
    everyone: list[Contender], plan: Plan
) -> dict[str, list[_measure.Concurrent]]:
    """Benchmark (b): throughput and client CPU, per configuration, per round."""
    results: dict[str, list[_measure.Concurrent]] = {c.key: [] for c in everyone}
    for round_ in range(plan.rounds):
        for c in everyone:
            got = _measure.concurrent(
                c.open_async,
                plan.workers,
                plan.per_worker,
                plan.conc_warmup,
                f"conc-{c.key}-{round_}",
            )
            results[c.key].append(got)
            _log(
                f"(b) round {round_ + 1}/{plan.rounds} {c.key:<17} "
                f"{got.invokes_per_s:8.1f} invokes/s "
                f"{got.cpu_ms_per_invoke:6.2f} CPU ms/invoke"
            )
    return results


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
        f"PostgreSQL {server}, SQLite {sqlite3.sqlite_version}; {packages}"
    )


def _report_text(
    plan: Plan,
    counts: tuple[int, int, int],
    server: str,
    sequential: dict[str, list[float]],
    concurrent: dict[str, list[_measure.Concurrent]],
) -> str:
    steps, super_steps, checkpoints = counts
    shrink = 1 - steps / super_steps
    return "\n".join(
        [
            "# Saver benchmark\n",
            _environment(server) + "\n",
            f"Medians of {plan.rounds} round(s). Ratio = how many times better ours "
            "is (ours/LangGraph for rates, LangGraph/ours for times and CPU): above "
            "1 favours ours.\n",
            f'## (a) {plan.invokes} sequential sync invokes, durability="sync"\n',
            f"One thread per configuration and round; the invokes follow each other "
            f"on it, after {plan.seq_warmup} warm-up invokes. A step is a node "
            f"super-step: {steps} per invoke (a, b, c). Measured per invoke: "
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
            f"on its own thread, after {plan.conc_warmup} warm-up invokes each. "
            f"PostgreSQL: {ASYNC_POOL_SIZE} pooled connections for both savers. "
            "Client CPU = process CPU time (all threads) / invokes.\n",
            _report.concurrent_table(concurrent),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = dataclasses.replace(plan, rounds=args.rounds)
    counts = _graphs.count_steps()
    _log("one invoke: {} node steps, {} super-steps, {} checkpoints".format(*counts))
    with (
        tempfile.TemporaryDirectory(prefix="stateward-bench-") as tmp,
        _pg.scratch_database(args.dsn) as dsn,
    ):
        _log(f"scratch database ready; SQLite files in {tmp}")
        server = _pg.server_version(dsn)
        everyone = contenders(dsn, Path(tmp))
        sequential = run_sequential(everyone, plan)
        concurrent = run_concurrent(everyone, plan)
    _log("done; scratch database dropped")
    print(_report_text(plan, counts, server, sequential, concurrent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
