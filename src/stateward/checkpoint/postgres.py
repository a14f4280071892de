"""PostgreSQL savers: the production store, drop-in for LangGraph's own."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from langgraph.checkpoint.serde.base import SerializerProtocol

from stateward import errors
from stateward.checkpoint._base import (
    DEFAULT_COMPRESSION,
    Call,
    StatewardSaver,
    SyncDriverSaver,
)
from stateward.checkpoint._postgres_driver import (
    CONNECTION_KWARGS,
    AsyncPostgresDriver,
    PostgresDriver,
)
from stateward.core.compression import Compression
from stateward.core.retry import StorageRetry

T = TypeVar("T")

DEFAULT_POOL_SIZE = 10


class PostgresSaver(SyncDriverSaver):
    """Durable, conflict-safe checkpoints in PostgreSQL.

    Give it a ``psycopg_pool.ConnectionPool`` (recommended: broken connections are
    replaced and operations retried across a database restart) or a single
    autocommit ``psycopg.Connection`` (used by one caller at a time).

    Example:
        >>> with PostgresSaver.from_conn_string("postgresql://localhost/app") as saver:
        ...     saver.setup()
        ...     graph = builder.compile(checkpointer=saver)
    """

    dialect = "postgres"
    one_statement = True

    def __init__(
        self,
        conn: psycopg_pool.ConnectionPool[Any] | psycopg.Connection[Any],
        *,
        serde: SerializerProtocol | None = None,
        allowed_types: Iterable[tuple[str, ...] | type] = (),
        compression: Compression | None = DEFAULT_COMPRESSION,
        retry: StorageRetry | None = None,
    ) -> None:
        super().__init__(
            serde=serde, allowed_types=allowed_types, compression=compression
        )
        self.conn = conn
        self._driver = PostgresDriver(conn, retry or StorageRetry())

    @classmethod
    @contextmanager
    def from_conn_string(
        cls,
        conn_string: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        pipeline: bool = False,
        **kwargs: Any,
    ) -> Iterator[PostgresSaver]:
        """A saver on a connection pool to ``conn_string``, closed on exit."""
        with psycopg_pool.ConnectionPool(
            conn_string,
            min_size=1,
            max_size=pool_size,
            kwargs=CONNECTION_KWARGS,
            open=True,
        ) as pool:
            yield cls(pool, **kwargs)

    def setup(self) -> None:
        """Create or upgrade the schema; safe to run from several processes at once."""
        self._execute(self._migrate_call())


class AsyncPostgresSaver(StatewardSaver):
    """The PostgreSQL saver for asyncio code, on an ``AsyncConnectionPool``.

    Its sync methods may be called from other threads (LangGraph's sync APIs do);
    calling them from the event loop's own thread would deadlock and is refused.
    """

    dialect = "postgres"
    one_statement = True

    def __init__(
        self,
        conn: psycopg_pool.AsyncConnectionPool[Any] | psycopg.AsyncConnection[Any],
        *,
        serde: SerializerProtocol | None = None,
        allowed_types: Iterable[tuple[str, ...] | type] = (),
        compression: Compression | None = DEFAULT_COMPRESSION,
        retry: StorageRetry | None = None,
    ) -> None:
        super().__init__(
            serde=serde, allowed_types=allowed_types, compression=compression
        )
        self.conn = conn
        self._driver = AsyncPostgresDriver(conn, retry or StorageRetry())
        self.loop = asyncio.get_running_loop()

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls,
        conn_string: str,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        pipeline: bool = False,
        **kwargs: Any,
    ) -> AsyncIterator[AsyncPostgresSaver]:
        """A saver on an async connection pool to ``conn_string``, closed on exit."""
        async with psycopg_pool.AsyncConnectionPool(
            conn_string,
            min_size=1,
            max_size=pool_size,
            kwargs=CONNECTION_KWARGS,
            open=False,
        ) as pool:
            yield cls(pool, **kwargs)

    async def setup(self) -> None:
        """Create or upgrade the schema; safe to run from several processes at once."""
        await self._aexecute(self._migrate_call())

    async def _arun(self, call: Call[T, Any]) -> T:
        result: T = await self._driver.run(call.make_op, call.mode)
        return result

    def _run(self, call: Call[T, Any]) -> T:
        try:
            if asyncio.get_running_loop() is self.loop:
                raise errors.InvalidInputError(
                    "sync methods of AsyncPostgresSaver cannot run on its own event "
                    "loop; use the async methods (aget_tuple, aput, ...) there"
                )
        except RuntimeError:
            pass  # no loop in this thread: the normal case for a sync caller
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(
            self._driver.run(call.make_op, call.mode), self.loop
        )
        return future.result()
