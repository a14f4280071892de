"""Two writers on one thread at the same moment: one wins, the other is told, none is lost.

Each writer has its own saver (its own connection or pool), as two processes would.
A rendezvous after each writer's read of the head makes "the same moment" exact: both
runs have read the same head before either writes.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph.state import CompiledStateGraph

from stateward import errors
from stateward.checkpoint._base import StatewardSaver
from tests.integration.helpers import (
    BACKENDS,
    Backend,
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
ASYNC_ROUNDS = 4
WAIT = 30.0  # seconds; only reached when something hangs


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Backend, str]:
    """A backend and the database it runs on (a fresh file or database per test)."""
    name: Backend = request.param
    if name == "sqlite":
        return name, str(tmp_path / "state.db")
    return name, str(request.getfixturevalue("pg_dsn"))


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
def writers(backend: tuple[Backend, str], request: pytest.FixtureRequest) -> Iterator[
    tuple[list[Writer], StatewardSaver]
]:
    """Two gated writers and an ungated reader, each with its own saver."""
    name, target = backend
    nodes: int = getattr(request, "param", 3)
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


def _run_round(
    writers: list[Writer],
    thread_id: str,
    round_no: int,
    *,
    finisher: int | None,
    retry_go: threading.Event | None,
) -> list[Outcome]:
    """Both writers read the head, then write; return what each got.

    ``finisher``: if set, that writer runs its whole turn while the other waits
    after its read; otherwise both write at once. ``retry_go``: if set, a writer
    that got a conflict runs its turn again (in the same thread) once it is set.
    """
    barrier = threading.Barrier(2, timeout=WAIT)
    outcomes = [Outcome(), Outcome()]

    def gate_for(index: int) -> Any:
        if finisher is None or index == finisher:
            return barrier.wait

        def wait_for_finisher() -> None:
            barrier.wait()
            assert outcomes[finisher].done.wait(WAIT), "the finisher never finished"

        return wait_for_finisher

    def body(index: int) -> None:
        writer = writers[index]
        config = thread_config(thread_id)
        try:
            outcomes[index].first = writer.graph.invoke(
                turn_input(f"r{round_no}-{writer.name}-1"), config, durability="sync"
            )
        except Exception as exc:  # noqa: BLE001 - the test inspects what was raised
            outcomes[index].first = exc
        finally:
            outcomes[index].done.set()
        if retry_go is not None and isinstance(outcomes[index].first, Exception):
            assert retry_go.wait(WAIT), "the retry was never allowed"
            try:
                outcomes[index].retry = writer.graph.invoke(
                    turn_input(f"r{round_no}-{writer.name}-2"), config, durability="sync"
                )
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                outcomes[index].retry = exc
            finally:
                outcomes[index].retried.set()

    for index, writer in enumerate(writers):
        writer.saver.gate = gate_for(index)
    threads = [threading.Thread(target=body, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for outcome in outcomes:
        assert outcome.done.wait(WAIT), "a writer's run never finished"
    return outcomes


def _winner(outcomes: list[Outcome]) -> tuple[int, errors.ConflictError]:
    """The index of the one run that succeeded, and the other run's conflict."""
    failed = [i for i, o in enumerate(outcomes) if isinstance(o.first, Exception)]
    assert len(failed) == 1, f"expected exactly one failed run, got {outcomes}"
    loser = failed[0]
    conflict = outcomes[loser].first
    assert isinstance(conflict, errors.ConflictError), repr(conflict)
    return 1 - loser, conflict


def _check_conflict(
    conflict: errors.ConflictError,
    *,
    thread_id: str,
    head_before: str,
    written_by_winner: set[str],
) -> None:
    assert conflict.thread_id == thread_id
    assert conflict.checkpoint_ns == ""
    assert conflict.built_on == head_before
    assert conflict.current_head in written_by_winner, (
        conflict.current_head,
        written_by_winner,
    )


