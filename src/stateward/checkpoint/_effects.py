"""The effect store: recorded results of side effects (:mod:`stateward.effects`).

Operations are generators, like :mod:`stateward.checkpoint._ops`; the mixin builds
a :class:`~stateward.checkpoint._base.Call` per method and runs it with the saver's
own ``_execute``/``_aexecute``, so effects share its connections, retries and
errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from langgraph.checkpoint.serde.base import SerializerProtocol

# The module, not its names: _base imports this module while it is being loaded.
from stateward.checkpoint import _base
from stateward.statements import Op, Row, Statement

if TYPE_CHECKING:
    from stateward.checkpoint._base import Call

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class EffectKey:
    """Where an effect belongs: one key of one task of one thread's namespace."""

    thread_id: str
    checkpoint_ns: str
    task_id: str
    effect_key: str

    def params(self) -> dict[str, str]:
        return {
            "thread_id": self.thread_id,
            "checkpoint_ns": self.checkpoint_ns,
            "task_id": self.task_id,
            "effect_key": self.effect_key,
        }


@dataclass(frozen=True, slots=True)
class EffectRecord:
    """A recorded effect: the hash of its request and its result.

    ``inserted``: this call stored it (False: it was already there).
    """

    request_hash: str
    result: Any
    inserted: bool = False


def get_effect(serde: SerializerProtocol, key: EffectKey) -> Op[EffectRecord | None]:
    """The recorded effect of ``key``, if there is one."""
    row = yield Statement("get_effect", key.params(), fetch="one")
    return _record(serde, row)


def put_effect(
    serde: SerializerProtocol, row: Mapping[str, Any], result: Any
) -> Op[EffectRecord | None]:
    """Record an effect (``row``: see :func:`effect_row`) unless one is there.

    Returns the stored record: this one if inserted, else the one found (None only
    if that one was deleted meanwhile). A separate read finds a record committed
    concurrently: the insert's own snapshot may predate it.
    """
    inserted = yield Statement("insert_effect", row, fetch="all")
    if inserted:
        return EffectRecord(str(row["request_hash"]), result, inserted=True)
    found = yield Statement("get_effect", _key_params(row), fetch="one")
    return _record(serde, found)


def delete_thread_effects(thread_ids: list[str]) -> Op[None]:
    """Remove the effect records of the threads (for ``delete_thread``)."""
    yield Statement("delete_thread_effects", {"thread_ids": list(thread_ids)})


def effect_row(
    serde: SerializerProtocol, key: EffectKey, request_hash: str, result: Any
) -> dict[str, Any]:
    """An effect serialised for storage (computed once, reused by retries)."""
    result_type, blob = serde.dumps_typed(result)
    return {
        **key.params(),
        "request_hash": request_hash,
        "result_type": result_type,
        "result": blob,
    }


def _key_params(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("thread_id", "checkpoint_ns", "task_id", "effect_key")}


def _same(record: EffectRecord | None) -> EffectRecord | None:
    return record


def _record(serde: SerializerProtocol, row: Row | None) -> EffectRecord | None:
    if row is None:
        return None
    request_hash, result_type, blob = row
    return EffectRecord(str(request_hash), serde.loads_typed((result_type, blob)))


class EffectStoreMixin:
    """``get_effect``/``put_effect`` (and async twins) for :class:`StatewardSaver`."""

    serde: SerializerProtocol
    one_statement: bool

    if TYPE_CHECKING:

        def _execute(self, call: Call[Any, R]) -> R: ...

        async def _aexecute(self, call: Call[Any, R]) -> R: ...

    def _get_effect_call(
        self, key: EffectKey
    ) -> Call[EffectRecord | None, EffectRecord | None]:
        serde = self.serde
        mode: _base.Mode = "statement" if self.one_statement else "read"
        return _base.Call(lambda: get_effect(serde, key), mode, _same)

    def _put_effect_call(
        self, key: EffectKey, request_hash: str, result: Any
    ) -> Call[EffectRecord | None, EffectRecord | None]:
        serde = self.serde
        row = effect_row(serde, key, request_hash, result)
        # PostgreSQL: each statement commits on its own, so the read after a lost
        # insert sees the winner's row. SQLite: one write transaction.
        mode: _base.Mode = "statement" if self.one_statement else "write"
        return _base.Call(lambda: put_effect(serde, row, result), mode, _same)

    def get_effect(self, key: EffectKey) -> EffectRecord | None:
        """The recorded effect of ``key``, or None."""
        return self._execute(self._get_effect_call(key))

    def put_effect(
        self, key: EffectKey, request_hash: str, result: Any
    ) -> EffectRecord | None:
        """Record ``result`` under ``key`` unless a record is there; return the
        stored record (``inserted`` tells which)."""
        return self._execute(self._put_effect_call(key, request_hash, result))

    async def aget_effect(self, key: EffectKey) -> EffectRecord | None:
        """Async :meth:`get_effect`."""
        return await self._aexecute(self._get_effect_call(key))

    async def aput_effect(
        self, key: EffectKey, request_hash: str, result: Any
    ) -> EffectRecord | None:
        """Async :meth:`put_effect`."""
        return await self._aexecute(self._put_effect_call(key, request_hash, result))
