"""A fork server for test_effects.py: graph runs whose first node calls a service.

Usage: ``python effect_child.py DSN URL``. Imports once, then for each stdin line
``run <mode> <thread_id>`` forks a process that prints ``child <pid>`` and runs a
two-node graph on PostgreSQL (``charge`` -> ``ship``; the schema must exist). The
``charge`` node POSTs ``{"order": <thread_id>}`` to URL through
:func:`stateward.effects.run_effect`, sending its idempotency key as the
``Idempotency-Key`` header. A thread with a checkpoint is resumed (``invoke(None)``).

Modes: ``after-record`` prints ``recorded`` once the effect's record has committed
and blocks before the node returns; ``in-call`` prints ``called`` after the service
answered, before the record is written, and blocks; ``finish`` runs to the end and
prints ``done <json of the final state>``. When a forked process ends the server
prints ``exit <pid> <exit code, negative for a signal>``.
"""

from __future__ import annotations

import json
import operator
import os
import sys
import threading
import urllib.request
from typing import Annotated, Any, TypedDict

from crash_child import BLOCK_LIMIT, say, serve_forks
from langgraph.graph import END, START, StateGraph

from stateward.checkpoint import PostgresSaver
from stateward.effects import run_effect

HTTP_TIMEOUT = 10.0


class OrderState(TypedDict, total=False):
    """The order (the thread id), the service's answer, and the nodes that ran."""

    order: str
    charge: dict[str, Any]
    steps: Annotated[list[str], operator.add]


def block(line: str) -> None:
    """Tell the parent, then wait to be killed (exit 3 if never killed)."""
    say(line)
    threading.Event().wait(BLOCK_LIMIT)
    say("not killed")
    os._exit(3)


def post(url: str, order: str, idempotency_key: str) -> dict[str, Any]:
    """One request to the service; its JSON answer."""
    request = urllib.request.Request(  # noqa: S310 - a local http URL from the test
        url,
        data=json.dumps({"order": order}).encode(),
        headers={
            "Idempotency-Key": idempotency_key,
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def build(saver: Any, url: str, mode: str) -> Any:
    def call_service(order: str, idempotency_key: str = "") -> dict[str, Any]:
        answer = post(url, order, idempotency_key)
        if mode == "in-call":
            block("called")
        return answer

    def charge(state: OrderState) -> dict[str, Any]:
        answer = run_effect("charge", call_service, state["order"])
        if mode == "after-record":
            block("recorded")
        return {"charge": answer, "steps": ["charge"]}

    def ship(state: OrderState) -> dict[str, Any]:
        return {"steps": ["ship"]}

    builder = StateGraph(OrderState)
    builder.add_node("charge", charge)
    builder.add_node("ship", ship)
    builder.add_edge(START, "charge")
    builder.add_edge("charge", "ship")
    builder.add_edge("ship", END)
    return builder.compile(checkpointer=saver)


def run(dsn: str, url: str, mode: str, thread_id: str) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread_id}}
    with PostgresSaver.from_conn_string(dsn, pool_size=1) as saver:
        graph = build(saver, url, mode)
        started = saver.get_tuple(config) is not None
        first_input = None if started else {"order": thread_id, "steps": []}
        result: dict[str, Any] = graph.invoke(first_input, config, durability="sync")
        return result


def serve(dsn: str, url: str) -> int:
    """Fork a run for each ``go <mode> <thread>`` line (see crash_child.serve_forks)."""
    return serve_forks(lambda fields: run(dsn, url, fields[1], fields[2]))


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1], sys.argv[2]))
