"""Values that trip up storage layers: NUL characters, big integers, large strings,
unknown types, pickles, and replayed writes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langgraph.checkpoint.base import (
    ERROR,
    ChannelVersions,
    Checkpoint,
    empty_checkpoint,
)
from langgraph.graph import END, START, StateGraph

from stateward import errors
from stateward.checkpoint._base import StatewardSaver
from tests.integration.helpers import Backend, open_saver, raw_sql, thread_config

BIG = 2**100
NEGATIVE_BIG = -(2**80)
TEN_MB = 10 * 1024 * 1024


def _large_text() -> str:
    """10 MiB of text, with NULs and non-ASCII characters all through it."""
    chunk = "stateward\x00é✓"
    text = (chunk * (TEN_MB // len(chunk) + 1))[:TEN_MB]
    assert len(text) == TEN_MB
    return text


@dataclass
class Point:
    """A type the savers do not know unless told."""

    x: int
    label: str


class AwkwardState(TypedDict, total=False):
    """State whose values are hard to store."""

    text: str
    big: int
    negative: int
    large: str
    nested: dict[str, Any]
    total: int
    seen: str


class AnyState(TypedDict, total=False):
    """State that can hold anything (so nothing adds the type to an allowlist)."""

    obj: Any


def _awkward_values() -> dict[str, Any]:
    return {
        "text": "a\x00b\x00",
        "big": BIG,
        "negative": NEGATIVE_BIG,
        "large": _large_text(),
        "nested": {"k\x00": ["\x00", BIG, NEGATIVE_BIG, {"deep": -BIG}]},
    }


def _checkpoint(
    saver: StatewardSaver, values: dict[str, Any], **extra_versions: str
) -> tuple[Checkpoint, ChannelVersions]:
    """A checkpoint holding ``values`` (plus versions of channels with no value)."""
    checkpoint = empty_checkpoint()
    versions: ChannelVersions = {
        channel: saver.get_next_version(None, None) for channel in values
    }
    checkpoint["channel_values"] = dict(values)
    checkpoint["channel_versions"] = {**versions, **extra_versions}
    return checkpoint, versions


def _put(
    saver: StatewardSaver,
    thread_id: str,
    values: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    **extra_versions: str,
) -> str:
    """Store a checkpoint with ``values``; return its id."""
    checkpoint, versions = _checkpoint(saver, values, **extra_versions)
    meta: Any = {"source": "input", "step": -1, "parents": {}, **(metadata or {})}
    saver.put(thread_config(thread_id), checkpoint, meta, versions)
    return checkpoint["id"]


def test_awkward_values_round_trip_through_a_graph(
    backend: tuple[Backend, str],
) -> None:
    """NULs, ints beyond 64 bits and a 10 MB string round-trip exactly via a graph."""
    name, target = backend
    config = thread_config(f"thread-{uuid.uuid4()}")

    def node(state: AwkwardState) -> dict[str, Any]:
        return {
            "total": state["big"] + state["negative"],
            "seen": state["text"] + "\x00" + state["large"][-12:],
        }

    builder = StateGraph(AwkwardState)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    values = _awkward_values()
    expected = {
        **values,
        "total": BIG + NEGATIVE_BIG,
        "seen": values["text"] + "\x00" + values["large"][-12:],
    }
    with open_saver(name, target) as saver:
        result = builder.compile(checkpointer=saver).invoke(
            values, config, durability="sync"
        )
        assert result == expected
    with open_saver(name, target) as reader:
        state = builder.compile(checkpointer=reader).get_state(config).values
    assert state.keys() == expected.keys()
    for key, value in expected.items():
        assert state[key] == value, key
        assert type(state[key]) is type(value), key


def test_awkward_values_round_trip_through_put_and_get_tuple(
    backend: tuple[Backend, str],
) -> None:
    """NULs, ints beyond 64 bits and a 10 MB string round-trip via put and get_tuple."""
    name, target = backend
    thread_id = f"thread-{uuid.uuid4()}"
    values = _awkward_values()
    with open_saver(name, target) as saver:
        checkpoint_id = _put(saver, thread_id, values)
    with open_saver(name, target) as reader:
        loaded = reader.get_tuple(thread_config(thread_id))
    assert loaded is not None
    assert loaded.checkpoint["id"] == checkpoint_id
    assert loaded.checkpoint["channel_values"] == values
    assert loaded.checkpoint["channel_values"]["large"] == values["large"]


def test_metadata_with_nul_does_not_break_writes(backend: tuple[Backend, str]) -> None:
    """Metadata with NULs (from put and from a graph's config) is written and found."""
    name, target = backend
    thread_id = f"thread-{uuid.uuid4()}"
    config = thread_config(thread_id)
    with open_saver(name, target) as saver:
        _put(saver, thread_id, {"v": 1}, {"note": "a\x00b", "k\x00ey": ["\x00x"]})
        listed = list(saver.list(config))
        assert len(listed) == 1
        metadata: dict[str, Any] = dict(listed[0].metadata)
        # NUL cannot live in a JSON column; like LangGraph's savers, it may be dropped.
        assert metadata["note"].replace("\x00", "") == "ab"
        (key,) = [k for k in metadata if k.replace("\x00", "") == "key"]
        assert [v.replace("\x00", "") for v in metadata[key]] == ["x"]
        assert len(list(saver.list(config, filter={"note": "a\x00b"}))) == 1

        builder = StateGraph(AnyState)
        builder.add_node("node", lambda state: {"obj": "done\x00"})
        builder.add_edge(START, "node")
        builder.add_edge("node", END)
        graph = builder.compile(checkpointer=saver)
        graph_config: Any = {**config, "metadata": {"origin": "x\x00y"}}
        result = graph.invoke({"obj": "\x00"}, graph_config, durability="sync")
        assert result == {"obj": "done\x00"}
        newest = saver.get_tuple(config)
        assert newest is not None
        newest_metadata: dict[str, Any] = dict(newest.metadata)
        assert newest_metadata["origin"].replace("\x00", "") == "xy"
        assert newest.checkpoint["channel_values"]["obj"] == "done\x00"


def test_unknown_dataclass_is_refused_on_load_unless_allowed(
    backend: tuple[Backend, str],
) -> None:
    """An unknown dataclass in state fails to load, naming it, unless allowed_types."""
    name, target = backend
    config = thread_config(f"thread-{uuid.uuid4()}")
    builder = StateGraph(AnyState)
    builder.add_node("node", lambda state: {"obj": Point(state["obj"].x + 1, "b")})
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    with open_saver(name, target) as saver:
        result = builder.compile(checkpointer=saver).invoke(
            {"obj": Point(1, "a")}, config, durability="sync"
        )
        assert result == {"obj": Point(2, "b")}
        with pytest.raises(errors.SerializationError, match=r"test_values\.Point"):
            builder.compile(checkpointer=saver).get_state(config)
        with pytest.raises(errors.SerializationError, match=r"test_values\.Point"):
            saver.get_tuple(config)
    with open_saver(name, target, allowed_types=[Point]) as allowing:
        state = builder.compile(checkpointer=allowing).get_state(config)
        assert state.values == {"obj": Point(2, "b")}


def test_big_integers_inside_containers_the_serializer_tags_round_trip(
    backend: tuple[Backend, str],
) -> None:
    """Ints beyond 64 bits inside a set or an allowed dataclass round-trip exactly."""
    name, target = backend
    thread_id = f"thread-{uuid.uuid4()}"
    values = {"numbers": {BIG, NEGATIVE_BIG}, "point": Point(BIG, "big")}
    with open_saver(name, target, allowed_types=[Point]) as saver:
        _put(saver, thread_id, values)
        loaded = saver.get_tuple(thread_config(thread_id))
    assert loaded is not None
    assert loaded.checkpoint["channel_values"] == values


def _pickle_that_writes(marker: Path) -> bytes:
    """A protocol-0 pickle that, if ever unpickled, creates ``marker``."""
    assert "'" not in str(marker)
    return f"c__builtin__\nopen\n(S'{marker}'\nS'w'\ntR.".encode()


@pytest.mark.parametrize("where", ["blob", "checkpoint", "write"])
def test_pickled_rows_are_refused_and_never_unpickled(
    backend: tuple[Backend, str], tmp_path: Path, where: str
) -> None:
    """A row of type 'pickle' makes reads raise SerializationError; never unpickled."""
    name, target = backend
    thread_id = f"thread-{uuid.uuid4()}"
    marker = tmp_path / "unpickled"
    payload = _pickle_that_writes(marker)
    with open_saver(name, target) as saver:
        checkpoint_id = _put(saver, thread_id, {"safe": 1}, evil="1.0")
    with raw_sql(name, target) as sql:
        if where == "blob":
            sql(
                "INSERT INTO stateward_blobs "
                "(thread_id, checkpoint_ns, channel, version, type, blob) "
                "VALUES (%s, '', 'evil', '1.0', 'pickle', %s)",
                (thread_id, payload),
            )
        elif where == "checkpoint":
            sql(
                "UPDATE stateward_checkpoints SET checkpoint_type = 'pickle', "
                "checkpoint = %s WHERE thread_id = %s",
                (payload, thread_id),
            )
        else:
            sql(
                "INSERT INTO stateward_writes (thread_id, checkpoint_ns, "
                "checkpoint_id, task_id, idx, channel, type, blob, task_path) "
                "VALUES (%s, '', %s, 'task', 0, 'evil', 'pickle', %s, '')",
                (thread_id, checkpoint_id, payload),
            )
    with open_saver(name, target) as reader:
        with pytest.raises(errors.SerializationError, match="pickle"):
            reader.get_tuple(thread_config(thread_id))
        with pytest.raises(errors.SerializationError, match="pickle"):
            list(reader.list(thread_config(thread_id)))
    assert not marker.exists()


def test_put_writes_twice_stores_each_write_once(backend: tuple[Backend, str]) -> None:
    """put_writes replayed for a task and index stores each write once."""
    name, target = backend
    thread_id = f"thread-{uuid.uuid4()}"
    with open_saver(name, target) as saver:
        checkpoint_id = _put(saver, thread_id, {"v": 1})
        config = thread_config(thread_id, checkpoint_id)
        writes = [("a", 1), ("b", "x\x00"), ("c", BIG)]
        saver.put_writes(config, writes, "task-1", "path-1")
        saver.put_writes(config, writes, "task-1", "path-1")
        saver.put_writes(config, [("a", 2), ("b", "changed")], "task-1", "path-1")
        saver.put_writes(config, [("a", 3)], "task-2", "path-2")
        saver.put_writes(config, [(ERROR, "first failure")], "task-3", "path-3")
        saver.put_writes(config, [(ERROR, "second failure")], "task-3", "path-3")
    with open_saver(name, target) as reader:
        loaded = reader.get_tuple(config)
    assert loaded is not None
    assert sorted(loaded.pending_writes or [], key=repr) == sorted(
        [
            ("task-1", "a", 1),
            ("task-1", "b", "x\x00"),
            ("task-1", "c", BIG),
            ("task-2", "a", 3),
            ("task-3", ERROR, "second failure"),
        ],
        key=repr,
    )
    with raw_sql(name, target) as sql:
        rows = sql(
            "SELECT task_id, idx FROM stateward_writes WHERE thread_id = %s",
            (thread_id,),
        )
    assert sorted((str(t), int(i)) for t, i in rows) == [
        ("task-1", 0),
        ("task-1", 1),
        ("task-1", 2),
        ("task-2", 0),
        ("task-3", -1),
    ]
