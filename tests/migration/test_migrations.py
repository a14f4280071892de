"""Numbered migrations: replaying them gives the committed schema; applying is safe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from stateward import errors
from stateward.checkpoint import PostgresSaver, SqliteSaver
from stateward.migrations import migrations
from tests.migration._schema import postgres_schema, sqlite_schema

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("STATEWARD_UPDATE_SNAPSHOTS") == "1"


def _compare(name: str, actual: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE:
        path.write_text(actual)
    assert actual == path.read_text(), (
        f"schema differs from {path}; if the change is intended, add a migration and "
        "rerun with STATEWARD_UPDATE_SNAPSHOTS=1"
    )


def _migrate_cli(url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "stateward", "migrate", "--database-url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_migrations_are_numbered_from_one() -> None:
    """Each dialect's migrations are 0001..N with no gap."""
    for dialect in ("postgres", "sqlite"):
        versions = [m.version for m in migrations(dialect)]
        assert versions == list(range(1, len(versions) + 1))


@pytest.mark.postgres
def test_postgres_schema_matches_snapshot(pg_dsn: str) -> None:
    """Replaying every PostgreSQL migration gives exactly the committed schema."""
    with PostgresSaver.from_conn_string(pg_dsn) as saver:
        saver.setup()
    _compare("postgres.txt", postgres_schema(pg_dsn))


def test_sqlite_schema_matches_snapshot(sqlite_path: Path) -> None:
    """Replaying every SQLite migration gives exactly the committed schema."""
    with SqliteSaver.from_conn_string(str(sqlite_path)):
        pass
    _compare("sqlite.txt", sqlite_schema(str(sqlite_path)))


@pytest.mark.postgres
def test_concurrent_migrate_commands_are_safe(pg_dsn: str) -> None:
    """Two `stateward migrate` processes at once both succeed; each version once."""
    procs = [_migrate_cli(pg_dsn) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute("SELECT version FROM stateward_migrations").fetchall()
    assert sorted(r[0] for r in rows) == [m.version for m in migrations("postgres")]
    again = _migrate_cli(pg_dsn)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "up to date" in err


def test_database_from_a_newer_release_is_refused(sqlite_path: Path) -> None:
    """A schema version this release does not know is a clear MigrationError."""
    with SqliteSaver.from_conn_string(str(sqlite_path)) as saver:
        saver.conn.execute(
            "INSERT INTO stateward_migrations (version, name) VALUES (999, 'future')"
        )
    with (
        pytest.raises(errors.MigrationError, match="newer release"),
        SqliteSaver.from_conn_string(str(sqlite_path)),
    ):
        pass


def test_migrate_command_rejects_an_unknown_url_scheme() -> None:
    """An unsupported database URL exits 2 with a message naming the schemes."""
    proc = _migrate_cli("mysql://u:secret@h/db")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "postgresql://" in err
    assert "secret" not in err