def _newer_than(reader: StatewardSaver, thread_id: str, head: str) -> list[str]:
    """Ids of the thread's checkpoints newer than ``head`` (a round writes a few)."""
    recent = reader.list(thread_config(thread_id), limit=8)
    newer = [str(t.config["configurable"]["checkpoint_id"]) for t in recent]
    return [c for c in newer if c > head]


def _assert_nowhere(reader: StatewardSaver, thread_id: str, lost: list[str]) -> None:
    """No checkpoint of the thread holds anything of the lost turns, as a value or
    as a pending write."""
    seen = 0
    for listed in reader.list(thread_config(thread_id)):
        seen += 1
        values = listed.checkpoint["channel_values"]
        stored = [*values.get("marks", []), *contents(values)]
        stored += [str(w[2]) for w in listed.pending_writes or []]
        leaked = [label for label in lost if any(label in text for text in stored)]
        assert not leaked, (leaked, listed.config)
    assert seen > len(lost)


def _rounds(
    writers: list[Writer],
    reader: StatewardSaver,
    *,
    nodes: int,
    finisher_of: Any,
    retry: bool,
) -> None:
    thread_id = f"thread-{uuid.uuid4()}"
    reader_graph = build_turn_graph(reader, nodes)
    config = thread_config(thread_id)
    marks = _seed(reader_graph, thread_id, nodes)
    texts = turn_contents("seed", nodes)
    lost: list[str] = []
    for round_no in range(ROUNDS):
        head_before = checkpoint_ids(reader, thread_id, limit=1)[0]
        retry_go = threading.Event() if retry else None
        finisher = finisher_of(round_no)
        outcomes = _run_round(
            writers, thread_id, round_no, finisher=finisher, retry_go=retry_go
        )
        winner, conflict = _winner(outcomes)
        if finisher is not None:
            assert winner == finisher
        written = _newer_than(reader, thread_id, head_before)
        _check_conflict(
            conflict,
            thread_id=thread_id,
            head_before=head_before,
            written_by_winner=set(written),
        )
        if finisher is not None:
            # The winner was done before the loser wrote: the head was its last one.
            assert conflict.current_head == written[0]

        won = f"r{round_no}-{writers[winner].name}-1"
        lost.append(f"r{round_no}-{writers[1 - winner].name}-1")
        marks += turn_marks(won, nodes)
        texts += turn_contents(won, nodes)
        assert outcomes[winner].first["marks"] == marks
        state = reader_graph.get_state(config).values
        assert state["marks"] == marks
        assert contents(state) == texts

        if retry_go is not None:
            retry_go.set()
            loser = outcomes[1 - winner]
            # The retry runs in the loser's own thread, in the context of its failure.
            assert loser.retried.wait(WAIT), "the retry never finished"
            assert not isinstance(loser.retry, Exception), repr(loser.retry)
            retried = f"r{round_no}-{writers[1 - winner].name}-2"
            marks += turn_marks(retried, nodes)
            texts += turn_contents(retried, nodes)
            assert loser.retry["marks"] == marks
            state = reader_graph.get_state(config).values
            assert state["marks"] == marks
            assert contents(state) == texts
    _assert_nowhere(reader, thread_id, lost)


@pytest.mark.parametrize("writers", [3], indirect=True)
def test_simultaneous_turns_three_nodes_one_wins_loser_conflicts_then_retries(
    writers: tuple[list[Writer], StatewardSaver],
) -> None:
    """Two 3-node turns built on the same head: exactly one is kept, the other raises
    ConflictError and succeeds when run again."""
    pair, reader = writers
    _rounds(pair, reader, nodes=3, finisher_of=lambda _: None, retry=True)


@pytest.mark.parametrize("writers", [1], indirect=True)
def test_one_node_turn_finishing_first_makes_the_other_conflict(
    writers: tuple[list[Writer], StatewardSaver],
) -> None:
    """A 1-node turn that read the head, then waited while another turn completed
    entirely, raises ConflictError at its first write and leaves no trace."""
    pair, reader = writers
    _rounds(pair, reader, nodes=1, finisher_of=lambda r: r % 2, retry=False)
