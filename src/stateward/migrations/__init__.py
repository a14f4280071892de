"""Numbered, append-only schema migrations, one folder per dialect.

A migration is a file ``NNNN_description.sql``; its number is its version. Files are
never edited once released: a change is a new file. ``stateward_migrations`` records
what was applied. Applying takes a lock, so two processes migrating at once are safe.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from stateward import errors
from stateward.sql import Dialect
from stateward.statements import Op, Script, Statement

_FILE = re.compile(r"^(\d{4})_(\w+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str


@functools.cache
def migrations(dialect: Dialect) -> tuple[Migration, ...]:
    """Every migration of ``dialect``, in order."""
    found = []
    for entry in resources.files(__package__).joinpath(dialect).iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise errors.MigrationError(f"{dialect} migrations are not numbered 1..N")
    return tuple(found)


def apply(dialect: Dialect) -> Op[list[int]]:
    """Apply the migrations not applied yet; returns the versions applied now."""
    yield Statement("migrate_lock", fetch="one")
    yield Statement("create_migrations_table")
    rows = yield Statement("applied_migrations", fetch="all")
    applied = {row[0] for row in rows}
    known = {m.version for m in migrations(dialect)}
    if unknown := applied - known:
        raise errors.MigrationError(
            f"the database has migrations {sorted(unknown)} that this version of "
            "Stateward does not know: it was migrated by a newer release"
        )
    done = []
    for migration in migrations(dialect):
        if migration.version not in applied:
            yield Script(migration.sql)
            yield Statement(
                "record_migration",
                {"version": migration.version, "name": migration.name},
            )
            done.append(migration.version)
    return done
