"""Exactly-once side effects (stateward.effects): replayed from the record, never rerun.

The crash tests run graphs in a fork server (``effect_child.py``) whose first node
calls a local HTTP service; the parent SIGKILLs runs at chosen moments, resumes
them in new processes, and counts what the service saw.
"""

from __future__ import annotations

import contextlib
import io
import json
import operator
import os
import signal
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Annotated, Any, TypedDict

import psycopg
import pytest
from langgraph._internal._constants import CONFIG_KEY_TASK_ID
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.config import get_config
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, RetryPolicy, interrupt
from prometheus_client import REGISTRY

from stateward import errors
from stateward.checkpoint import AsyncPostgresSaver, AsyncSqliteSaver
from stateward.checkpoint._effects import EffectKey, delete_thread_effects
from stateward.effects import (
    current_idempotency_key,
    effect,
    idempotency_key,
    request_hash,
    run_effect,
)
from tests.integration.helpers import (
    HERE,
    Backend,
    LineReader,
    kill_and_reap,
    open_saver,
    raw_sql,
    spawn_child,
    thread_config,
)

EFFECT_SCRIPT = HERE / "effect_child.py"
STARTUP = 60.0  # seconds for the fork server to import and answer
LINE = 30.0  # seconds for any later line
CRASH_RUNS = 50
GAP_RUNS = 5


class State(TypedDict, total=False):
    """What the test nodes return: effect results, and the nodes that ran."""

    results: Annotated[list[Any], operator.add]
    steps: Annotated[list[str], operator.add]


def one_node_graph(checkpointer: Any, node: Any, *, retries: int = 1) -> Any:
    """START -> work -> END, with ``retries`` attempts of ``work``."""
    builder = StateGraph(State)
    policy = RetryPolicy(max_attempts=retries, initial_interval=0.001, jitter=False)
    builder.add_node("work", node, retry_policy=policy)
    builder.add_edge(START, "work")
    builder.add_edge("work", END)
    return builder.compile(checkpointer=checkpointer)


class Flaky(Exception):
    """Raised by a node after its effect, to make LangGraph run it again."""


# -- semantics ---------------------------------------------------------------------


def test_retried_node_gets_the_recorded_result(
    backend: tuple[Backend, str], log_lines: io.StringIO
) -> None:
    """A node retried after its effect gets the recorded result; the effect ran once;
    the replay is logged and counted."""
    replays = REGISTRY.get_sample_value("stateward_effect_replays_total") or 0.0
    calls: list[str] = []
    attempts: list[str] = []

    def send(to: str, idempotency_key: str = "") -> dict[str, Any]:
        calls.append(idempotency_key)
        assert idempotency_key == current_idempotency_key()
        return {"sent": to, "n": len(calls)}

    def work(state: State) -> dict[str, Any]:
        result = run_effect("email", send, "ann@example.com")
        attempts.append(result["sent"])
        if len(attempts) == 1:
            raise Flaky
        return {"results": [result]}

    with open_saver(*backend) as saver:
        graph = one_node_graph(saver, work, retries=3)
        final = graph.invoke({}, thread_config("t1"))
    assert final["results"] == [{"sent": "ann@example.com", "n": 1}]
    assert len(calls) == 1
    assert calls[0].startswith("stateward-")
    assert attempts == ["ann@example.com", "ann@example.com"]
    assert REGISTRY.get_sample_value("stateward_effect_replays_total") == replays + 1
    events = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    replayed = [e for e in events if e["event"] == "effect_replayed"]
    assert [(e["thread_id"], e["effect_key"]) for e in replayed] == [("t1", "email")]


def test_run_resumed_after_a_failure_replays_the_effect(
    backend: tuple[Backend, str],
) -> None:
    """A run that failed after the effect resumes (invoke(None)) in the same task,
    so the effect is replayed, not rerun."""
    calls: list[str] = []
    tasks: list[str] = []

    def charge(amount: int, idempotency_key: str = "") -> str:
        calls.append(idempotency_key)
        return f"ch-{len(calls)}"

    def work(state: State) -> dict[str, Any]:
        result = run_effect("charge", charge, 100)
        tasks.append(get_config()["configurable"][CONFIG_KEY_TASK_ID])
        if len(tasks) == 1:
            raise Flaky
        return {"results": [result]}

    config = thread_config("t-resume")
    with open_saver(*backend) as saver:
        graph = one_node_graph(saver, work)
        with pytest.raises(Flaky):
            graph.invoke({}, config)
        final = graph.invoke(None, config)
    assert final["results"] == ["ch-1"]
    assert tasks[0] == tasks[1]
    assert calls == [idempotency_key(EffectKey("t-resume", "", tasks[0], "charge"))]


