"""Every saver the benchmark runs, each opened the way its documentation says."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres import PostgresSaver as LgPostgresSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver as LgAsyncPostgresSaver
from langgraph.checkpoint.sqlite import SqliteSaver as LgSqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver as LgAsyncSqliteSaver
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from stateward.checkpoint import (
    AsyncPostgresSaver,
    AsyncSqliteSaver,
    PostgresSaver,
    SqliteSaver,
)

Saver = BaseCheckpointSaver[Any] | None
Synchronous = Literal["NORMAL", "FULL"]
SyncOpener = Callable[[], AbstractContextManager[Saver]]
AsyncOpener = Callable[[], AbstractAsyncContextManager[Saver]]

SYNC_POOL_SIZE = 4
"""Our sync saver's pool in benchmark (a); one caller uses one connection at a time."""

ASYNC_POOL_SIZE = 8
"""Connections for the concurrent benchmark (b): one per worker, for both savers."""


@dataclass(frozen=True)
class Contender:
    """One configuration to time: a saver (or none) in its sync and async form."""

    key: str
    open_sync: SyncOpener
    open_async: AsyncOpener


@dataclass(frozen=True)
class Comparison:
    """A table row pair: our saver against LangGraph's on one backend."""

    backend: str
    sync_name: str
    async_name: str
    ours: str
    langgraph: str


# -- PostgreSQL ----------------------------------------------------------------------


@contextmanager
def _ours_pg(dsn: str) -> Iterator[Saver]:
    with PostgresSaver.from_conn_string(dsn, pool_size=SYNC_POOL_SIZE) as saver:
        saver.setup()
        yield saver


@asynccontextmanager
async def _ours_apg(dsn: str) -> AsyncIterator[Saver]:
    async with AsyncPostgresSaver.from_conn_string(
        dsn, pool_size=ASYNC_POOL_SIZE
    ) as saver:
        await saver.setup()
        yield saver


@contextmanager
def _lg_pg(dsn: str) -> Iterator[Saver]:
    with LgPostgresSaver.from_conn_string(dsn) as saver:
        saver.setup()
        yield saver


@asynccontextmanager
async def _lg_apg(dsn: str) -> AsyncIterator[Saver]:
    # As LangGraph's docs say: autocommit, no prepared statements, dict rows.
    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    async with AsyncConnectionPool(
        dsn,
        min_size=ASYNC_POOL_SIZE,
        max_size=ASYNC_POOL_SIZE,
        kwargs=kwargs,
        open=False,
    ) as pool:
        saver = LgAsyncPostgresSaver(pool)  # type: ignore[arg-type]
        await saver.setup()
        yield saver


# -- SQLite --------------------------------------------------------------------------


@contextmanager
def _ours_sqlite(path: Path, synchronous: Synchronous) -> Iterator[Saver]:
    with SqliteSaver.from_conn_string(str(path), synchronous=synchronous) as saver:
        yield saver


@asynccontextmanager
async def _ours_asqlite(path: Path, synchronous: Synchronous) -> AsyncIterator[Saver]:
    async with AsyncSqliteSaver.from_conn_string(
        str(path), synchronous=synchronous
    ) as saver:
        yield saver


@contextmanager
def _lg_sqlite(path: Path) -> Iterator[Saver]:
    with LgSqliteSaver.from_conn_string(str(path)) as saver:
        saver.setup()
        yield saver


@asynccontextmanager
async def _lg_asqlite(path: Path) -> AsyncIterator[Saver]:
    async with LgAsyncSqliteSaver.from_conn_string(str(path)) as saver:
        await saver.setup()
        yield saver


# -- references ----------------------------------------------------------------------


@contextmanager
def _sync_value(make: Callable[[], Saver]) -> Iterator[Saver]:
    yield make()


@asynccontextmanager
async def _async_value(make: Callable[[], Saver]) -> AsyncIterator[Saver]:
    yield make()


def _none() -> Saver:
    return None


NO_SAVER = "none"
MEMORY = "memory"


def contenders(dsn: str, tmp: Path) -> list[Contender]:
    """All configurations, the no-checkpointer baseline first."""
    ours_normal, ours_full, lg_db = (
        tmp / "ours-normal.db",
        tmp / "ours-full.db",
        tmp / "langgraph.db",
    )
    return [
        Contender(NO_SAVER, lambda: _sync_value(_none), lambda: _async_value(_none)),
        Contender(
            MEMORY,
            lambda: _sync_value(InMemorySaver),
            lambda: _async_value(InMemorySaver),
        ),
        Contender("pg-ours", lambda: _ours_pg(dsn), lambda: _ours_apg(dsn)),
        Contender("pg-langgraph", lambda: _lg_pg(dsn), lambda: _lg_apg(dsn)),
        Contender(
            "sqlite-ours",
            lambda: _ours_sqlite(ours_normal, "NORMAL"),
            lambda: _ours_asqlite(ours_normal, "NORMAL"),
        ),
        Contender(
            "sqlite-ours-full",
            lambda: _ours_sqlite(ours_full, "FULL"),
            lambda: _ours_asqlite(ours_full, "FULL"),
        ),
        Contender(
            "sqlite-langgraph", lambda: _lg_sqlite(lg_db), lambda: _lg_asqlite(lg_db)
        ),
    ]


COMPARISONS = [
    Comparison(
        "postgres", "PostgresSaver", "AsyncPostgresSaver", "pg-ours", "pg-langgraph"
    ),
    Comparison(
        "sqlite",
        "SqliteSaver (ours: synchronous=NORMAL, default)",
        "AsyncSqliteSaver (ours: synchronous=NORMAL, default)",
        "sqlite-ours",
        "sqlite-langgraph",
    ),
    Comparison(
        "sqlite",
        "SqliteSaver (ours: synchronous=FULL, like LangGraph's)",
        "AsyncSqliteSaver (ours: synchronous=FULL, like LangGraph's)",
        "sqlite-ours-full",
        "sqlite-langgraph",
    ),
]
