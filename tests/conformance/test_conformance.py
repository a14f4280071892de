"""LangGraph's own conformance suite, run against all four of our savers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.conformance import checkpointer_test, validate
from langgraph.checkpoint.conformance.report import CapabilityReport

from stateward.checkpoint import (
    AsyncPostgresSaver,
    AsyncSqliteSaver,
    PostgresSaver,
    SqliteSaver,
)


def _failures(report: CapabilityReport) -> dict[str, list[str]]:
    return {
        capability: result.failures
        for capability, result in report.results.items()
        if result.failures or result.tests_failed
    }


async def _check(
    factory: Callable[[], AsyncIterator[BaseCheckpointSaver[Any]]],
) -> None:
    registered = checkpointer_test(name=factory.__name__)(factory)
    report = await validate(registered)
    assert _failures(report) == {}
    assert report.passed_all(), report.to_dict()
    # Every capability ran (none skipped as undetected): base and extended alike.
    assert all(r.detected and r.tests_passed for r in report.results.values())


async def test_sqlite_saver(tmp_path: Path) -> None:
    """SqliteSaver passes every base and extended capability suite."""

    async def sqlite_saver() -> AsyncIterator[BaseCheckpointSaver[Any]]:
        with SqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
            yield saver

    await _check(sqlite_saver)


async def test_async_sqlite_saver(tmp_path: Path) -> None:
    """AsyncSqliteSaver passes every base and extended capability suite."""

    async def async_sqlite_saver() -> AsyncIterator[BaseCheckpointSaver[Any]]:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "c.db")) as saver:
            yield saver

    await _check(async_sqlite_saver)


@pytest.mark.postgres
async def test_postgres_saver(pg_dsn: str) -> None:
    """PostgresSaver passes every base and extended capability suite."""

    async def postgres_saver() -> AsyncIterator[BaseCheckpointSaver[Any]]:
        with PostgresSaver.from_conn_string(pg_dsn, pool_size=2) as saver:
            saver.setup()
            yield saver

    await _check(postgres_saver)


@pytest.mark.postgres
async def test_async_postgres_saver(pg_dsn: str) -> None:
    """AsyncPostgresSaver passes every base and extended capability suite."""

    async def async_postgres_saver() -> AsyncIterator[BaseCheckpointSaver[Any]]:
        async with AsyncPostgresSaver.from_conn_string(pg_dsn, pool_size=2) as saver:
            await saver.setup()
            yield saver

    await _check(async_postgres_saver)