def test_node_resumed_after_an_interrupt_replays_the_effect(sqlite_path: Path) -> None:
    """A node that interrupts after its effect reruns from its start on resume; the
    effect is replayed there, and the answer reaches the state."""
    calls: list[str] = []

    def book(room: str) -> str:
        calls.append(room)
        return f"booking-{len(calls)}"

    def work(state: State) -> dict[str, Any]:
        booking = run_effect("book", book, "blue")
        answer = interrupt("confirm?")
        return {"results": [booking, answer]}

    config = thread_config("t-interrupt")
    with open_saver("sqlite", str(sqlite_path)) as saver:
        graph = one_node_graph(saver, work)
        graph.invoke({}, config)
        final = graph.invoke(Command(resume="yes"), config)
    assert final["results"] == ["booking-1", "yes"]
    assert calls == ["blue"]


def test_effects_in_a_subgraph_live_in_its_namespace(sqlite_path: Path) -> None:
    """An effect in a subgraph's node is recorded in the subgraph's namespace (the
    one its checkpoints use) and replayed when that node is retried."""
    calls: list[str] = []
    attempts: list[str] = []

    def step() -> str:
        calls.append("step")
        return "done"

    def work(state: State) -> dict[str, Any]:
        attempts.append(run_effect("step", step))
        if len(attempts) == 1:
            raise Flaky
        return {"results": attempts[-1:]}

    inner = one_node_graph(None, work, retries=2)
    builder = StateGraph(State)
    builder.add_node("sub", inner)
    builder.add_edge(START, "sub")
    builder.add_edge("sub", END)
    with open_saver("sqlite", str(sqlite_path)) as saver:
        final = builder.compile(checkpointer=saver).invoke({}, thread_config("t-sub"))
    with raw_sql("sqlite", str(sqlite_path)) as sql:
        rows = sql("SELECT checkpoint_ns FROM stateward_effects")
    assert final["results"] == ["done"]
    assert calls == ["step"]
    assert attempts == ["done", "done"]
    assert len(rows) == 1
    assert rows[0][0].startswith("sub:")
    assert "|" not in rows[0][0]


def test_different_request_under_a_recorded_key_is_a_conflict(
    backend: tuple[Backend, str],
) -> None:
    """The same key with another payload raises EffectConflictError; nothing reruns."""
    calls: list[int] = []

    def transfer(amount: int) -> int:
        calls.append(amount)
        return amount

    def work(state: State) -> dict[str, Any]:
        first = run_effect("transfer", transfer, 10)
        again = run_effect("transfer", transfer, 10)  # a replay: same request
        assert again == first
        run_effect("transfer", transfer, 20)
        return {}

    with open_saver(*backend) as saver:
        graph = one_node_graph(saver, work)
        with pytest.raises(errors.EffectConflictError) as caught:
            graph.invoke({}, thread_config("t-conflict"))
    assert calls == [10]
    assert caught.value.effect_key == "transfer"
    assert caught.value.recorded_hash == request_hash({"args": [10], "kwargs": {}})


def test_decorator_keys_by_arguments_and_payload_defaults_to_them(
    sqlite_path: Path,
) -> None:
    """@effect with a key function: one record per key; replays by argument value."""
    calls: list[tuple[str, int]] = []

    @effect(key=lambda item, qty: f"reserve-{item}")
    def reserve(item: str, qty: int, idempotency_key: str = "") -> str:
        calls.append((item, qty))
        return f"{item}x{qty}:{idempotency_key[:18]}"

    def work(state: State) -> dict[str, Any]:
        results = [reserve("apple", 2), reserve("pear", 1), reserve("apple", qty=2)]
        return {"results": results}

    with open_saver("sqlite", str(sqlite_path)) as saver:
        final = one_node_graph(saver, work).invoke({}, thread_config("t-deco"))
    assert calls == [("apple", 2), ("pear", 1)]
    assert final["results"][0] == final["results"][2]
    assert final["results"][0].startswith("applex2:stateward-")


@contextlib.asynccontextmanager
async def open_async_saver(backend: Backend, target: str) -> AsyncIterator[Any]:
    """An async saver of its own on ``target``, migrated."""
    if backend == "sqlite":
        async with AsyncSqliteSaver.from_conn_string(target) as saver:
            yield saver
    else:
        async with AsyncPostgresSaver.from_conn_string(target, pool_size=2) as pg:
            await pg.setup()
            yield pg


