"""Who set each part of a state key, following the head's chain only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple

from stateward.history._nodes import producers, source_of, step_of
from stateward.history._thread import (
    HistoryNotFoundError,
    checkpoint_id,
    load_thread,
    state_values,
)
from stateward.history._values import brief, item_id

_MISSING = object()


@dataclass(frozen=True)
class BlameLine:
    """One part of a key (a list element, or the whole value) and who set it last.

    ``index`` is the element's position in the head's list, ``None`` for a
    non-list value.
    """

    index: int | None
    text: str
    checkpoint_id: str
    step: int
    source: str
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class _Origin:
    """Where a value was set, before it is attached to an element."""

    checkpoint_id: str
    step: int
    source: str
    nodes: tuple[str, ...]

    def line(self, index: int | None, value: object) -> BlameLine:
        return BlameLine(
            index, brief(value), self.checkpoint_id, self.step, self.source, self.nodes
        )


def _list_lines(
    old: list[BlameLine], old_values: list[Any], new_values: list[Any], here: _Origin
) -> list[BlameLine]:
    """Lines for ``new_values``: kept elements keep their origin, others get ``here``.

    An element is kept if an equal one had the same message id (or, without an
    id, the same position) before.
    """
    by_id = {
        item_id(v): (v, line)
        for v, line in zip(old_values, old, strict=True)
        if item_id(v)
    }
    lines = []
    for index, value in enumerate(new_values):
        ident = item_id(value)
        if ident is not None and ident in by_id:
            previous, line = by_id[ident]
        elif ident is None and index < len(old_values):
            previous, line = old_values[index], old[index]
        else:
            previous, line = _MISSING, None
        if line is not None and previous == value:
            lines.append(replace(line, index=index, text=brief(value)))
        else:
            lines.append(here.line(index, value))
    return lines


def _origin(found: CheckpointTuple, nodes: Mapping[str, tuple[str, ...]]) -> _Origin:
    cid = checkpoint_id(found)
    return _Origin(cid, step_of(found), source_of(found), nodes[cid])


def blame(
    saver: BaseCheckpointSaver[Any],
    thread_id: str,
    key: str,
    checkpoint_ns: str = "",
) -> list[BlameLine]:
    """Who last set each element of ``key`` (or the whole value) at the head."""
    thread = load_thread(saver, thread_id, checkpoint_ns)
    chain = thread.head_chain()
    head_values = state_values(chain[-1])
    if key not in head_values:
        known = ", ".join(sorted(head_values)) or "none"
        raise HistoryNotFoundError(
            f"key {key!r} is not in the state of thread {thread_id!r} (keys: {known})"
        )
    nodes = producers(thread)
    lines: list[BlameLine] = []
    value: Any = _MISSING
    for found in chain:
        new = state_values(found).get(key, _MISSING)
        if new is _MISSING or (value is not _MISSING and new == value):
            continue
        here = _origin(found, nodes)
        if isinstance(new, list):
            old = value if isinstance(value, list) else []
            lines = _list_lines(lines if old else [], old, new, here)
        else:
            lines = [here.line(None, new)]
        value = new
    return lines
