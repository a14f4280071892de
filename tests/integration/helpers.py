"""Shared pieces of the integration tests: savers, graphs, child-process plumbing."""

from __future__ import annotations

import operator
import os
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

import psycopg
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, get_checkpoint_id
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.state import CompiledStateGraph

from stateward.checkpoint import AsyncPostgresSaver, PostgresSaver, SqliteSaver
from stateward.checkpoint._base import StatewardSaver

Backend = Literal["sqlite", "postgres"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgres")

HERE = Path(__file__).resolve().parent
CHILD_SCRIPT = HERE / "crash_child.py"
UNREACHABLE_SCRIPT = HERE / "unreachable_child.py"

Gate = Callable[[], object]
AsyncGate = Callable[[], Awaitable[object]]


# -- savers whose read of the head can be held at a rendezvous -----------------------


class _GatedMixin(StatewardSaver):
    """After reading the latest checkpoint, run ``gate`` once (then disarm it).

    Reading by checkpoint id (time travel) is never held.
    """

    gate: Gate | None = None

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        found = super().get_tuple(config)
        gate = self.gate
        if gate is not None and get_checkpoint_id(config) is None:
            self.gate = None
            gate()
        return found


class GatedSqliteSaver(_GatedMixin, SqliteSaver):
    """SqliteSaver with a rendezvous after its next read of a thread's head."""


class GatedPostgresSaver(_GatedMixin, PostgresSaver):
    """PostgresSaver with a rendezvous after its next read of a thread's head."""


class GatedAsyncPostgresSaver(AsyncPostgresSaver):
    """AsyncPostgresSaver with an awaited rendezvous after its next read of a head."""

    agate: AsyncGate | None = None

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        found = await super().aget_tuple(config)
        gate = self.agate
        if gate is not None and get_checkpoint_id(config) is None:
            self.agate = None
            await gate()
        return found


@contextmanager
def open_saver(
    backend: Backend,
    target: str,
    *,
    gated: bool = False,
    **kwargs: Any,
) -> Iterator[StatewardSaver]:
    """A sync saver of its own (own connection or pool) on ``target``."""
    if backend == "sqlite":
        sqlite_cls = GatedSqliteSaver if gated else SqliteSaver
        with sqlite_cls.from_conn_string(target, **kwargs) as saver:
            yield saver
    else:
        pg_cls = GatedPostgresSaver if gated else PostgresSaver
        kwargs.setdefault("pool_size", 2)
        with pg_cls.from_conn_string(target, **kwargs) as pg_saver:
            pg_saver.setup()
            yield pg_saver


# -- a chat-like graph whose every node leaves a unique mark ------------------------


class TurnState(MessagesState):
    """Messages, plus one mark per node execution that reached the state."""

    marks: Annotated[list[str], operator.add]


def _turn_label(messages: list[AnyMessage]) -> str:
    human = [m for m in messages if isinstance(m, HumanMessage)]
    return str(human[-1].content)


def make_node(index: int) -> Callable[[TurnState], dict[str, Any]]:
    """Node ``n<index>``: answers the turn and marks ``<turn label>:n<index>``."""

    def node(state: TurnState) -> dict[str, Any]:
        label = _turn_label(state["messages"])
        return {
            "messages": [AIMessage(f"{label}:n{index}")],
            "marks": [f"{label}:n{index}"],
        }

    return node


def build_turn_graph(
    checkpointer: Any,
    nodes: int,
    *,
    before: Mapping[int, Callable[[], object]] | None = None,
) -> CompiledStateGraph[Any]:
    """START -> n1 -> ... -> n<nodes> -> END, each node marking the turn.

    ``before[i]``, if given, is called when node ``n<i>`` starts.
    """
    builder = StateGraph(TurnState)
    previous = START
    for index in range(1, nodes + 1):
        node = make_node(index)
        hook = (before or {}).get(index)
        if hook is not None:
            node = _preceded(hook, node)
        builder.add_node(f"n{index}", node)
        builder.add_edge(previous, f"n{index}")
        previous = f"n{index}"
    builder.add_edge(previous, END)
    return builder.compile(checkpointer=checkpointer)


def _preceded(
    hook: Callable[[], object], node: Callable[[TurnState], dict[str, Any]]
) -> Callable[[TurnState], dict[str, Any]]:
    def preceded(state: TurnState) -> dict[str, Any]:
        hook()
        return node(state)

    return preceded


def turn_input(label: str) -> dict[str, Any]:
    """The input of one turn: a human message whose text labels the turn."""
    return {"messages": [HumanMessage(label)]}


def turn_marks(label: str, nodes: int) -> list[str]:
    """The marks a complete turn labelled ``label`` leaves in the state."""
    return [f"{label}:n{index}" for index in range(1, nodes + 1)]


def turn_contents(label: str, nodes: int) -> list[str]:
    """The message texts a complete turn labelled ``label`` adds to the state."""
    return [label, *turn_marks(label, nodes)]


def contents(values: dict[str, Any]) -> list[str]:
    """The texts of a state's messages, in order."""
    return [str(m.content) for m in values.get("messages", [])]


def thread_config(thread_id: str, checkpoint_id: str | None = None) -> RunnableConfig:
    """A config naming a thread (and, optionally, one of its checkpoints)."""
    configurable: dict[str, Any] = {"thread_id": thread_id}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def checkpoint_ids(
    saver: StatewardSaver, thread_id: str, *, limit: int | None = None
) -> list[str]:
    """Ids of the thread's checkpoints (all, or the ``limit`` newest), newest first."""
    return [
        str(t.config["configurable"]["checkpoint_id"])
        for t in saver.list(thread_config(thread_id), limit=limit)
    ]


# -- PostgreSQL -----------------------------------------------------------------------


def database_name(dsn: str) -> str:
    """The database a DSN points at."""
    return str(psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


def terminate_backends(admin: psycopg.Connection[Any], dsn: str) -> int:
    """Kill every server process connected to the DSN's database, as a restart would."""
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (database_name(dsn),),
    ).fetchall()
    return sum(1 for (killed,) in rows if killed)


# -- child processes -----------------------------------------------------------------


def spawn_child(
    args: list[str],
    stderr_path: Path,
    *,
    stdin: bool = False,
    script: Path = CHILD_SCRIPT,
) -> subprocess.Popen[bytes]:
    """Start ``script`` with ``args``; its stdout is a pipe of status lines (and its
    stdin one too, if ``stdin``)."""
    with stderr_path.open("ab") as stderr:
        return subprocess.Popen(
            [sys.executable, str(script), *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
            bufsize=0,
        )


class LineReader:
    """Reads a child's stdout line by line, never waiting longer than asked."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self._fd = proc.stdout.fileno()
        self._buffer = b""

    def readline(self, timeout: float) -> str:
        """The next line; TimeoutError if none comes in time, EOFError at the end."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no line from the child within {timeout} s")
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if ready:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    raise EOFError("the child closed its stdout")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode()


def kill_and_reap(proc: subprocess.Popen[bytes]) -> int:
    """SIGKILL a child (if still running) and collect its exit status."""
    if proc.poll() is None:
        proc.kill()
    returncode = proc.wait(timeout=30)
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()
    return returncode


@contextmanager
def raw_sql(backend: Backend, target: str) -> Iterator[Callable[..., list[Any]]]:
    """Run SQL on the database directly (``%s`` placeholders), bypassing the saver."""
    if backend == "sqlite":
        conn = sqlite3.connect(target, isolation_level=None)
        try:
            yield lambda sql, params=(): conn.execute(
                sql.replace("%s", "?"), params
            ).fetchall()
        finally:
            conn.close()
    else:
        with psycopg.connect(target, autocommit=True) as pg:

            def run(sql: str, params: Any = ()) -> list[Any]:
                cur = pg.execute(sql, params)
                return cur.fetchall() if cur.description else []

            yield run


class Steps(TypedDict):
    """Each node appends its name."""

    log: Annotated[list[str], operator.add]


def plan_act_graph(saver: Any, name: str, fail_in: str | None = None) -> Any:
    """START -> plan -> act -> END; the node named ``fail_in`` raises KeyError."""

    def node(node_name: str) -> Any:
        def run(state: Steps) -> dict[str, list[str]]:
            if node_name == fail_in:
                raise KeyError(node_name)
            return {"log": [node_name]}

        return run

    builder = StateGraph(Steps)
    builder.add_node("plan", node("plan"))
    builder.add_node("act", node("act"))
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "act")
    builder.add_edge("act", END)
    return builder.compile(checkpointer=saver, name=name)
