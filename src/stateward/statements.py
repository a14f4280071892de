"""The protocol between operations and drivers: what an operation may ask for.

An operation is a generator that yields :class:`Statement` (or a tuple of them, sent
together, or a :class:`Script`) and receives each result: ``None``, one row, or a list
of rows. Drivers for PostgreSQL and SQLite execute them; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T")
Fetch = Literal["none", "one", "all"]
Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Json:
    """A parameter stored as a JSON document (jsonb on PostgreSQL, text on SQLite)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Statement:
    """One named query (see ``stateward/sql``) with its parameters."""

    query: str
    params: Mapping[str, Any] = field(default_factory=dict)
    many: Sequence[Mapping[str, Any]] | None = None
    fetch: Fetch = "none"


@dataclass(frozen=True, slots=True)
class Script:
    """Several statements of trusted SQL text (a migration), run as they are."""

    sql: str


class DuplicateKeyError(Exception):
    """Thrown into an operation when a statement hit a unique constraint."""


Request = Statement | Script | tuple[Statement, ...]
Op = Generator[Request, Any, T]
