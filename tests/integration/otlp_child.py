"""Run one observed graph with tracing configured from OTEL_* variables, then flush.

Usage: python otlp_child.py SQLITE_PATH THREAD_ID
"""

from __future__ import annotations

import operator
import os
import sys
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from stateward.checkpoint import SqliteSaver
from stateward.observability import GraphObserver
from stateward.observability.setup import configure_tracing


class Steps(TypedDict):
    """Each node appends its name."""

    log: Annotated[list[str], operator.add]


def main() -> None:
    """Configure tracing from the environment, run two nodes, flush the spans."""
    path, thread = sys.argv[1], sys.argv[2]
    provider = configure_tracing(os.environ)
    builder = StateGraph(Steps)
    builder.add_node("plan", lambda state: {"log": ["plan"]})
    builder.add_node("act", lambda state: {"log": ["act"]})
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "act")
    builder.add_edge("act", END)
    with SqliteSaver.from_conn_string(path) as saver:
        graph = builder.compile(checkpointer=saver, name="traced_graph")
        config: Any = {"configurable": {"thread_id": thread}}
        config["callbacks"] = [GraphObserver()]
        graph.invoke({"log": []}, config)
    provider.shutdown()


if __name__ == "__main__":
    main()
