"""Text tables and JSON for the ``stateward history|diff|blame`` commands."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from stateward.history.blame import BlameLine
from stateward.history.diff import StateDiff
from stateward.history.timeline import TimelineEntry


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns, two spaces apart, trailing blanks stripped."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )


def who(nodes: Sequence[str], source: str) -> str:
    """The producer column: node names, ``(input)``/``(fork)``, or ``?``."""
    if nodes:
        return ",".join(nodes)
    return f"({source})" if source in ("input", "fork") else "?"


def render_timeline(entries: Sequence[TimelineEntry]) -> str:
    """The timeline as a table; ``*`` marks checkpoints on the head's chain."""
    rows = [
        [
            "*" if e.on_head else "",
            str(e.step),
            e.checkpoint_id,
            e.parent_id or "-",
            e.source,
            who(e.nodes, e.source),
            ",".join(e.changed) or "-",
            e.created_at,
        ]
        for e in entries
    ]
    header = [
        "",
        "STEP",
        "CHECKPOINT",
        "PARENT",
        "SOURCE",
        "NODE",
        "CHANGED",
        "CREATED",
    ]
    return table(header, rows)


def render_diff(result: StateDiff) -> str:
    """The diff as ``+``/``-``/``~`` lines per key, list items indented."""
    return str(result)


def render_blame(key: str, lines: Sequence[BlameLine]) -> str:
    """One row per element (or one for a scalar): index, who, where, what."""
    rows = [
        [
            "-" if line.index is None else str(line.index),
            str(line.step),
            who(line.nodes, line.source),
            line.source,
            line.checkpoint_id,
            line.text,
        ]
        for line in lines
    ]
    return f"blame {key}\n" + table(
        ["INDEX", "STEP", "NODE", "SOURCE", "CHECKPOINT", "VALUE"], rows
    )


def to_json(
    value: StateDiff | Sequence[TimelineEntry] | Sequence[BlameLine],
) -> str:
    """Results as JSON (dataclasses become objects, tuples lists)."""
    if isinstance(value, StateDiff):
        return json.dumps(asdict(value), indent=2)
    return json.dumps([asdict(item) for item in value], indent=2)
