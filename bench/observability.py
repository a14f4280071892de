"""Per-step cost of Stateward's logs, metrics and traces, on and off, side by side.

Run ``python -m bench.observability [--invokes N] [--dsn ADMIN_DSN]``. Both
configurations run the same three-node graph, on SQLite (one file each, same disk)
and on PostgreSQL (one scratch database), in interleaved blocks so that load
elsewhere on the machine spoils both alike; the table shows the median block.
"on" = a GraphObserver on every run, JSON logging at INFO (to a file),
an OpenTelemetry SDK provider exporting every span (to memory), and Prometheus
metrics. "off" = none of these configured; Prometheus metrics cannot be switched off
and are recorded in both, so the figure slightly understates their cost.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bench import _graphs, _pg
from stateward.checkpoint import PostgresSaver, SqliteSaver
from stateward.observability import GraphObserver, configure_logging

TARGET = 0.10


def _runner(saver: Any, observed: bool) -> Callable[[], None]:
    graph = _graphs.build(saver)
    callbacks = [GraphObserver()] if observed else []

    def invoke() -> None:
        config: Any = {"configurable": {"thread_id": str(uuid.uuid4())}}
        config["callbacks"] = callbacks
        graph.invoke(_graphs.INPUT, config, durability="sync")

    return invoke


def _block(invoke: Callable[[], None], invokes: int, observed: bool) -> float:
    level = logging.INFO if observed else logging.CRITICAL + 1
    logging.getLogger("stateward").setLevel(level)
    started = time.perf_counter()
    for _ in range(invokes):
        invoke()
    return (time.perf_counter() - started) / invokes


def _measure(
    sides: dict[str, Callable[[], None]], invokes: int, blocks: int
) -> dict[str, list[float]]:
    per_block = max(1, invokes // blocks)
    times: dict[str, list[float]] = {"off": [], "on": []}
    for side, invoke in sides.items():  # warm up
        _block(invoke, 20, side == "on")
    for block in range(blocks):
        order = ["off", "on"] if block % 2 == 0 else ["on", "off"]
        for side in order:
            times[side].append(_block(sides[side], per_block, side == "on"))
        print(f"block {block + 1}/{blocks}", file=sys.stderr)
    return times


def main(argv: list[str] | None = None) -> int:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invokes", type=int, default=400, help="invokes per side")
    parser.add_argument("--blocks", type=int, default=8, help="blocks per side")
    parser.add_argument(
        "--dsn",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="admin DSN; a scratch database is created and dropped through it",
    )
    args = parser.parse_args(argv)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        configure_logging(stream=(Path(tmp) / "events.jsonl").open("w"))
        trace.set_tracer_provider(provider)
        with (
            SqliteSaver.from_conn_string(str(Path(tmp) / "off.db")) as off_saver,
            SqliteSaver.from_conn_string(str(Path(tmp) / "on.db")) as on_saver,
        ):
            sides = {"off": _runner(off_saver, False), "on": _runner(on_saver, True)}
            results["SQLite"] = _measure(sides, args.invokes, args.blocks)
        with (
            _pg.scratch_database(args.dsn) as dsn,
            PostgresSaver.from_conn_string(dsn) as off_saver,
            PostgresSaver.from_conn_string(dsn) as on_saver,
        ):
            off_saver.setup()
            sides = {"off": _runner(off_saver, False), "on": _runner(on_saver, True)}
            results["PostgreSQL"] = _measure(sides, args.invokes, args.blocks)
    _print(results)
    return 0


def _print(results: dict[str, dict[str, list[float]]]) -> None:
    steps = len(_graphs.NODES)
    print("| backend | off: ms per step | on: ms per step | overhead | target |")
    print("|---|---|---|---|---|")
    for backend, times in results.items():
        off = statistics.median(times["off"]) / steps * 1000
        on = statistics.median(times["on"]) / steps * 1000
        overhead = on / off - 1
        verdict = "met" if overhead <= TARGET else "**MISSED**"
        print(
            f"| {backend} | {off:.3f} | {on:.3f} | {overhead:+.1%} "
            f"| <= {TARGET:.0%}: {verdict} |"
        )


if __name__ == "__main__":
    sys.exit(main())
