"""A real PostgreSQL restart in the middle of a run: the run still finishes right.

The restart is the machine's own server (``pg_ctlcluster ... restart -m fast``):
every pooled connection dies, and the next checkpoint write must ride it out.
"""

from __future__ import annotations

import operator
import shutil
import subprocess
from pathlib import Path
from typing import Annotated, Any, TypedDict

import psycopg
import pytest
from langgraph.graph import END, START, StateGraph
from prometheus_client import REGISTRY

from stateward.checkpoint import AsyncPostgresSaver, PostgresSaver
from tests.conftest import ADMIN_DSN

RESTART_TIMEOUT = 60  # seconds; a fast restart takes about 2 here


def _restart_postgres() -> None:
    """Restart the local cluster and wait until it accepts connections again."""
    if shutil.which("pg_ctlcluster") is None:
        pytest.fail("pg_ctlcluster is needed to restart PostgreSQL", pytrace=False)
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]
    subprocess.run(
        [*command, "restart", "-m", "fast"], check=True, timeout=RESTART_TIMEOUT
    )


def _started_at() -> object:
    with psycopg.connect(ADMIN_DSN, connect_timeout=10) as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]


def _retries() -> float:
    value = REGISTRY.get_sample_value(
        "stateward_storage_retries_total", {"backend": "postgres"}
    )
    return value or 0.0


class Chain(TypedDict):
    """Each node appends its name."""

    log: Annotated[list[str], operator.add]


def _graph(saver: Any) -> Any:
    builder = StateGraph(Chain)
    builder.add_node("before", lambda state: {"log": ["before"]})

    def restart(state: Chain) -> dict[str, list[str]]:
        _restart_postgres()
        return {"log": ["restart"]}

    builder.add_node("restart", restart)
    builder.add_node("after", lambda state: {"log": ["after"]})
    builder.add_edge(START, "before")
    builder.add_edge("before", "restart")
    builder.add_edge("restart", "after")
    builder.add_edge("after", END)
    return builder.compile(checkpointer=saver)


@pytest.mark.postgres
def test_sync_run_survives_a_database_restart(pg_dsn: str) -> None:
    """A run whose middle node restarts PostgreSQL completes with the full state."""
    started = _started_at()
    retries = _retries()
    with PostgresSaver.from_conn_string(pg_dsn, pool_size=4) as saver:
        saver.setup()
        config: Any = {"configurable": {"thread_id": "restart"}}
        result = _graph(saver).invoke({"log": []}, config, durability="sync")
        assert result["log"] == ["before", "restart", "after"]
        assert _graph(saver).get_state(config).values == result
    assert _started_at() != started, "the server was not restarted"
    assert _retries() > retries, "the restart should have been ridden out by retries"


@pytest.mark.postgres
async def test_async_run_survives_a_database_restart(pg_dsn: str) -> None:
    """The async saver rides out the same restart."""
    async with AsyncPostgresSaver.from_conn_string(pg_dsn, pool_size=4) as saver:
        await saver.setup()
        config: Any = {"configurable": {"thread_id": "restart"}}
        result = await _graph(saver).ainvoke({"log": []}, config, durability="sync")
        assert result["log"] == ["before", "restart", "after"]
        state = await _graph(saver).aget_state(config)
        assert state.values == result
