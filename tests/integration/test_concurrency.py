"""Two writers on one thread at the same moment: one wins, the other is told.

Each writer has its own saver (its own connection or pool), as two processes would.
A rendezvous after each writer's read of the head makes "the same moment" exact: both
runs have read the same head before either writes. Each node leaves a mark naming
its turn, so a turn that was silently lost, or half kept, shows in the state.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from langgraph.graph.state import CompiledStateGraph

from stateward import errors
from stateward.checkpoint._base import StatewardSaver
from tests.integration.helpers import (
    Backend,
    Gate,
    GatedAsyncPostgresSaver,
    build_turn_graph,
    checkpoint_ids,
    contents,
    open_saver,
    thread_config,
    turn_contents,
    turn_input,
    turn_marks,
)

ROUNDS = 20
ASYNC_ROUNDS = 6
WAIT = 30.0  # seconds; only reached when something hangs

Finisher = Callable[[int], int | None]
"""Round number -> the writer that completes its turn before the other writes."""


@dataclass
class Writer:
    """One writer: its own saver and its own compiled graph."""

    name: str
    saver: Any
    graph: CompiledStateGraph[Any]


@dataclass
class Outcome:
    """What one writer's run (and its retry, if any) returned or raised."""

    first: Any = None
    retry: Any = None
    done: threading.Event = field(default_factory=threading.Event)
    retried: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def writers(
    backend: tuple[Backend, str], request: pytest.FixtureRequest
) -> Iterator[tuple[list[Writer], StatewardSaver]]:
    """Two gated writers and an ungated reader, each with its own saver."""
    name, target = backend
    nodes: int = request.param
    with (
        open_saver(name, target, gated=True) as saver_a,
        open_saver(name, target, gated=True) as saver_b,
        open_saver(name, target) as reader,
    ):
        yield (
            [
                Writer("a", saver_a, build_turn_graph(saver_a, nodes)),
                Writer("b", saver_b, build_turn_graph(saver_b, nodes)),
            ],
            reader,
        )


def _seed(graph: CompiledStateGraph[Any], thread_id: str, nodes: int) -> list[str]:
    """Run a first turn in a context of its own; return the marks it left."""
    contextvars.Context().run(
        graph.invoke, turn_input("seed"), thread_config(thread_id), durability="sync"
    )
    return turn_marks("seed", nodes)


def _invoke(writer: Writer, thread_id: str, label: str) -> Any:
    """Run one turn; return its final state, or what it raised."""
    try:
        return writer.graph.invoke(
            turn_input(label), thread_config(thread_id), durability="sync"
        )
    except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
        return exc


def _writer_thread(
    writer: Writer,
    outcome: Outcome,
    thread_id: str,
    round_no: int,
    retry_go: threading.Event | None,
) -> None:
    """A writer's turn; after a failure, its retry (once ``retry_go`` is set)."""
    try:
        outcome.first = _invoke(writer, thread_id, f"r{round_no}-{writer.name}-1")
    finally:
        outcome.done.set()
    if retry_go is None or not isinstance(outcome.first, Exception):
        return
    try:
        if retry_go.wait(WAIT):
            outcome.retry = _invoke(writer, thread_id, f"r{round_no}-{writer.name}-2")
    finally:
        outcome.retried.set()


def _run_round(
    writers: list[Writer],
    thread_id: str,
    round_no: int,
    *,
    finisher: int | None,
    retry_go: threading.Event | None,
) -> tuple[list[Outcome], list[threading.Thread]]:
    """Start both writers' turns on the thread; return once both first runs ended.

    Both read the head, then meet. With a ``finisher``, that writer runs its whole
    turn while the other waits until it has returned; otherwise both write at once.
    With ``retry_go``, a writer that failed runs a new turn once it is set.
    """
    barrier = threading.Barrier(2, timeout=WAIT)
    outcomes = [Outcome(), Outcome()]

    def wait_for_finisher() -> None:
        barrier.wait()
        assert finisher is not None
        assert outcomes[finisher].done.wait(WAIT), "the finisher never finished"

    gates: list[Gate] = [
        barrier.wait if finisher in (None, index) else wait_for_finisher
        for index in range(2)
    ]
    threads = []
    for writer, outcome, gate in zip(writers, outcomes, gates, strict=True):
        writer.saver.gate = gate
        threads.append(
            threading.Thread(
                target=_writer_thread,
                args=(writer, outcome, thread_id, round_no, retry_go),
            )
        )
    for thread in threads:
        thread.start()
    for outcome in outcomes:
        assert outcome.done.wait(WAIT), "a writer's run never finished"
    return outcomes, threads


