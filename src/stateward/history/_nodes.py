"""Which node produced each checkpoint, derived only from what the saver stores.

See the package docstring for the method.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

from langgraph.checkpoint.base import CheckpointTuple
from langgraph.pregel._checkpoint import versions_seen_without_bumps

from stateward.history._thread import Thread, checkpoint_id, is_internal

# versions_seen entries that are not graph nodes.
_NOT_NODES = frozenset({"__input__", "__interrupt__", "__snapshot_bumps__"})
_MAX_UPDATES = 16  # update_state tasks per superstep we recognise by id

Signature = frozenset[str]


def ran_between(parent: CheckpointTuple, child: CheckpointTuple) -> tuple[str, ...]:
    """Nodes whose ``versions_seen`` entry moved: exactly the tasks of that step."""
    before = versions_seen_without_bumps(parent.checkpoint["versions_seen"])
    after = versions_seen_without_bumps(child.checkpoint["versions_seen"])
    return tuple(
        sorted(
            node
            for node, seen in after.items()
            if node not in _NOT_NODES and seen != before.get(node)
        )
    )


def changed_keys(parent: CheckpointTuple | None, child: CheckpointTuple) -> set[str]:
    """State keys whose channel version differs from the parent's."""
    after = child.checkpoint["channel_versions"]
    before = parent.checkpoint["channel_versions"] if parent is not None else {}
    return {k for k, v in after.items() if not is_internal(k) and before.get(k) != v}


def _tasks(found: CheckpointTuple) -> dict[str, set[str]]:
    """Channels written by each task whose writes are pending on ``found``."""
    tasks: dict[str, set[str]] = defaultdict(set)
    for task_id, channel, _ in found.pending_writes or ():
        tasks[task_id].add(channel)
    return tasks


def _update_task_ids(parent_id: str) -> set[str]:
    """The ids update_state gives its tasks when none was prepared (LangGraph 1.2)."""
    base = UUID(parent_id)
    names = ["__interrupt__", *(f"__interrupt__:{i}" for i in range(1, _MAX_UPDATES))]
    return {str(uuid5(base, name)) for name in names}


def _signature(channels: set[str]) -> Signature:
    """The edges a task took: its ``branch:to:<node>`` writes."""
    return frozenset(c for c in channels if c.startswith("branch:to:"))


def _learn_edges(
    thread: Thread, ran: Mapping[str, tuple[str, ...]]
) -> dict[str, set[Signature]]:
    """For each node that ran alone in a step, the edge sets its tasks wrote."""
    edges: dict[str, set[Signature]] = defaultdict(set)
    for cid, nodes in ran.items():
        parent = thread.parent(thread.by_id[cid])
        if len(nodes) != 1 or parent is None:
            continue
        updates = _update_task_ids(checkpoint_id(parent))
        for task_id, channels in _tasks(parent).items():
            if task_id not in updates:
                edges[nodes[0]].add(_signature(channels))
    return edges


def _update_node(
    parent: CheckpointTuple,
    child: CheckpointTuple,
    edges: Mapping[str, set[Signature]],
) -> tuple[str, ...]:
    """The ``as_node`` of an update_state checkpoint, matched by the edges it took."""
    tasks = _tasks(parent)
    updates = _update_task_ids(checkpoint_id(parent))
    candidates = [ch for tid, ch in tasks.items() if tid in updates]
    if not candidates:  # the update reused a prepared task id
        changed = changed_keys(parent, child)
        candidates = [ch for ch in tasks.values() if _state(ch) == changed]
    found: set[str] = set()
    for channels in candidates:
        signature = _signature(channels)
        matches = [node for node, seen in edges.items() if signature in seen]
        if len(matches) == 1:
            found.add(matches[0])
    return tuple(sorted(found))


def _state(channels: set[str]) -> set[str]:
    return {c for c in channels if not is_internal(c)}


def producers(thread: Thread) -> dict[str, tuple[str, ...]]:
    """For every checkpoint id, the node(s) whose writes it holds (may be empty)."""
    ran: dict[str, tuple[str, ...]] = {}
    updates: list[tuple[str, CheckpointTuple]] = []
    for cid in thread.order:
        found = thread.by_id[cid]
        parent = thread.parent(found)
        source = source_of(found)
        if parent is None or source in ("input", "fork"):
            ran[cid] = ()
        elif source == "update":
            updates.append((cid, parent))
        else:
            ran[cid] = ran_between(parent, found)
    edges = _learn_edges(thread, ran)
    result = dict(ran)
    for cid, parent in updates:
        result[cid] = _update_node(parent, thread.by_id[cid], edges)
    return result


def source_of(found: CheckpointTuple) -> str:
    """The checkpoint's ``source`` metadata: input, loop, update or fork."""
    metadata: Mapping[str, Any] = found.metadata or {}
    return str(metadata.get("source", "?"))


def step_of(found: CheckpointTuple) -> int:
    """The checkpoint's ``step`` metadata (-1 for the first input)."""
    metadata: Mapping[str, Any] = found.metadata or {}
    return int(metadata.get("step", -1))
