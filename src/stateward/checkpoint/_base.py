"""The saver API, written once; subclasses only say how an operation is executed.

Each public method builds a :class:`Call` (which operation to run, and what to do
with its result) and hands it to ``_execute`` (sync) or ``_aexecute`` (async). The
bookkeeping of what this writer has seen of each thread (:mod:`stateward.core.heads`)
happens in the caller's context, before and after the call, never in a worker thread.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Sequence,
)
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_serializable_checkpoint_metadata,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from stateward import errors
from stateward.checkpoint import _ops
from stateward.checkpoint._effects import EffectStoreMixin
from stateward.core import heads
from stateward.core.codec import SafeSerializer
from stateward.core.compression import CompressingSerializer, Compression
from stateward.migrations import apply as apply_migrations
from stateward.observability import _storage as observe
from stateward.sql import Dialect
from stateward.statements import Op

T = TypeVar("T")
R = TypeVar("R")
Mode = Literal["statement", "read", "write", "migrate"]
DEFAULT_COMPRESSION = Compression()


@dataclass(frozen=True, slots=True)
class Call(Generic[T, R]):
    """An operation to run (again, if retried) and how to turn its result into R."""

    make_op: Callable[[], Op[T]]
    mode: Mode
    finish: Callable[[T], R]
    operation: str = "other"
    """The saver method, for metrics, logs and spans."""
    size: int = 0
    """Bytes the call writes (checkpoints and writes), for metrics."""
    thread_id: str | None = None
    """The thread the call reads or writes, for spans and events."""
    checkpoint_id: str | None = None
    """The checkpoint a put writes, for events."""


def _identity(value: Any) -> Any:
    return value


def _thread_key(config: RunnableConfig) -> heads.ThreadKey:
    configurable = config.get("configurable") or {}
    if configurable.get("thread_id") is None:
        raise errors.InvalidInputError(
            'config["configurable"]["thread_id"] is required to read or write a thread'
        )
    return str(configurable["thread_id"]), str(configurable.get("checkpoint_ns", ""))


class StatewardSaver(EffectStoreMixin, BaseCheckpointSaver[str]):
    """Conflict-safe LangGraph checkpoint saver; see the concrete savers."""

    dialect: Dialect
    one_statement: bool = False
    """Whether reads and checkpoint writes each run as one statement (PostgreSQL),
    rather than as short transactions of several (SQLite, where they cost nothing)."""

    def __init__(
        self,
        *,
        serde: SerializerProtocol | None = None,
        allowed_types: Iterable[tuple[str, ...] | type] = (),
        compression: Compression | None = DEFAULT_COMPRESSION,
    ) -> None:
        """Args:
        serde: a serializer to use instead of the safe default (it is still
            wrapped by compression unless ``compression`` is None).
        allowed_types: extra types stored state may contain (classes or
            ``(module, name)`` pairs); anything else is refused on load.
        compression: when to compress large values with zstd (None: never;
            compressed rows written earlier still load).
        """
        inner = serde or SafeSerializer(allowed_types)
        # Always wrapped: compressed rows stay readable with compression off.
        super().__init__(serde=CompressingSerializer(inner, compression))

    # -- how a call is executed: provided by the sync and async families -----------

    def _run(self, call: Call[T, Any]) -> T:
        raise NotImplementedError

    async def _arun(self, call: Call[T, Any]) -> T:
        raise NotImplementedError

    def _execute(self, call: Call[Any, R]) -> R:
        observation = observe.Observation(self.dialect, call)
        try:
            result = self._run(call)
        except BaseException as exc:
            observation.failed(exc)
            raise
        observation.succeeded()
        return call.finish(result)

    async def _aexecute(self, call: Call[Any, R]) -> R:
        observation = observe.Observation(self.dialect, call)
        try:
            result = await self._arun(call)
        except BaseException as exc:
            observation.failed(exc)
            raise
        observation.succeeded()
        return call.finish(result)

    # -- the calls ------------------------------------------------------------------

    def _migrate_call(self) -> Call[list[int], list[int]]:
        return Call(
            lambda: apply_migrations(self.dialect), "migrate", _identity, "migrate"
        )

    def _get_tuple_call(
        self, config: RunnableConfig
    ) -> Call[CheckpointTuple | None, CheckpointTuple | None]:
        key = _thread_key(config)
        requested = get_checkpoint_id(config)

        def finish(found: CheckpointTuple | None) -> CheckpointTuple | None:
            found_id = found.config["configurable"]["checkpoint_id"] if found else None
            heads.record_read(key, requested=requested, found=found_id)
            return found

        joined = self.one_statement
        return Call(
            lambda: _ops.get_tuple(self.serde, key, requested, joined=joined),
            "statement" if joined else "read",
            finish,
            "get_tuple",
            thread_id=key[0],
        )

    def _list_call(
        self,
        config: RunnableConfig | None,
        filter: dict[str, Any] | None,
        before: RunnableConfig | None,
        limit: int | None,
    ) -> Call[list[CheckpointTuple], list[CheckpointTuple]]:
        joined = self.one_statement
        return Call(
            lambda: _ops.list_tuples(
                self.serde,
                config,
                filter=filter,
                before=before,
                limit=limit,
                joined=joined,
            ),
            "statement" if joined else "read",
            _identity,
            "list",
        )

    def _put_call(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> Call[None, RunnableConfig]:
        key = _thread_key(config)
        parent = get_checkpoint_id(config)
        rows = _ops.checkpoint_rows(
            self.serde,
            key,
            checkpoint,
            metadata=get_serializable_checkpoint_metadata(config, metadata),
            new_versions=new_versions,
            parent_id=parent,
        )
        expect = heads.expectation(key, parent=parent, new=checkpoint["id"])

        def finish(_: None) -> RunnableConfig:
            heads.record_write(key, checkpoint["id"])
            return _ops.checkpoint_config(key, checkpoint["id"])

        if self.one_statement:
            return Call(
                lambda: _ops.put_in_one_statement(rows, expect),
                "statement",
                finish,
                "put",
                rows.size,
                key[0],
                checkpoint["id"],
            )
        return Call(
            lambda: _ops.put(rows, expect),
            "write",
            finish,
            "put",
            rows.size,
            key[0],
            checkpoint["id"],
        )

    def _put_writes_call(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str,
    ) -> Call[None, None]:
        key = _thread_key(config)
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id is None:
            raise errors.InvalidInputError(
                "put_writes needs a config with a checkpoint_id"
            )
        return Call(
            lambda: _ops.put_writes(
                self.serde,
                key,
                checkpoint_id,
                writes,
                task_id=task_id,
                task_path=task_path,
            ),
            "statement",
            _identity,
            "put_writes",
            thread_id=key[0],
        )

    def _forgetting(self, thread_ids: Sequence[str]) -> Callable[[None], None]:
        def finish(_: None) -> None:
            views = heads.peek_views()
            if views is not None:
                for thread_id in thread_ids:
                    views.forget(thread_id)

        return finish

    def _delete_threads_call(self, thread_ids: Sequence[str]) -> Call[None, None]:
        ids = [str(t) for t in thread_ids]
        return Call(
            lambda: _ops.delete_threads(ids),
            "write",
            self._forgetting(ids),
            "delete_thread",
        )

    def _delete_for_runs_call(self, run_ids: Sequence[str]) -> Call[None, None]:
        ids = [str(r) for r in run_ids]
        return Call(
            lambda: _ops.delete_for_runs(ids), "write", _identity, "delete_for_runs"
        )

    def _copy_thread_call(self, source: str, target: str) -> Call[None, None]:
        return Call(
            lambda: _ops.copy_thread(str(source), str(target)),
            "write",
            _identity,
            "copy_thread",
        )

    def _prune_call(self, thread_ids: Sequence[str], strategy: str) -> Call[None, None]:
        ids = [str(t) for t in thread_ids]
        return Call(
            lambda: _ops.prune(ids, strategy), "write", self._forgetting(ids), "prune"
        )

    # -- BaseCheckpointSaver, sync ----------------------------------------------------

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self._execute(self._get_tuple_call(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        found: list[CheckpointTuple] = self._execute(
            self._list_call(config, filter, before, limit)
        )
        return iter(found)

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self._execute(self._put_call(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self._execute(self._put_writes_call(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        self._execute(self._delete_threads_call([thread_id]))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        self._execute(self._delete_for_runs_call(run_ids))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self._execute(self._copy_thread_call(source_thread_id, target_thread_id))

    def prune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest"
    ) -> None:
        self._execute(self._prune_call(thread_ids, strategy))

    # -- BaseCheckpointSaver, async ---------------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await self._aexecute(self._get_tuple_call(config))

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for found in await self._aexecute(
            self._list_call(config, filter, before, limit)
        ):
            yield found

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return await self._aexecute(
            self._put_call(config, checkpoint, metadata, new_versions)
        )

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        await self._aexecute(self._put_writes_call(config, writes, task_id, task_path))

    async def adelete_thread(self, thread_id: str) -> None:
        await self._aexecute(self._delete_threads_call([thread_id]))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        await self._aexecute(self._delete_for_runs_call(run_ids))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self._aexecute(self._copy_thread_call(source_thread_id, target_thread_id))

    async def aprune(
        self, thread_ids: Sequence[str], *, strategy: str = "keep_latest"
    ) -> None:
        await self._aexecute(self._prune_call(thread_ids, strategy))

    # -- versions and serialisation ---------------------------------------------------

    def get_next_version(self, current: str | None, channel: None) -> str:
        """Versions carry a random suffix so two forks never share a blob key."""
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(current.split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"  # noqa: S311 - not security

    def with_allowlist(
        self, extra_allowlist: Collection[tuple[str, ...]]
    ) -> StatewardSaver:
        """A saver that also loads the types LangGraph derived from the state."""
        widen = getattr(self.serde, "with_allowed", None)
        if widen is None:
            return self
        clone = self.__class__.__new__(self.__class__)
        clone.__dict__.update(self.__dict__)
        clone.serde = widen(extra_allowlist)
        return clone


class SyncDriverSaver(StatewardSaver):
    """A saver whose driver blocks; async methods run it in a worker thread."""

    _driver: Any

    def _run(self, call: Call[T, Any]) -> T:
        result: T = self._driver.run(call.make_op, call.mode)
        return result

    async def _arun(self, call: Call[T, Any]) -> T:
        result: T = await asyncio.to_thread(self._driver.run, call.make_op, call.mode)
        return result
