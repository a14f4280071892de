"""Run operations on PostgreSQL with psycopg 3, pooled, pipelined and retried.

Each operation runs in one transaction on one pooled connection, in pipeline mode so
the statements of a batch share a round trip. Connection failures (a restarted
server, terminated backends) are retried with backoff on a fresh connection; the pool
checks connections before lending them. What still fails after the retries surfaces
as :class:`~stateward.errors.StorageUnavailableError`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal, TypeVar

import psycopg
import psycopg_pool
from psycopg import errors as pg_errors
from psycopg.rows import tuple_row
from psycopg.types.json import Jsonb

from stateward import errors
from stateward.checkpoint import _retrying
from stateward.checkpoint._drive import adrive, drive
from stateward.core.retry import StorageRetry
from stateward.sql import queries
from stateward.statements import (
    DuplicateKeyError,
    Json,
    Op,
    Request,
    Script,
    Statement,
)

T = TypeVar("T")
Mode = Literal["statement", "read", "write", "migrate"]

QUERIES = queries("postgres")
SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"

TRANSIENT: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,  # lost connection, server shutting down or starting
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
    psycopg_pool.PoolTimeout,
)

CONNECTION_KWARGS: dict[str, Any] = {"autocommit": True}


PROBE_TIMEOUT = 2


def _with_cause(exc: errors.StorageUnavailableError, cause: str) -> Exception:
    return errors.StorageUnavailableError(f"{exc} (cause: {cause.strip()})")


def is_transient(exc: BaseException) -> bool:
    """Errors that a new connection or a second try can cure."""
    return isinstance(exc, TRANSIENT)


def _adapt(params: Any) -> Any:
    return {k: Jsonb(v.value) if isinstance(v, Json) else v for k, v in params.items()}


def _params(stmt: Statement) -> Any:
    """A batch (``many``) becomes one array per column: one statement, not N."""
    if stmt.many is None:
        return _adapt(stmt.params)
    rows = [_adapt(row) for row in stmt.many]
    return {column: [row[column] for row in rows] for column in rows[0]}


def _translate(exc: psycopg.Error) -> Exception:
    if isinstance(exc, pg_errors.UniqueViolation):
        return DuplicateKeyError(exc.diag.constraint_name)
    if isinstance(exc, psycopg.DataError):
        return errors.InvalidInputError(f"the database refused a value: {exc}")
    return exc


def _execute(conn: psycopg.Connection[Any], stmt: Statement) -> psycopg.Cursor[Any]:
    sql = QUERIES[stmt.query]
    # Our own row factory: a caller's connection may carry dict_row (LangGraph's).
    cur = conn.cursor(row_factory=tuple_row)
    cur.execute(sql, _params(stmt))
    return cur


async def _aexecute(
    conn: psycopg.AsyncConnection[Any], stmt: Statement
) -> psycopg.AsyncCursor[Any]:
    sql = QUERIES[stmt.query]
    cur = conn.cursor(row_factory=tuple_row)
    await cur.execute(sql, _params(stmt))
    return cur


def _send_plain(conn: psycopg.Connection[Any], request: Request) -> Any:
    if isinstance(request, Script):
        conn.execute(request.sql)
        return None
    if isinstance(request, tuple):
        raise TypeError("batches run only in read and write modes")
    try:
        return _fetch(request, _execute(conn, request))
    except psycopg.Error as exc:
        raise _translate(exc) from exc


async def _asend_plain(conn: psycopg.AsyncConnection[Any], request: Request) -> Any:
    if isinstance(request, Script):
        await conn.execute(request.sql)
        return None
    if isinstance(request, tuple):
        raise TypeError("batches run only in read and write modes")
    try:
        return await _afetch(request, await _aexecute(conn, request))
    except psycopg.Error as exc:
        raise _translate(exc) from exc


def _batch(request: Request) -> tuple[Statement, ...]:
    if isinstance(request, Script):
        raise TypeError("scripts run only in migrate mode")
    return request if isinstance(request, tuple) else (request,)


class PostgresDriver:
    """Runs operations on a sync pool (or a single connection, serialised)."""

    def __init__(
        self,
        conn: psycopg_pool.ConnectionPool[Any] | psycopg.Connection[Any],
        retry: StorageRetry,
    ) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._retry = retry

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        if isinstance(self._conn, psycopg.Connection):
            with self._lock:
                yield self._conn
        else:
            with self._conn.connection(timeout=self._retry.connect_timeout) as conn:
                yield conn

    def run(self, make_op: Callable[[], Op[T]], mode: Mode) -> T:
        try:
            return _retrying.call(
                self._retry,
                is_transient,
                "postgres",
                self._run_checked,
                make_op,
                mode,
            )
        except errors.StorageUnavailableError as exc:
            if not isinstance(exc.__cause__, psycopg_pool.PoolTimeout):
                raise
            raise _with_cause(exc, self._probe()) from exc.__cause__

    def _probe(self) -> str:
        """Why the pool has no connection: the pool only logs it, so ask directly."""
        conninfo = getattr(self._conn, "conninfo", "")
        try:
            psycopg.connect(conninfo, connect_timeout=PROBE_TIMEOUT).close()
        except psycopg.Error as exc:
            return str(exc)
        return "a direct connection succeeds now; the pool may be exhausted"

    def _run_checked(self, make_op: Callable[[], Op[T]], mode: Mode) -> T:
        try:
            return self._run_once(make_op, mode)
        except psycopg.OperationalError:
            # Connections are not pinged before each use (a round trip per call);
            # after a failure, weed out every broken one before the retry.
            if isinstance(self._conn, psycopg_pool.ConnectionPool):
                self._conn.check()
            raise

    def _run_once(self, make_op: Callable[[], Op[T]], mode: Mode) -> T:
        if mode == "statement":  # one statement: atomic on its own, one round trip
            with self.connection() as conn:
                return drive(make_op(), lambda request: _send_plain(conn, request))
        if mode == "migrate":  # scripts cannot run in pipeline mode
            with self.connection() as conn, conn.transaction():
                return drive(make_op(), lambda request: _send_plain(conn, request))
        with self.connection() as conn, conn.pipeline() as pipe, conn.transaction():
            if mode == "read":
                conn.execute(SNAPSHOT)
            return drive(make_op(), lambda request: self._send(conn, pipe, request))

    @staticmethod
    def _send(
        conn: psycopg.Connection[Any], pipe: psycopg.Pipeline, request: Request
    ) -> Any:
        batch = _batch(request)
        try:
            cursors = [_execute(conn, stmt) for stmt in batch]
            pipe.sync()  # one round trip for the batch; errors surface here
            results = [
                _fetch(stmt, cur) for stmt, cur in zip(batch, cursors, strict=True)
            ]
        except psycopg.Error as exc:
            raise _translate(exc) from exc
        return results if isinstance(request, tuple) else results[0]


def _fetch(stmt: Statement, cur: psycopg.Cursor[Any]) -> Any:
    if stmt.fetch == "one":
        return cur.fetchone()
    if stmt.fetch == "all":
        return cur.fetchall()
    return None


class AsyncPostgresDriver:
    """Runs operations on an async pool (or a single connection, serialised)."""

    def __init__(
        self,
        conn: psycopg_pool.AsyncConnectionPool[Any] | psycopg.AsyncConnection[Any],
        retry: StorageRetry,
    ) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._retry = retry

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if isinstance(self._conn, psycopg.AsyncConnection):
            async with self._lock:
                yield self._conn
        else:
            async with self._conn.connection(
                timeout=self._retry.connect_timeout
            ) as conn:
                yield conn

    async def run(self, make_op: Callable[[], Op[T]], mode: Mode) -> T:
        try:
            return await _retrying.acall(
                self._retry,
                is_transient,
                "postgres",
                self._run_checked,
                make_op,
                mode,
            )
        except errors.StorageUnavailableError as exc:
            if not isinstance(exc.__cause__, psycopg_pool.PoolTimeout):
                raise
            raise _with_cause(exc, await self._probe()) from exc.__cause__

    async def _probe(self) -> str:
        """Why the pool has no connection: the pool only logs it, so ask directly."""
        conninfo = getattr(self._conn, "conninfo", "")
        try:
            conn = await psycopg.AsyncConnection.connect(
                conninfo, connect_timeout=PROBE_TIMEOUT
            )
        except psycopg.Error as exc:
            return str(exc)
        await conn.close()
        return "a direct connection succeeds now; the pool may be exhausted"

    async def _run_checked(self, make_op: Callable[[], Op[T]], mode: Mode) -> T:
        try:
            return await self._run_once(make_op, mode)
        except psycopg.OperationalError:
            if isinstance(self._conn, psycopg_pool.AsyncConnectionPool):
                await self._conn.check()
            raise

    async def _run_once(self, make_op: Callable[[], Op[T]], mode: Mode) -> T:
        if mode == "statement":  # one statement: atomic on its own, one round trip
            async with self.connection() as conn:
                return await adrive(
                    make_op(), lambda request: _asend_plain(conn, request)
                )
        if mode == "migrate":  # scripts cannot run in pipeline mode
            async with self.connection() as conn, conn.transaction():
                return await adrive(
                    make_op(), lambda request: _asend_plain(conn, request)
                )
        async with (
            self.connection() as conn,
            conn.pipeline() as pipe,
            conn.transaction(),
        ):
            if mode == "read":
                await conn.execute(SNAPSHOT)
            return await adrive(
                make_op(), lambda request: self._send(conn, pipe, request)
            )

    @staticmethod
    async def _send(
        conn: psycopg.AsyncConnection[Any],
        pipe: psycopg.AsyncPipeline,
        request: Request,
    ) -> Any:
        batch = _batch(request)
        try:
            cursors = [await _aexecute(conn, stmt) for stmt in batch]
            await pipe.sync()  # one round trip for the batch; errors surface here
            results = [
                await _afetch(stmt, cur)
                for stmt, cur in zip(batch, cursors, strict=True)
            ]
        except psycopg.Error as exc:
            raise _translate(exc) from exc
        return results if isinstance(request, tuple) else results[0]


async def _afetch(stmt: Statement, cur: psycopg.AsyncCursor[Any]) -> Any:
    if stmt.fetch == "one":
        return await cur.fetchone()
    if stmt.fetch == "all":
        return await cur.fetchall()
    return None
