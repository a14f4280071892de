"""A child process for test_crash.py: runs a graph on a thread until it is killed.

Usage: ``python crash_child.py SCENARIO BACKEND TARGET THREAD_ID [options]``.

* ``chain``: START -> n1 -> ... -> n5 -> END, each node appending its name to the
  state and a line to the ``--side`` file when it starts. With ``--block``, n3 prints
  ``n3 started`` and then blocks (until it is killed). Without it, the thread is
  resumed (``invoke(None)``) and run to the end.
* ``loop``: one node run again and again, each step appending an item to a list in the
  state and printing ``step <count>``, until ``count`` reaches ``--until``; the
  thread is started, or resumed if it has a checkpoint.
* ``loop-server``: imports once, then for each line ``go <until>`` on stdin forks a
  new process that prints ``child <pid>`` and runs ``loop`` (a fresh process per
  run, without paying for the imports again); when that process ends, prints
  ``exit <pid> <exit code, negative for a signal>``. Ends at the end of stdin.

With ``--wait-go``, ``chain`` and ``loop`` print ``ready`` once imported and wait
for a line on stdin before touching the database. The final state of a run is
printed as ``done <json>``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import operator
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from stateward.checkpoint import PostgresSaver, SqliteSaver

CHAIN = ("n1", "n2", "n3", "n4", "n5")
BLOCK_LIMIT = 60.0  # seconds a blocked node waits before giving up on being killed
RUN_LIMIT = 60.0  # seconds a loop runs at most, killed or not
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
ITEM_SIZE = 200


def item(index: int) -> str:
    """The item the loop appends at ``index``: recognisable and not tiny."""
    return f"{index:06d}:" + "x" * ITEM_SIZE


class ChainState(TypedDict):
    """The names of the nodes that ran, in order."""

    steps: Annotated[list[str], operator.add]


class LoopState(TypedDict):
    """A list that grows by one item per step, and the number of steps taken."""

    items: Annotated[list[str], operator.add]
    count: int


def say(line: str) -> None:
    """Tell the parent something, at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextmanager
def open_saver(backend: str, target: str) -> Iterator[Any]:
    if backend == "sqlite":
        with SqliteSaver.from_conn_string(target) as saver:
            yield saver
    else:
        with PostgresSaver.from_conn_string(target, pool_size=2) as pg_saver:
            pg_saver.setup()
            yield pg_saver


def record(side: str, name: str) -> None:
    """Append one execution record to the side file, durably."""
    fd = os.open(side, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{name}\n".encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def chain_node(
    name: str, side: str, block: bool
) -> Callable[[ChainState], dict[str, Any]]:
    def node(state: ChainState) -> dict[str, Any]:
        record(side, name)
        if block and name == "n3":
            say("n3 started")
            threading.Event().wait(BLOCK_LIMIT)
            say("n3 was not killed")
            os._exit(3)
        return {"steps": [name]}

    return node


def run_chain(saver: Any, thread_id: str, side: str, block: bool) -> dict[str, Any]:
    builder = StateGraph(ChainState)
    previous = START
    for name in CHAIN:
        builder.add_node(name, chain_node(name, side, block))
        builder.add_edge(previous, name)
        previous = name
    builder.add_edge(previous, END)
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread_id}}
    started = graph.get_state(config).values
    # A thread that has a checkpoint is resumed where it stopped.
    first_input = None if started else {"steps": []}
    result: dict[str, Any] = graph.invoke(first_input, config, durability="sync")
    return result


def run_loop(saver: Any, thread_id: str, until: int) -> dict[str, Any]:
    parent = os.getppid()
    deadline = time.monotonic() + RUN_LIMIT

    def step(state: LoopState) -> dict[str, Any]:
        if os.getppid() != parent or time.monotonic() > deadline:
            os._exit(4)  # orphaned, or never killed: do not run on forever
        count = state["count"]
        say(f"step {count}")
        return {"items": [item(count)], "count": count + 1}

    def more(state: LoopState) -> str:
        return "step" if state["count"] < until else END

    builder = StateGraph(LoopState)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_conditional_edges("step", more, ["step", END])
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread_id}, "recursion_limit": 1_000_000}
    has_checkpoint = saver.get_tuple(config) is not None
    first_input = None if has_checkpoint else {"items": [], "count": 0}
    result: dict[str, Any] = graph.invoke(first_input, config, durability="sync")
    return result


def die_with_parent() -> None:
    """Be SIGKILLed when the fork server ends (Linux), so no run outlives it."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def serve_forks(handle: Callable[[list[str]], Any]) -> int:
    """Fork a new process for each line on stdin, which runs ``handle(fields)`` and
    reports ``done <json>``; then report how the process ended."""
    for line in sys.stdin:
        fields = line.split()
        pid = os.fork()
        if pid == 0:  # the new process: nothing is open yet but stdio
            code = 1
            try:
                die_with_parent()
                say(f"child {os.getpid()}")
                say("done " + json.dumps(handle(fields)))
                code = 0
            except BaseException:  # noqa: BLE001 - reported, then the process ends
                traceback.print_exc()
                sys.stderr.flush()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        say(f"exit {pid} {os.waitstatus_to_exitcode(status)}")
    return 0


def serve_loops(backend: str, target: str, thread_id: str) -> int:
    """Fork a new process for each ``go <until>`` line; report how each ended."""

    def handle(fields: list[str]) -> Any:
        with open_saver(backend, target) as saver:
            return run_loop(saver, thread_id, int(fields[1]))

    return serve_forks(handle)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=["chain", "loop", "loop-server"])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("target")
    parser.add_argument("thread_id")
    parser.add_argument("--side", default="")
    parser.add_argument("--block", action="store_true")
    parser.add_argument("--until", type=int, default=10**9)
    parser.add_argument("--wait-go", action="store_true")
    args = parser.parse_args(argv)
    if args.scenario == "loop-server":
        return serve_loops(args.backend, args.target, args.thread_id)
    if args.wait_go:
        say("ready")
        if not sys.stdin.readline():
            return 2  # the parent went away without starting us
    with open_saver(args.backend, args.target) as saver:
        if args.scenario == "chain":
            result = run_chain(saver, args.thread_id, args.side, args.block)
        else:
            result = run_loop(saver, args.thread_id, args.until)
    say("done " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
