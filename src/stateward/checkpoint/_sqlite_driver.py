"""Run operations on one SQLite connection, one transaction at a time.

Writes take the database lock up front (``BEGIN IMMEDIATE``) so two writers never
deadlock upgrading a read lock; reads run in a snapshot (``BEGIN``). The connection
uses WAL, so readers in other processes are not blocked by a writer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from stateward.checkpoint import _retrying
from stateward.checkpoint._drive import drive
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
Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

QUERIES = queries("sqlite")


def _contains(doc: Any, fragment: Any) -> bool:
    """PostgreSQL's jsonb ``@>`` for decoded JSON values."""
    if isinstance(fragment, dict):
        return isinstance(doc, dict) and all(
            k in doc and _contains(doc[k], v) for k, v in fragment.items()
        )
    if isinstance(fragment, list):
        return isinstance(doc, list) and all(
            any(_contains(d, f) for d in doc) for f in fragment
        )
    return bool(doc == fragment and type(doc) is type(fragment))


def _json_contains(doc: str, fragment: str) -> int:
    return int(_contains(json.loads(doc), json.loads(fragment)))


def is_transient(exc: BaseException) -> bool:
    """Another process held the database lock past the busy timeout."""
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _adapt(params: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: json.dumps(v.value if isinstance(v, Json) else v)
        if isinstance(v, Json | list)
        else v
        for k, v in params.items()
    }


def split_script(sql: str) -> list[str]:
    """Split SQL text into whole statements (executescript would commit first)."""
    statements, pending = [], ""
    for line in sql.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in pending.splitlines()
    ):
        raise ValueError(
            f"incomplete SQL statement at the end of a script: {pending!r}"
        )
    return statements


def configure(conn: sqlite3.Connection, synchronous: Synchronous) -> None:
    """Put a connection into the mode the saver relies on."""
    conn.isolation_level = None  # we issue BEGIN/COMMIT ourselves
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    # Not a parameter: PRAGMA takes no bound values, and the Literal type pins it.
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.create_function(
        "stateward_json_contains", 2, _json_contains, deterministic=True
    )


class SqliteDriver:
    """Runs operations on a SQLite connection shared by threads, one at a time."""

    def __init__(self, conn: sqlite3.Connection, retry: StorageRetry) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        self._retry = retry

    def run(self, make_op: Callable[[], Op[T]], mode: Mode) -> T:
        return _retrying.call(
            self._retry, is_transient, "sqlite", self._run_once, make_op, mode
        )

    def _run_once(self, make_op: Callable[[], Op[T]], mode: Mode) -> T:
        with self._lock:
            # A lone statement still gets a transaction: SQLite needs no round trips.
            self.conn.execute("BEGIN" if mode == "read" else "BEGIN IMMEDIATE")
            try:
                result = drive(make_op(), self._send)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            return result

    def _send(self, request: Request) -> Any:
        if isinstance(request, Script):
            for statement in split_script(request.sql):
                self.conn.execute(statement)
            return None
        if isinstance(request, tuple):
            return [self._execute(stmt) for stmt in request]
        return self._execute(request)

    def _execute(self, stmt: Statement) -> Any:
        sql = QUERIES[stmt.query]
        try:
            if stmt.many is not None:
                self.conn.executemany(sql, [_adapt(p) for p in stmt.many])
                return None
            cur = self.conn.execute(sql, _adapt(stmt.params))
        except sqlite3.IntegrityError as exc:
            raise DuplicateKeyError(str(exc)) from exc
        if stmt.fetch == "one":
            return cur.fetchone()
        if stmt.fetch == "all":
            return cur.fetchall()
        return None
