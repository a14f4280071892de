"""Load one thread's checkpoints once, and answer questions about their chain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple

from stateward import errors


class HistoryNotFoundError(errors.InvalidInputError):
    """The thread, checkpoint or state key asked about does not exist."""


def is_internal(channel: str) -> bool:
    """Whether ``channel`` is LangGraph plumbing rather than a state key."""
    return channel.startswith(("__", "branch:", "start:", "join:"))


def checkpoint_id(found: CheckpointTuple) -> str:
    """The id of a stored checkpoint."""
    return str(found.checkpoint["id"])


def parent_id(found: CheckpointTuple) -> str | None:
    """The id of the checkpoint ``found`` was built on, if any."""
    if found.parent_config is None:
        return None
    parent = found.parent_config["configurable"].get("checkpoint_id")
    return None if parent is None else str(parent)


def state_values(found: CheckpointTuple) -> dict[str, Any]:
    """The state keys stored in a checkpoint (internal channels left out)."""
    values: Mapping[str, Any] = found.checkpoint["channel_values"]
    return {k: v for k, v in values.items() if not is_internal(k)}


@dataclass(frozen=True)
class Thread:
    """Every checkpoint of one thread namespace, read in a single listing."""

    thread_id: str
    checkpoint_ns: str
    by_id: Mapping[str, CheckpointTuple]
    order: tuple[str, ...]  # oldest first (checkpoint ids sort by time)
    head: str

    def parent(self, found: CheckpointTuple) -> CheckpointTuple | None:
        """The checkpoint ``found`` was built on, if it is stored."""
        pid = parent_id(found)
        return None if pid is None else self.by_id.get(pid)

    def head_chain(self) -> list[CheckpointTuple]:
        """The head and its ancestors, oldest first: abandoned forks left out."""
        chain: list[CheckpointTuple] = []
        current: CheckpointTuple | None = self.by_id[self.head]
        while current is not None:
            chain.append(current)
            current = self.parent(current)
        chain.reverse()
        return chain

    def resolve(self, ref: str) -> str:
        """The checkpoint id that ``ref`` (a full id or unique prefix) names."""
        if ref in self.by_id:
            return ref
        matches = [cid for cid in self.order if cid.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        what = "is ambiguous" if matches else "does not exist"
        raise HistoryNotFoundError(
            f"checkpoint {ref!r} {what} in thread {self.thread_id!r}"
        )


def load_thread(
    saver: BaseCheckpointSaver[Any], thread_id: str, checkpoint_ns: str = ""
) -> Thread:
    """Read every checkpoint of ``thread_id``; the newest one is the head."""
    config: RunnableConfig = {
        "configurable": {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns}
    }
    found = list(saver.list(config))
    if not found:
        raise HistoryNotFoundError(
            f"thread {thread_id!r} (namespace {checkpoint_ns!r}) has no checkpoints"
        )
    by_id = {checkpoint_id(t): t for t in found}
    head = saver.get_tuple(config)
    head_id = checkpoint_id(head) if head is not None else max(by_id)
    return Thread(thread_id, checkpoint_ns, by_id, tuple(sorted(by_id)), head_id)
