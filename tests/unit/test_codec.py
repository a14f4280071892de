"""The safe serializer: LangGraph's format, big integers, and no unsafe loading."""

from __future__ import annotations

import dataclasses
import datetime
import uuid

import ormsgpack
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.types import Send

from stateward import errors
from stateward.core.codec import SafeSerializer


@dataclasses.dataclass
class Custom:
    """A type no allowlist knows."""

    value: int


@pytest.mark.parametrize(
    "value",
    [
        2**100,
        -(2**80),
        {"nested": [2**64, 1]},
        "nul \x00 inside",
        [HumanMessage("hi", id="1"), AIMessage("hello", id="2")],
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        uuid.UUID(int=7),
        Send("node", {"x": 1}),
        {1, 2, 3},
        b"\x00bytes",
        None,
    ],
)
def test_round_trip(value: object) -> None:
    """Values LangGraph stores come back equal."""
    serde = SafeSerializer()
    assert serde.loads_typed(serde.dumps_typed(value)) == value


def test_unknown_type_is_refused_with_its_name() -> None:
    """Stored data naming an unlisted type is refused, not imported."""
    serde = SafeSerializer()
    stored = serde.dumps_typed({"x": [Custom(1)]})
    with pytest.raises(errors.SerializationError, match=r"test_codec\.Custom"):
        serde.loads_typed(stored)


def test_allowed_type_loads() -> None:
    """A type the caller allows is reconstructed."""
    serde = SafeSerializer([Custom])
    assert serde.loads_typed(serde.dumps_typed(Custom(3))) == Custom(3)


def test_pickle_is_never_loaded() -> None:
    """A value tagged as pickle is refused whatever its bytes."""
    with pytest.raises(errors.SerializationError, match="pickle"):
        SafeSerializer().loads_typed(("pickle", b"\x80\x04K\x01."))


def test_corrupt_bytes_are_a_clear_error() -> None:
    """Garbage in a msgpack column is a SerializationError, not a crash."""
    with pytest.raises(errors.SerializationError, match="corrupt"):
        SafeSerializer().loads_typed(("msgpack", b"\xc1"))


def test_unserialisable_value_is_a_clear_error() -> None:
    """A value msgpack cannot encode is a SerializationError naming its type."""
    with pytest.raises(errors.SerializationError, match="object"):
        SafeSerializer().dumps_typed(object())


def test_unknown_extension_code_is_refused() -> None:
    """An extension code we do not know is refused."""
    payload = ormsgpack.packb(ormsgpack.Ext(99, b""))
    with pytest.raises(errors.SerializationError, match="extension type 99"):
        SafeSerializer().loads_typed(("msgpack", payload))
