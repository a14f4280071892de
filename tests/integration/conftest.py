"""Fixtures shared by the integration tests."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from stateward.observability import configure_logging
from tests.integration.helpers import BACKENDS, Backend


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Stateward's events, captured as the JSON lines an operator would see."""
    stream = io.StringIO()
    configure_logging(level=logging.DEBUG, stream=stream)
    yield stream
    configure_logging(level=logging.CRITICAL + 1)  # silent again for other tests


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Backend, str]:
    """A backend and its database: a fresh SQLite file or PostgreSQL database."""
    name: Backend = request.param
    if name == "sqlite":
        return name, str(tmp_path / "state.db")
    return name, str(request.getfixturevalue("pg_dsn"))
