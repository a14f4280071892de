"""Compression of large stored values with zstd, tagged so every row stays readable.

A value whose serialised form reaches the threshold is compressed and its type tag
gets a ``+zstd`` suffix (``msgpack`` becomes ``msgpack+zstd``). Rows written before
compression, or below the threshold, keep their plain tag and load unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import zstandard
from langgraph.checkpoint.serde.base import SerializerProtocol

from stateward import errors

SUFFIX: Final = "+zstd"


@dataclass(frozen=True, kw_only=True, slots=True)
class Compression:
    """When and how hard to compress.

    Attributes:
        threshold: values of at least this many serialised bytes are compressed;
            below it, compression costs more time than it saves space.
        level: zstd level, 1 (fastest) to 22 (smallest); 3 is zstd's own default.
    """

    threshold: int = 2048
    level: int = 3

    def __post_init__(self) -> None:
        if self.threshold < 1 or not 1 <= self.level <= 22:  # noqa: PLR2004 - zstd's range
            raise errors.InvalidInputError(
                "compression needs threshold >= 1 and a level from 1 to 22"
            )


class CompressingSerializer(SerializerProtocol):
    """Wraps a serializer; compresses what it produces above the threshold.

    With ``compression`` None nothing new is compressed, but compressed rows written
    earlier still load.
    """

    def __init__(
        self, inner: SerializerProtocol, compression: Compression | None
    ) -> None:
        self.inner = inner
        self.compression = compression

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        type_, data = self.inner.dumps_typed(obj)
        settings = self.compression
        if settings is None or len(data) < settings.threshold:
            return type_, data
        packed = zstandard.compress(data, settings.level)
        if len(packed) >= len(data):  # incompressible: keep it as it is
            return type_, data
        return type_ + SUFFIX, packed

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        type_, payload = data
        if not type_.endswith(SUFFIX):
            return self.inner.loads_typed(data)
        try:
            plain = zstandard.decompress(payload)
        except zstandard.ZstdError as exc:
            raise errors.SerializationError(f"corrupt compressed value: {exc}") from exc
        return self.inner.loads_typed((type_.removesuffix(SUFFIX), plain))

    def with_allowed(
        self, extra: Iterable[tuple[str, ...] | type]
    ) -> CompressingSerializer:
        """The same, over an inner serializer that also allows ``extra`` types."""
        widen = getattr(self.inner, "with_allowed", None)
        inner = widen(extra) if widen is not None else self.inner
        return CompressingSerializer(inner, self.compression)
