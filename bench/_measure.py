"""Timing one configuration: sequential sync invokes, or concurrent async workers."""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass

from bench import _graphs
from bench._savers import AsyncOpener, SyncOpener


@dataclass(frozen=True)
class Concurrent:
    invokes_per_s: float
    cpu_ms_per_invoke: float


def sequential(
    open_saver: SyncOpener, invokes: int, warmup: int, thread_id: str
) -> float:
    """Seconds per invoke over ``invokes`` sync invokes, all on one thread."""
    with open_saver() as saver:
        graph = _graphs.build(saver)
        kwargs = _graphs.invoke_kwargs(saver is not None)
        cfg = _graphs.config(thread_id)
        for _ in range(warmup):
            graph.invoke(_graphs.INPUT, cfg, **kwargs)
        gc.collect()
        start = time.perf_counter()
        for _ in range(invokes):
            graph.invoke(_graphs.INPUT, cfg, **kwargs)
        return (time.perf_counter() - start) / invokes


async def _concurrent(
    open_saver: AsyncOpener, workers: int, per_worker: int, warmup: int, tag: str
) -> Concurrent:
    async with open_saver() as saver:
        graph = _graphs.build(saver)
        kwargs = _graphs.invoke_kwargs(saver is not None)

        async def worker(index: int, count: int) -> None:
            cfg = _graphs.config(f"{tag}-w{index}")
            for _ in range(count):
                await graph.ainvoke(_graphs.INPUT, cfg, **kwargs)

        await asyncio.gather(*(worker(i, warmup) for i in range(workers)))
        gc.collect()
        cpu, start = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker(i, per_worker) for i in range(workers)))
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    total = workers * per_worker
    return Concurrent(total / elapsed, cpu / total * 1000)


def concurrent(
    open_saver: AsyncOpener, workers: int, per_worker: int, warmup: int, tag: str
) -> Concurrent:
    """``workers`` coroutines sharing one saver, each invoking on its own thread."""
    return asyncio.run(_concurrent(open_saver, workers, per_worker, warmup, tag))
