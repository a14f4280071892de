"""One line per checkpoint: who produced it and what it changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from stateward.history._nodes import changed_keys, producers, source_of, step_of
from stateward.history._thread import load_thread, parent_id


@dataclass(frozen=True)
class TimelineEntry:
    """A checkpoint as history sees it.

    ``nodes`` is empty for input and fork checkpoints (no node ran) and for an
    update whose ``as_node`` cannot be told from the stored data.
    """

    checkpoint_id: str
    parent_id: str | None
    step: int
    source: str
    nodes: tuple[str, ...]
    created_at: str
    changed: tuple[str, ...]
    on_head: bool  # on the chain from the head back to the first checkpoint


def timeline(
    saver: BaseCheckpointSaver[Any], thread_id: str, checkpoint_ns: str = ""
) -> list[TimelineEntry]:
    """Every checkpoint of the thread, oldest first, forks included."""
    thread = load_thread(saver, thread_id, checkpoint_ns)
    nodes = producers(thread)
    on_head = {str(t.checkpoint["id"]) for t in thread.head_chain()}
    entries = []
    for cid in thread.order:
        found = thread.by_id[cid]
        entries.append(
            TimelineEntry(
                checkpoint_id=cid,
                parent_id=parent_id(found),
                step=step_of(found),
                source=source_of(found),
                nodes=nodes[cid],
                created_at=str(found.checkpoint["ts"]),
                changed=tuple(sorted(changed_keys(thread.parent(found), found))),
                on_head=cid in on_head,
            )
        )
    return entries
