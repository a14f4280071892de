"""Timing in interleaved blocks, so that noise from the machine hits every saver alike.

All configurations are open at once; each timed block runs a few invokes on one of
them, and the blocks go round the configurations (starting one further each time)
until each has had its share. A burst of load elsewhere on the machine then spoils
a block or two of every configuration, not a whole configuration, and the median
block discards it.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

from bench import _graphs
from bench._savers import Contender

T = TypeVar("T")
Log = Callable[[str], None]


@dataclass(frozen=True)
class Plan:
    """How many invokes each benchmark times, in blocks of how many."""

    invokes: int
    seq_block: int
    seq_warmup: int
    workers: int
    per_worker: int
    conc_block: int
    conc_warmup: int


@dataclass(frozen=True)
class Block:
    """One timed block: wall seconds and process CPU seconds per invoke."""

    seconds: float
    cpu: float


@dataclass(frozen=True)
class _Open:
    key: str
    graph: _graphs.Graph
    kwargs: dict[str, Any]


def _rotations(items: Sequence[T], rounds: int) -> list[list[T]]:
    """``rounds`` passes over ``items``, each starting one further along."""
    return [[*items[r % len(items) :], *items[: r % len(items)]] for r in range(rounds)]


def _summary(label: str, round_: int, rounds: int, got: dict[str, Block]) -> str:
    figures = ", ".join(f"{key} {b.seconds * 1000:.2f}" for key, b in got.items())
    return f"{label} block {round_ + 1}/{rounds} ms/invoke: {figures}"


def sequential(
    contenders: Sequence[Contender], plan: Plan, log: Log
) -> dict[str, list[Block]]:
    """Benchmark (a): sync invokes one after another, one thread per configuration."""
    results: dict[str, list[Block]] = {c.key: [] for c in contenders}
    with ExitStack() as stack:
        runs = []
        for c in contenders:
            saver = stack.enter_context(c.open_sync())
            run = _Open(
                c.key, _graphs.build(saver), _graphs.invoke_kwargs(saver is not None)
            )
            cfg = _graphs.config(f"seq-{c.key}")
            for _ in range(plan.seq_warmup):
                run.graph.invoke(_graphs.INPUT, cfg, **run.kwargs)
            runs.append(run)
        block, rounds = plan.seq_block, plan.invokes // plan.seq_block
        for round_, order in enumerate(_rotations(runs, rounds)):
            got = {}
            for run in order:
                cfg = _graphs.config(f"seq-{run.key}")
                gc.collect()
                cpu, start = time.process_time(), time.perf_counter()
                for _ in range(block):
                    run.graph.invoke(_graphs.INPUT, cfg, **run.kwargs)
                got[run.key] = Block(
                    (time.perf_counter() - start) / block,
                    (time.process_time() - cpu) / block,
                )
                results[run.key].append(got[run.key])
            log(_summary("(a)", round_, rounds, got))
    return results


async def _workers(run: _Open, workers: int, count: int) -> None:
    async def worker(index: int) -> None:
        cfg = _graphs.config(f"conc-{run.key}-w{index}")
        for _ in range(count):
            await run.graph.ainvoke(_graphs.INPUT, cfg, **run.kwargs)

    await asyncio.gather(*(worker(i) for i in range(workers)))


async def _concurrent(
    contenders: Sequence[Contender], plan: Plan, log: Log
) -> dict[str, list[Block]]:
    results: dict[str, list[Block]] = {c.key: [] for c in contenders}
    async with AsyncExitStack() as stack:
        runs = []
        for c in contenders:
            saver = await stack.enter_async_context(c.open_async())
            run = _Open(
                c.key, _graphs.build(saver), _graphs.invoke_kwargs(saver is not None)
            )
            await _workers(run, plan.workers, plan.conc_warmup)
            runs.append(run)
        rounds = plan.per_worker // plan.conc_block
        for round_, order in enumerate(_rotations(runs, rounds)):
            got = {}
            for run in order:
                gc.collect()
                cpu, start = time.process_time(), time.perf_counter()
                await _workers(run, plan.workers, plan.conc_block)
                invokes = plan.workers * plan.conc_block
                got[run.key] = Block(
                    (time.perf_counter() - start) / invokes,
                    (time.process_time() - cpu) / invokes,
                )
                results[run.key].append(got[run.key])
            log(_summary("(b)", round_, rounds, got))
    return results


def concurrent(
    contenders: Sequence[Contender], plan: Plan, log: Log
) -> dict[str, list[Block]]:
    """Benchmark (b): ``plan.workers`` coroutines sharing one saver, each on its own
    thread; a block is ``plan.conc_block`` invokes per worker."""
    return asyncio.run(_concurrent(contenders, plan, log))
