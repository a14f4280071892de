"""zstd compression of large values: tagged, reversible, and optional."""

from __future__ import annotations

import os

import pytest

from stateward import errors
from stateward.core.codec import SafeSerializer
from stateward.core.compression import CompressingSerializer, Compression

BIG = {"text": "the same words again " * 500}


def _serde(threshold: int = 1024) -> CompressingSerializer:
    return CompressingSerializer(SafeSerializer(), Compression(threshold=threshold))


def test_large_values_are_compressed_and_tagged() -> None:
    """Above the threshold the tag says zstd and the bytes shrink."""
    plain_type, plain = SafeSerializer().dumps_typed(BIG)
    type_, data = _serde().dumps_typed(BIG)
    assert type_ == plain_type + "+zstd"
    assert len(data) < len(plain) / 5
    assert _serde().loads_typed((type_, data)) == BIG


def test_small_values_stay_plain() -> None:
    """Below the threshold nothing changes."""
    assert _serde().dumps_typed({"a": 1}) == SafeSerializer().dumps_typed({"a": 1})


def test_uncompressed_rows_stay_readable() -> None:
    """A value stored before compression was on still loads."""
    stored = SafeSerializer().dumps_typed(BIG)
    assert _serde().loads_typed(stored) == BIG


def test_incompressible_values_are_kept_as_they_are() -> None:
    """Random bytes do not grow by being 'compressed'."""
    blob = os.urandom(8192)
    assert _serde().dumps_typed(blob) == ("bytes", blob)


def test_corrupt_compressed_value_is_a_clear_error() -> None:
    """Garbage under a zstd tag is a SerializationError."""
    with pytest.raises(errors.SerializationError, match="compressed"):
        _serde().loads_typed(("msgpack+zstd", b"not zstd"))


def test_bad_settings_are_refused() -> None:
    """Level and threshold are checked."""
    with pytest.raises(errors.InvalidInputError):
        Compression(level=40)
    with pytest.raises(errors.InvalidInputError):
        Compression(threshold=0)