def _winner(outcomes: list[Outcome]) -> tuple[int, errors.ConflictError]:
    """The index of the one run that succeeded, and the other run's conflict."""
    failed = [i for i, o in enumerate(outcomes) if isinstance(o.first, Exception)]
    assert len(failed) == 1, f"expected exactly one failed run, got {outcomes}"
    conflict = outcomes[failed[0]].first
    assert isinstance(conflict, errors.ConflictError), repr(conflict)
    return 1 - failed[0], conflict


def _check_current_head(
    reader: StatewardSaver, thread_id: str, conflict: errors.ConflictError, head: str
) -> None:
    """The conflict names as the head a checkpoint of the thread written after
    ``head``, the one both runs had read."""
    current = conflict.current_head
    assert current is not None
    assert current > head, (current, head)
    found = reader.get_tuple(thread_config(thread_id, current))
    assert found is not None, current


def _assert_nowhere(reader: StatewardSaver, thread_id: str, lost: list[str]) -> None:
    """No checkpoint of the thread holds anything of the lost turns."""
    seen = 0
    for listed in reader.list(thread_config(thread_id)):
        seen += 1
        values = listed.checkpoint["channel_values"]
        stored = [*values.get("marks", []), *contents(values)]
        stored += [str(w[2]) for w in listed.pending_writes or []]
        leaked = [label for label in lost if any(label in text for text in stored)]
        assert not leaked, (leaked, listed.config)
    assert seen > len(lost)


@dataclass
class Expected:
    """What the thread's state must be: every kept turn's marks and messages."""

    nodes: int
    marks: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def add(self, label: str) -> None:
        self.marks += turn_marks(label, self.nodes)
        self.texts += turn_contents(label, self.nodes)

    def check(self, graph: CompiledStateGraph[Any], thread_id: str) -> None:
        state = graph.get_state(thread_config(thread_id)).values
        assert state["marks"] == self.marks
        assert contents(state) == self.texts


def _rounds(
    writers: list[Writer],
    reader: StatewardSaver,
    *,
    nodes: int,
    finisher_of: Finisher,
    retry: bool,
) -> None:
    """ROUNDS rounds of two simultaneous turns on one thread, checked after each."""
    thread_id = f"thread-{uuid.uuid4()}"
    reader_graph = build_turn_graph(reader, nodes)
    _seed(reader_graph, thread_id, nodes)
    expected = Expected(nodes)
    expected.add("seed")
    lost: list[str] = []
    for round_no in range(ROUNDS):
        head_before = checkpoint_ids(reader, thread_id, limit=1)[0]
        finisher = finisher_of(round_no)
        retry_go = threading.Event() if retry else None
        outcomes, threads = _run_round(
            writers, thread_id, round_no, finisher=finisher, retry_go=retry_go
        )
        winner, conflict = _winner(outcomes)
        loser = 1 - winner
        assert conflict.thread_id == thread_id
        assert conflict.checkpoint_ns == ""
        assert conflict.built_on == head_before
        _check_current_head(reader, thread_id, conflict, head_before)
        if finisher is not None:
            assert winner == finisher
            # The winner was done before the loser wrote: the head was its last one.
            assert [conflict.current_head] == checkpoint_ids(reader, thread_id, limit=1)

        expected.add(f"r{round_no}-{writers[winner].name}-1")
        lost.append(f"r{round_no}-{writers[loser].name}-1")
        assert outcomes[winner].first["marks"] == expected.marks
        expected.check(reader_graph, thread_id)

        if retry_go is not None:
            # The loser runs its turn again, in the thread (context) it failed in.
            retry_go.set()
            assert outcomes[loser].retried.wait(WAIT), "the retry never finished"
            retried = outcomes[loser].retry
            assert not isinstance(retried, Exception), repr(retried)
            expected.add(f"r{round_no}-{writers[loser].name}-2")
            assert retried["marks"] == expected.marks
            expected.check(reader_graph, thread_id)
        for thread in threads:
            thread.join(WAIT)
    _assert_nowhere(reader, thread_id, lost)


