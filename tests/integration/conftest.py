"""Fixtures shared by the integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.helpers import BACKENDS, Backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Backend, str]:
    """A backend and its database: a fresh SQLite file or PostgreSQL database."""
    name: Backend = request.param
    if name == "sqlite":
        return name, str(tmp_path / "state.db")
    return name, str(request.getfixturevalue("pg_dsn"))
