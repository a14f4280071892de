"""The graph every benchmark runs: a three-node chain over a tiny state."""

from __future__ import annotations

from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

NODES = ("a", "b", "c")
INPUT: dict[str, Any] = {"count": 0, "last": ""}


class State(TypedDict):
    count: int
    last: str


def _a(state: State) -> dict[str, Any]:
    return {"count": state["count"] + 1, "last": "a"}


def _b(state: State) -> dict[str, Any]:
    return {"count": state["count"] + 1, "last": "b"}


def _c(state: State) -> dict[str, Any]:
    return {"count": state["count"] + 1, "last": "c"}


Graph = CompiledStateGraph[Any, Any, Any, Any]


def build(checkpointer: BaseCheckpointSaver[Any] | None) -> Graph:
    """START -> a -> b -> c -> END, compiled with ``checkpointer`` (or none)."""
    builder = StateGraph(State)
    for name, fn in zip(NODES, (_a, _b, _c), strict=True):
        builder.add_node(name, fn)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile(checkpointer=checkpointer)


def config(thread_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id}}


def invoke_kwargs(has_saver: bool) -> dict[str, Any]:
    """``durability="sync"`` when checkpointing; LangGraph 1.2 rejects it otherwise."""
    return {"durability": "sync"} if has_saver else {}


def count_steps() -> tuple[int, int, int]:
    """(node steps, super-steps, checkpoints) of one invoke, measured on InMemorySaver.

    LangGraph runs a ``__start__`` super-step that writes the input to the channels
    before the nodes' steps; each super-step and the input itself are checkpointed
    (``metadata["step"]`` runs from -1 to the last super-step).
    """
    from langgraph.checkpoint.memory import InMemorySaver

    saver = InMemorySaver()
    cfg = config("count-steps")
    updates = list(
        build(saver).stream(INPUT, cfg, stream_mode="updates", durability="sync")
    )
    history = list(saver.list(cfg))
    return len(updates), int(history[0].metadata["step"]) + 1, len(history)