@pytest.mark.parametrize("writers", [3], indirect=True)
def test_two_simultaneous_3_node_turns_one_kept_other_conflicts_then_retries(
    writers: tuple[list[Writer], StatewardSaver],
) -> None:
    """Two 3-node turns on one head: one is kept, the other conflicts, then retries."""
    pair, reader = writers
    _rounds(pair, reader, nodes=3, finisher_of=lambda _: None, retry=True)


@pytest.mark.parametrize("writers", [1], indirect=True)
def test_1_node_turn_finished_before_the_other_writes_makes_it_conflict(
    writers: tuple[list[Writer], StatewardSaver],
) -> None:
    """A 1-node turn conflicts, storing nothing, if a whole turn ran after its read."""
    pair, reader = writers
    _rounds(pair, reader, nodes=1, finisher_of=lambda r: r % 2, retry=False)


NEW_THREAD_ROUNDS = 5


@pytest.mark.parametrize("writers", [2], indirect=True)
def test_two_writers_starting_the_same_new_thread_at_once_one_is_kept(
    writers: tuple[list[Writer], StatewardSaver],
) -> None:
    """Two first turns of one new thread at once: one is kept, the other conflicts."""
    pair, reader = writers
    reader_graph = build_turn_graph(reader, 2)
    for round_no in range(NEW_THREAD_ROUNDS):
        thread_id = f"thread-{uuid.uuid4()}"
        outcomes, threads = _run_round(
            pair, thread_id, round_no, finisher=None, retry_go=None
        )
        for thread in threads:
            thread.join(WAIT)
        winner, conflict = _winner(outcomes)
        assert conflict.thread_id == thread_id
        assert conflict.built_on is None
        newest = checkpoint_ids(reader, thread_id)
        assert conflict.current_head in (None, *newest)
        expected = Expected(2)
        expected.add(f"r{round_no}-{pair[winner].name}-1")
        assert outcomes[winner].first["marks"] == expected.marks
        expected.check(reader_graph, thread_id)
        _assert_nowhere(reader, thread_id, [f"r{round_no}-{pair[1 - winner].name}-1"])


async def _async_turn(
    graph: CompiledStateGraph[Any], thread_id: str, label: str, retry_go: asyncio.Event
) -> tuple[Any, Any]:
    """A turn; on conflict, a new turn once ``retry_go`` is set (same task, context).

    Returns (state, None) for a kept turn, (the conflict, the retry's state) else.
    """
    config = thread_config(thread_id)
    try:
        state = await graph.ainvoke(turn_input(f"{label}-1"), config, durability="sync")
    except errors.ConflictError as exc:
        await asyncio.wait_for(retry_go.wait(), WAIT)
        retry = await graph.ainvoke(turn_input(f"{label}-2"), config, durability="sync")
        return exc, retry
    return state, None


