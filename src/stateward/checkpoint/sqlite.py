"""SQLite savers: the embedded default, drop-in for LangGraph's of the same names."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.base import SerializerProtocol

from stateward.checkpoint._base import DEFAULT_COMPRESSION, SyncDriverSaver
from stateward.checkpoint._sqlite_driver import SqliteDriver, Synchronous, configure
from stateward.core.compression import Compression
from stateward.core.retry import StorageRetry


def connect(path: str | Path) -> sqlite3.Connection:
    """Open a SQLite database for a saver (shared by the saver's threads)."""
    return sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)


class _SqliteSaverBase(SyncDriverSaver):
    dialect = "sqlite"

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        serde: SerializerProtocol | None = None,
        allowed_types: Iterable[tuple[str, ...] | type] = (),
        compression: Compression | None = DEFAULT_COMPRESSION,
        retry: StorageRetry | None = None,
        synchronous: Synchronous = "NORMAL",
    ) -> None:
        """Wrap an open connection; the schema is created or upgraded at once.

        Args:
            conn: a connection opened with ``check_same_thread=False`` (see
                :func:`connect`); the saver serialises its use across threads.
            serde: a serializer to use instead of the safe default.
            allowed_types: extra types stored state may contain (classes or
                ``(module, name)`` pairs); anything else is refused on load.
            compression: when to compress large values with zstd (None: never).
            retry: how long to retry while another process holds the database lock.
            synchronous: SQLite's ``synchronous`` pragma. ``NORMAL`` (the default,
                with WAL) survives a crash of the process; ``FULL`` also survives a
                power loss, at the cost of an fsync per commit.
        """
        super().__init__(
            serde=serde, allowed_types=allowed_types, compression=compression
        )
        configure(conn, synchronous)
        self.conn = conn
        self._driver = SqliteDriver(conn, retry or StorageRetry())
        self._driver.run(self._migrate_call().make_op, "migrate")


class SqliteSaver(_SqliteSaverBase):
    """Durable, conflict-safe checkpoints in a SQLite file.

    Example:
        >>> with SqliteSaver.from_conn_string("state.db") as saver:
        ...     graph = builder.compile(checkpointer=saver)
    """

    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string: str, **kwargs: Any) -> Iterator[SqliteSaver]:
        """Open (or create) the database at ``conn_string``, a path or ``:memory:``."""
        conn = connect(conn_string)
        try:
            yield cls(conn, **kwargs)
        finally:
            conn.close()

    def setup(self) -> None:
        """Apply pending migrations (already done when the saver was created)."""
        self._execute(self._migrate_call())


class AsyncSqliteSaver(_SqliteSaverBase):
    """The SQLite saver for asyncio code; statements run in worker threads."""

    @classmethod
    @asynccontextmanager
    async def from_conn_string(
        cls, conn_string: str, **kwargs: Any
    ) -> AsyncIterator[AsyncSqliteSaver]:
        """Open (or create) the database at ``conn_string``, a path or ``:memory:``."""
        conn = connect(conn_string)
        try:
            yield cls(conn, **kwargs)
        finally:
            conn.close()

    async def setup(self) -> None:
        """Apply pending migrations (already done when the saver was created)."""
        await self._aexecute(self._migrate_call())
