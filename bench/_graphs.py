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


def count_steps() -> tuple[int, int]:
    """(super-steps, checkpoints written) by one invoke, measured on InMemorySaver.

    A fresh thread's last checkpoint has ``metadata["step"] == n - 1`` after ``n``
    node super-steps (the input checkpoint is step -1).
    """
    from langgraph.checkpoint.memory import InMemorySaver

    saver = InMemorySaver()
    cfg = config("count-steps")
    build(saver).invoke(INPUT, cfg, durability="sync")
    history = list(saver.list(cfg))
    steps = int(history[0].metadata["step"]) + 1
    return steps, len(history)