async def test_async_effects_in_an_async_node(backend: tuple[Backend, str]) -> None:
    """An async effect function (decorated) runs once and replays on retry."""
    calls: list[str] = []
    attempts: list[str] = []

    @effect(key="notify")
    async def notify(text: str) -> str:
        calls.append(current_idempotency_key())
        return text.upper()

    async def work(state: State) -> dict[str, Any]:
        result = await notify("hello")
        attempts.append(result)
        if len(attempts) == 1:
            raise Flaky
        return {"results": [result]}

    async with open_async_saver(*backend) as saver:
        graph = one_node_graph(saver, work, retries=2)
        final = await graph.ainvoke({}, thread_config("t-async"))
    assert final["results"] == ["HELLO"]
    assert len(calls) == 1
    assert attempts == ["HELLO", "HELLO"]


def test_effects_outside_a_stateward_run_are_refused(sqlite_path: Path) -> None:
    """Outside a run, or under another checkpointer, effects refuse to run."""

    def never() -> None:
        raise AssertionError("the effect ran")

    with pytest.raises(errors.InvalidInputError, match="inside a LangGraph node"):
        run_effect("k", never)
    with pytest.raises(errors.InvalidInputError, match="only available inside"):
        current_idempotency_key()

    def work(state: State) -> dict[str, Any]:
        run_effect("k", never)
        return {}

    for checkpointer in (InMemorySaver(), None):
        graph = one_node_graph(checkpointer, work)
        with pytest.raises(errors.InvalidInputError, match="Stateward checkpointer"):
            graph.invoke({}, thread_config("t-other"))


def test_concurrent_duplicate_gets_the_first_record(
    backend: tuple[Backend, str],
) -> None:
    """A second insert under a key returns what the first recorded, not its own."""
    key = EffectKey("t-dup", "", "task-1", "k")
    digest = request_hash({"x": 1})
    with open_saver(*backend) as saver:
        assert saver.get_effect(key) is None
        first = saver.put_effect(key, digest, {"winner": 1})
        second = saver.put_effect(key, digest, {"winner": 2})
        found = saver.get_effect(key)
        saver._driver.run(lambda: delete_thread_effects(["t-dup"]), "write")
        assert saver.get_effect(key) is None
    assert first is not None
    assert first.inserted
    assert second is not None
    assert not second.inserted
    assert second.result == {"winner": 1}
    assert found is not None
    assert found.result == {"winner": 1}
    assert found.request_hash == digest


def test_idempotency_key_is_stable_and_distinct() -> None:
    """The same effect gives the same key; any other thread, task or key another."""
    key = EffectKey("t", "", "task", "charge")
    others = [
        EffectKey("t2", "", "task", "charge"),
        EffectKey("t", "ns", "task", "charge"),
        EffectKey("t", "", "task2", "charge"),
        EffectKey("t", "", "task", "refund"),
    ]
    assert idempotency_key(key) == idempotency_key(EffectKey("t", "", "task", "charge"))
    assert len({idempotency_key(k) for k in [key, *others]}) == len(others) + 1
    assert request_hash({"a": 1, "b": [1, 2]}) == request_hash({"b": (1, 2), "a": 1})


# -- crashes: a local service that counts requests ------------------------------------


