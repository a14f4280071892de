"""Large values are stored compressed and read back equal, on both backends."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph

from stateward.core.compression import Compression
from tests.integration.helpers import Backend, open_saver, raw_sql


class Notes(TypedDict):
    """A list that grows by one large, compressible note per turn."""

    notes: Annotated[list[str], operator.add]


def _graph(saver: Any) -> Any:
    builder = StateGraph(Notes)
    builder.add_node("write", lambda state: {"notes": ["lorem ipsum " * 400]})
    builder.add_edge(START, "write")
    builder.add_edge("write", END)
    return builder.compile(checkpointer=saver)


def _stored_types(name: Backend, target: str) -> set[str]:
    with raw_sql(name, target) as sql:
        rows = sql("SELECT type FROM stateward_blobs WHERE channel = %s", ("notes",))
    return {row[0] for row in rows}


def test_large_state_is_stored_compressed(backend: tuple[Backend, str]) -> None:
    """The note list is stored as msgpack+zstd and reads back exactly."""
    name, target = backend
    config: Any = {"configurable": {"thread_id": "notes"}}
    with open_saver(name, target) as saver:
        graph = _graph(saver)
        graph.invoke({"notes": []}, config)
        final = graph.invoke({"notes": []}, config)
        assert graph.get_state(config).values == final
    assert len(final["notes"]) == 2
    assert "msgpack+zstd" in _stored_types(name, target)


def test_compression_can_be_switched_off_and_old_rows_still_read(
    backend: tuple[Backend, str],
) -> None:
    """With compression off new rows are plain, and compressed rows still load."""
    name, target = backend
    config: Any = {"configurable": {"thread_id": "mixed"}}
    with open_saver(name, target, compression=Compression(threshold=64)) as saver:
        _graph(saver).invoke({"notes": []}, config)
    with open_saver(name, target, compression=None) as saver:
        graph = _graph(saver)
        final = graph.invoke({"notes": []}, config)
        assert graph.get_state(config).values == final
    assert len(final["notes"]) == 2
    assert {"msgpack", "msgpack+zstd"} <= _stored_types(name, target)
