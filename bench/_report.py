"""Markdown tables of medians, with ratios read as "how many times better ours is"."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence

from bench._measure import Block
from bench._savers import COMPARISONS, MEMORY, NO_SAVER

ADDED_MS_TARGET = 1.0
THROUGHPUT_RATIO_TARGET = 3.0
HEADER = ("backend", "saver", "metric", "ours", "LangGraph", "ratio", "target")
DASH = "—"

Row = tuple[str, str, str, str, str, str, str]


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table, columns padded to line up in a terminal too."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (c.ljust(w) for c, w in zip(cells, widths, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def ratio(better_if_bigger: float, other: float) -> str:
    """``better_if_bigger / other``: above 1 means ours is better."""
    if other <= 0:
        return "n/a"
    return f"{better_if_bigger / other:.2f}x"


def _met(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


def _reference(name: str, metric: str, value: str) -> Row:
    return ("reference", name, metric, DASH, value, DASH, "")


def _seconds(blocks: Sequence[Block]) -> float:
    return statistics.median(b.seconds for b in blocks)


def _cpu(blocks: Sequence[Block]) -> float:
    return statistics.median(b.cpu for b in blocks)


def sequential_table(results: Mapping[str, Sequence[Block]], steps: int) -> str:
    """Benchmark (a) from each configuration's timed blocks."""
    seconds = {key: _seconds(blocks) for key, blocks in results.items()}

    def rate(key: str) -> float:
        return steps / seconds[key]

    def added_ms(key: str) -> float:
        return (seconds[key] - seconds[NO_SAVER]) / steps * 1000

    rows = [
        _reference("no checkpointer", "steps/s", f"{rate(NO_SAVER):,.0f}"),
        _reference("InMemorySaver", "steps/s", f"{rate(MEMORY):,.0f}"),
        _reference("InMemorySaver", "ms added per step", f"{added_ms(MEMORY):.3f}"),
    ]
    for c in COMPARISONS:
        ours, lg = rate(c.ours), rate(c.langgraph)
        rows.append(
            (
                c.backend,
                c.sync_name,
                "steps/s",
                f"{ours:,.0f}",
                f"{lg:,.0f}",
                ratio(ours, lg),
                "",
            )
        )
        ours, lg = added_ms(c.ours), added_ms(c.langgraph)
        met = _met(ours <= ADDED_MS_TARGET)
        rows.append(
            (
                c.backend,
                c.sync_name,
                "ms added per step",
                f"{ours:.3f}",
                f"{lg:.3f}",
                ratio(lg, ours),
                f"≤ {ADDED_MS_TARGET:g} ms (LangGraph ~4): {met}",
            )
        )
    return markdown(HEADER, rows)


def concurrent_table(results: Mapping[str, Sequence[Block]]) -> str:
    """Benchmark (b) from each configuration's timed blocks."""
    rates = {key: 1 / _seconds(blocks) for key, blocks in results.items()}
    cpu = {key: _cpu(blocks) * 1000 for key, blocks in results.items()}
    rows = []
    for key, name in ((NO_SAVER, "no checkpointer"), (MEMORY, "InMemorySaver")):
        rows.append(_reference(name, "invokes/s", f"{rates[key]:,.0f}"))
        rows.append(_reference(name, "client CPU ms/invoke", f"{cpu[key]:.2f}"))
    for c in COMPARISONS:
        ours, lg = rates[c.ours], rates[c.langgraph]
        met = _met(ours >= THROUGHPUT_RATIO_TARGET * lg)
        rows.append(
            (
                c.backend,
                c.async_name,
                "invokes/s",
                f"{ours:,.0f}",
                f"{lg:,.0f}",
                ratio(ours, lg),
                f"≥ {THROUGHPUT_RATIO_TARGET:g}x LangGraph: {met}",
            )
        )
        ours, lg = cpu[c.ours], cpu[c.langgraph]
        rows.append(
            (
                c.backend,
                c.async_name,
                "client CPU ms/invoke",
                f"{ours:.2f}",
                f"{lg:.2f}",
                ratio(lg, ours),
                "",
            )
        )
    return markdown(HEADER, rows)
