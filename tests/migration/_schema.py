"""Describe a database schema as stable text, to compare with a committed snapshot."""

from __future__ import annotations

import sqlite3

import psycopg

PG_COLUMNS = """
SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name LIKE 'stateward%'
ORDER BY table_name, ordinal_position
"""
PG_INDEXES = """
SELECT indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename LIKE 'stateward%'
ORDER BY indexname
"""
PG_CONSTRAINTS = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
FROM pg_constraint
WHERE connamespace = 'public'::regnamespace
  AND conrelid::regclass::text LIKE 'stateward%'
ORDER BY 1, 2
"""


def postgres_schema(dsn: str) -> str:
    """Tables, columns, indexes and constraints of Stateward's PostgreSQL schema."""
    lines = []
    with psycopg.connect(dsn) as conn:
        for row in conn.execute(PG_COLUMNS):
            lines.append("column " + " | ".join(str(v) for v in row))
        for (indexdef,) in conn.execute(PG_INDEXES):
            lines.append(f"index {indexdef}")
        for row in conn.execute(PG_CONSTRAINTS):
            lines.append("constraint " + " | ".join(str(v) for v in row))
    return "\n".join(lines) + "\n"


def sqlite_schema(path: str) -> str:
    """The CREATE statements of Stateward's SQLite schema."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master"
            " WHERE name LIKE 'stateward%' AND sql IS NOT NULL ORDER BY type, name"
        ).fetchall()
    return "\n".join(" ".join(sql.split()) for (sql,) in rows) + "\n"
