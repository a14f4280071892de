"""Fixtures for real databases: a fresh PostgreSQL database or SQLite file per test.

PostgreSQL is the server at ``STATEWARD_TEST_POSTGRES`` (default: the local one on
127.0.0.1:5432). If it cannot be reached the tests fail: they are never skipped.
"""

from __future__ import annotations

import os
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ADMIN_DSN = os.environ.get(
    "STATEWARD_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def dsn_for(database: str) -> str:
    """The admin URL pointed at another database."""
    return urllib.parse.urlsplit(ADMIN_DSN)._replace(path=f"/{database}").geturl()


@pytest.fixture
def pg_admin() -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """An autocommit connection to the server's maintenance database (per test: a
    test may restart the server)."""
    try:
        conn = psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {ADMIN_DSN}: {exc}. Start it (see "
            "README, 'Running the tests') or set STATEWARD_TEST_POSTGRES.",
            pytrace=False,
        )
    with conn:
        yield conn


def _admin(statement: sql.Composed) -> None:
    # A connection of its own: a test may have restarted the server meanwhile.
    with psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(statement)


@pytest.fixture
def pg_dsn(pg_admin: psycopg.Connection[tuple[object, ...]]) -> Iterator[str]:
    """A new, empty database for this test, dropped afterwards."""
    name = f"stateward_test_{uuid.uuid4().hex[:12]}"
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield dsn_for(name)
    finally:
        _admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)
            )
        )


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A path for a new SQLite database file."""
    return tmp_path / "state.db"