class Service:
    """A de-duplicating HTTP service: answers a repeated Idempotency-Key with the
    first answer, and counts every request it received per key."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self.orders: Counter[str] = Counter()
        self.answers: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def handle(self, key: str, order: str) -> dict[str, Any]:
        with self.lock:
            self.requests[key] += 1
            self.orders[order] += 1
            if key not in self.answers:
                self.answers[key] = {
                    "charge_id": f"ch-{len(self.answers) + 1}",
                    "order": order,
                }
            return self.answers[key]


def _handler(service: Service) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            order = json.loads(self.rfile.read(length))["order"]
            answer = service.handle(self.headers["Idempotency-Key"], order)
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serving() -> Iterator[tuple[Service, str]]:
    """The service on 127.0.0.1 (a free port), in a thread; its URL."""
    service = Service()
    server = HTTPServer(("127.0.0.1", 0), _handler(service))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service, f"http://127.0.0.1:{server.server_address[1]}/charge"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=LINE)


class ForkServer:
    """Drives effect_child.py: one run per command, each in a new process."""

    def __init__(self, dsn: str, url: str, stderr: Path) -> None:
        self.proc = spawn_child([dsn, url], stderr, stdin=True, script=EFFECT_SCRIPT)
        self.reader = LineReader(self.proc)
        self.stderr = stderr
        self.timeout = STARTUP  # the first answer waits for the imports

    def line(self) -> str:
        try:
            text = self.reader.readline(self.timeout)
        except (EOFError, TimeoutError) as exc:
            raise AssertionError(f"{exc}; stderr:\n{self.stderr.read_text()}") from exc
        self.timeout = LINE
        return text

    def start(self, mode: str, thread_id: str) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {mode} {thread_id}\n".encode())
        self.proc.stdin.flush()
        line = self.line()
        assert line.startswith("child "), (line, self.stderr.read_text())
        return int(line.removeprefix("child "))

    def expect(self, wanted: str) -> None:
        line = self.line()
        assert line == wanted, (line, self.stderr.read_text())

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        self.expect(f"exit {pid} {-signal.SIGKILL}")

    def finish(self, thread_id: str) -> dict[str, Any]:
        pid = self.start("finish", thread_id)
        line = self.line()
        assert line.startswith("done "), (line, self.stderr.read_text())
        self.expect(f"exit {pid} 0")
        final: dict[str, Any] = json.loads(line.removeprefix("done "))
        return final


@contextlib.contextmanager
def fork_server(dsn: str, url: str, tmp_path: Path) -> Iterator[ForkServer]:
    """The fork server on a migrated database; stopped (and reaped) at the end."""
    with open_saver("postgres", dsn):
        pass  # migrate once, before any child runs
    server = ForkServer(dsn, url, tmp_path / "child.err")
    try:
        yield server
        assert server.proc.stdin is not None
        server.proc.stdin.close()
        assert server.proc.wait(timeout=LINE) == 0
    finally:
        kill_and_reap(server.proc)


def _records(conn: psycopg.Connection[Any], thread_id: str) -> int:
    """The thread's effect records, counted directly."""
    row = conn.execute(
        "SELECT count(*) FROM stateward_effects WHERE thread_id = %s", (thread_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.postgres
@pytest.mark.slow
def test_killed_after_the_record_commits_the_service_is_called_once(
    pg_dsn: str, tmp_path: Path
) -> None:
    """Killed after the effect's record committed (before the node's checkpoint), a
    resumed run replays the record: one request per key, the recorded result kept."""
    threads = [f"order-{i}-{uuid.uuid4().hex[:8]}" for i in range(CRASH_RUNS)]
    with (
        serving() as (service, url),
        fork_server(pg_dsn, url, tmp_path) as server,
        psycopg.connect(pg_dsn, autocommit=True) as conn,
    ):
        finals = {}
        for thread_id in threads:
            pid = server.start("after-record", thread_id)
            server.expect("recorded")
            server.kill(pid)
            assert _records(conn, thread_id) == 1  # it had committed
            finals[thread_id] = server.finish(thread_id)
            assert _records(conn, thread_id) == 1
    assert len(service.requests) == CRASH_RUNS
    assert set(service.requests.values()) == {1}
    assert service.orders == Counter(threads)
    answers = {a["order"]: a for a in service.answers.values()}
    for thread_id in threads:
        assert finals[thread_id]["charge"] == answers[thread_id]
        assert finals[thread_id]["steps"] == ["charge", "ship"]


@pytest.mark.postgres
def test_killed_between_the_call_and_the_record_calls_again_with_the_same_key(
    pg_dsn: str, tmp_path: Path
) -> None:
    """The documented gap: killed after the service answered but before the record
    committed, the resumed run calls the service again, with the same idempotency
    key, so a de-duplicating service acts once and the first answer is kept."""
    threads = [f"gap-{i}-{uuid.uuid4().hex[:8]}" for i in range(GAP_RUNS)]
    with (
        serving() as (service, url),
        fork_server(pg_dsn, url, tmp_path) as server,
        psycopg.connect(pg_dsn, autocommit=True) as conn,
    ):
        finals = {}
        for thread_id in threads:
            pid = server.start("in-call", thread_id)
            server.expect("called")
            server.kill(pid)
            assert _records(conn, thread_id) == 0  # killed before the record
            finals[thread_id] = server.finish(thread_id)
            assert _records(conn, thread_id) == 1
    # Two requests per order (the effect ran twice) but one key per order.
    assert service.orders == Counter({t: 2 for t in threads})
    assert len(service.requests) == GAP_RUNS
    assert set(service.requests.values()) == {2}
    answers = {a["order"]: a for a in service.answers.values()}
    for thread_id in threads:
        assert finals[thread_id]["charge"] == answers[thread_id]


def test_delete_thread_removes_its_effect_records(
    backend: tuple[Backend, str],
) -> None:
    """delete_thread leaves no effect record of the thread behind."""
    name, target = backend
    key = EffectKey(thread_id="gone", checkpoint_ns="", task_id="task", effect_key="k")
    with open_saver(name, target) as saver:
        saver.put_effect(key, "hash", {"ok": True})
        assert saver.get_effect(key) is not None
        saver.delete_thread("gone")
        assert saver.get_effect(key) is None
