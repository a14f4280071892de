"""A durable multi-step graph: interrupt it (Ctrl-C, or kill it) and run it again.

Every step is checkpointed before the next one starts, so a second run picks up at
the first unfinished step instead of starting over.
"""

from __future__ import annotations

import operator
import sys
import time
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from stateward import database

STEP_SECONDS = 0.5  # simulated work, so there is time to interrupt it


class DemoState(TypedDict):
    """The demo's state: the steps finished so far, and how many there are."""

    total: int
    finished: Annotated[list[int], operator.add]


def work(state: DemoState) -> dict[str, Any]:
    """One step of (simulated) work."""
    step = len(state["finished"]) + 1
    time.sleep(STEP_SECONDS)
    print(f"  step {step}/{state['total']} done", file=sys.stderr)
    return {"finished": [step]}


def route(state: DemoState) -> str:
    """Loop until every step is finished."""
    return END if len(state["finished"]) >= state["total"] else "work"


def build() -> Any:
    """The demo graph, uncompiled."""
    graph = StateGraph(DemoState)
    graph.add_node("work", work)
    graph.add_edge(START, "work")
    graph.add_conditional_edges("work", route)
    return graph


def main(database_url: str, *, thread_id: str, steps: int) -> int:
    """Run (or resume) the demo thread and report what happened."""
    print(
        f"database: {database.redact(database_url)}, thread: {thread_id}",
        file=sys.stderr,
    )
    with database.open_saver(database_url) as saver:
        graph = build().compile(checkpointer=saver)
        config: Any = {
            "configurable": {"thread_id": thread_id},
            "recursion_limit": 10_000,
        }
        state = graph.get_state(config)
        if state.values and not state.next:
            done = len(state.values["finished"])
            print(
                f"thread {thread_id!r} already finished {done} steps; "
                "pass --thread NAME to start another",
                file=sys.stderr,
            )
            return 0
        if state.next:
            done = len(state.values["finished"])
            print(
                f"resuming after step {done} (from the last checkpoint)",
                file=sys.stderr,
            )
            final = graph.invoke(None, config, durability="sync")
        else:
            print(f"starting {steps} steps; press Ctrl-C at any time", file=sys.stderr)
            final = graph.invoke(
                {"total": steps, "finished": []}, config, durability="sync"
            )
    print(f"finished all {len(final['finished'])} steps", file=sys.stderr)
    return 0