def _fresh_task(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """A task in a context of its own, as a run in another process would have."""
    return asyncio.create_task(coro, context=contextvars.Context())


async def test_async_postgres_two_simultaneous_turns_one_kept_other_retries(
    pg_dsn: str,
) -> None:
    """AsyncPostgresSaver: of two runs on one head, one is kept; the other conflicts."""
    nodes = 3
    thread_id = f"thread-{uuid.uuid4()}"
    config = thread_config(thread_id)
    async with (
        GatedAsyncPostgresSaver.from_conn_string(pg_dsn, pool_size=2) as saver_a,
        GatedAsyncPostgresSaver.from_conn_string(pg_dsn, pool_size=2) as saver_b,
        GatedAsyncPostgresSaver.from_conn_string(pg_dsn, pool_size=2) as reader,
    ):
        await reader.setup()
        savers = [saver_a, saver_b]
        graphs = [build_turn_graph(s, nodes) for s in savers]
        reader_graph = build_turn_graph(reader, nodes)
        seed = reader_graph.ainvoke(turn_input("seed"), config, durability="sync")
        await _fresh_task(seed)
        marks = turn_marks("seed", nodes)
        for round_no in range(ASYNC_ROUNDS):
            head = await _fresh_task(reader.aget_tuple(config))
            head_before = head.config["configurable"]["checkpoint_id"]
            barrier = asyncio.Barrier(2)
            retry_go = asyncio.Event()

            async def rendezvous(b: asyncio.Barrier = barrier) -> None:
                await asyncio.wait_for(b.wait(), WAIT)

            for saver in savers:
                saver.agate = rendezvous
            tasks = [
                _fresh_task(_async_turn(g, thread_id, f"r{round_no}-{i}", retry_go))
                for i, g in enumerate(graphs)
            ]
            done, _ = await asyncio.wait(
                tasks, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED
            )
            # The loser waits for retry_go, so only the winner can be done.
            assert len(done) == 1, "no run finished"
            winner = tasks.index(done.pop())
            won_state, won_retry = tasks[winner].result()
            assert won_retry is None
            marks += turn_marks(f"r{round_no}-{winner}-1", nodes)
            assert won_state["marks"] == marks
            state = await _fresh_task(reader_graph.aget_state(config))
            assert state.values["marks"] == marks

            retry_go.set()
            conflict, retried = await asyncio.wait_for(tasks[1 - winner], WAIT)
            assert isinstance(conflict, errors.ConflictError), repr(conflict)
            assert conflict.thread_id == thread_id
            assert conflict.built_on == head_before
            assert conflict.current_head is not None
            assert conflict.current_head > head_before
            marks += turn_marks(f"r{round_no}-{1 - winner}-2", nodes)
            assert retried["marks"] == marks
            state = await _fresh_task(reader_graph.aget_state(config))
            assert state.values["marks"] == marks


def _end_of_turn(
    graph: CompiledStateGraph[Any], thread_id: str, marks: list[str]
) -> Any:
    """The snapshot at which the thread's marks were exactly ``marks``, run finished."""
    for snapshot in graph.get_state_history(thread_config(thread_id)):
        if snapshot.values.get("marks") == marks and not snapshot.next:
            return snapshot
    raise AssertionError(f"no finished checkpoint with marks {marks}")


def test_time_travel_fork_and_update_state_on_older_checkpoints_are_not_conflicts(
    backend: tuple[Backend, str],
) -> None:
    """invoke from and update_state on an older checkpoint build on it: no conflict."""
    name, target = backend
    nodes = 2
    thread_id = f"thread-{uuid.uuid4()}"
    config = thread_config(thread_id)
    with open_saver(name, target) as saver, open_saver(name, target) as other:
        graph = build_turn_graph(saver, nodes)
        graph.invoke(turn_input("t1"), config, durability="sync")
        graph.invoke(turn_input("t2"), config, durability="sync")
        t1 = turn_marks("t1", nodes)
        t2 = turn_marks("t2", nodes)
        after_t1 = _end_of_turn(graph, thread_id, t1)

        # Fork: a new turn on top of the end of turn 1, by the writer that made it.
        forked = graph.invoke(turn_input("fork"), after_t1.config, durability="sync")
        assert forked["marks"] == t1 + turn_marks("fork", nodes)
        texts = turn_contents("t1", nodes) + turn_contents("fork", nodes)
        assert contents(forked) == texts
        assert graph.get_state(config).values["marks"] == forked["marks"]

        # update_state on the older checkpoint, by the same writer.
        edit = graph.update_state(after_t1.config, {"marks": ["edit"]}, as_node="n2")
        assert graph.get_state(edit).values["marks"] == [*t1, "edit"]
        assert graph.get_state(config).values["marks"] == [*t1, "edit"]

        # A turn on the latest state builds on the edit.
        latest = graph.invoke(turn_input("t3"), config, durability="sync")
        assert latest["marks"] == [*t1, "edit", *turn_marks("t3", nodes)]

        # A writer with a saver of its own (another process) forks from turn 2's end,
        other_graph = build_turn_graph(other, nodes)
        after_t2 = _end_of_turn(other_graph, thread_id, t1 + t2)
        forked2 = contextvars.Context().run(
            other_graph.invoke, turn_input("fork2"), after_t2.config, durability="sync"
        )
        assert forked2["marks"] == [*t1, *t2, *turn_marks("fork2", nodes)]
        assert graph.get_state(config).values["marks"] == forked2["marks"]
        # ... and edits turn 1's end, in a context that never read the head.
        edit2 = contextvars.Context().run(
            other_graph.update_state, after_t1.config, {"marks": ["again"]}, "n2"
        )
        assert other_graph.get_state(edit2).values["marks"] == [*t1, "again"]
        # The first writer, reading the thread again, goes on from the latest edit.
        final = graph.invoke(turn_input("t4"), config, durability="sync")
        assert final["marks"] == [*t1, "again", *turn_marks("t4", nodes)]
