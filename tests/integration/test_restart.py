"""PostgreSQL going away: savers ride out a restart, and say so when it stays down.

A restart is simulated by terminating every server process of the test's database
(the server itself is shared and keeps running).
"""

from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from stateward.checkpoint import AsyncPostgresSaver, PostgresSaver
from tests.integration.helpers import (
    UNREACHABLE_SCRIPT,
    LineReader,
    build_turn_graph,
    contents,
    kill_and_reap,
    spawn_child,
    terminate_backends,
    thread_config,
    turn_contents,
    turn_input,
    turn_marks,
)

NODES = 2
Admin = psycopg.Connection[tuple[Any, ...]]


def test_sync_saver_works_after_backends_are_terminated(
    pg_dsn: str, pg_admin: Admin
) -> None:
    """PostgresSaver: after its backends are terminated, the next calls succeed."""
    config = thread_config(f"thread-{uuid.uuid4()}")
    with PostgresSaver.from_conn_string(pg_dsn, pool_size=4) as saver:
        saver.setup()
        graph = build_turn_graph(saver, NODES)
        graph.invoke(turn_input("t1"), config, durability="sync")

        assert terminate_backends(pg_admin, pg_dsn) >= 1
        result = graph.invoke(turn_input("t2"), config, durability="sync")
        assert result["marks"] == turn_marks("t1", NODES) + turn_marks("t2", NODES)

        assert terminate_backends(pg_admin, pg_dsn) >= 1
        state = graph.get_state(config)
        assert contents(state.values) == turn_contents("t1", NODES) + turn_contents(
            "t2", NODES
        )
        assert terminate_backends(pg_admin, pg_dsn) >= 1
        assert len(list(saver.list(config))) >= 2 * (NODES + 1)


def test_turn_survives_backends_terminated_between_its_nodes(
    pg_dsn: str, pg_admin: Admin
) -> None:
    """PostgresSaver: a run whose backends are terminated mid-run completes whole."""
    config = thread_config(f"thread-{uuid.uuid4()}")
    terminated: list[int] = []

    def restart() -> None:
        terminated.append(terminate_backends(pg_admin, pg_dsn))

    with PostgresSaver.from_conn_string(pg_dsn, pool_size=4) as saver:
        saver.setup()
        graph = build_turn_graph(saver, NODES, before={2: restart})
        result = graph.invoke(turn_input("t1"), config, durability="sync")
    assert terminated
    assert terminated[0] >= 1
    assert result["marks"] == turn_marks("t1", NODES)
    with PostgresSaver.from_conn_string(pg_dsn, pool_size=1) as fresh:
        state = build_turn_graph(fresh, NODES).get_state(config)
        assert state.values["marks"] == turn_marks("t1", NODES)
        assert state.next == ()


async def test_async_saver_works_after_backends_are_terminated(
    pg_dsn: str, pg_admin: Admin
) -> None:
    """AsyncPostgresSaver: after its backends are terminated, the next calls succeed."""
    config = thread_config(f"thread-{uuid.uuid4()}")
    async with AsyncPostgresSaver.from_conn_string(pg_dsn, pool_size=4) as saver:
        await saver.setup()
        graph = build_turn_graph(saver, NODES)
        await graph.ainvoke(turn_input("t1"), config, durability="sync")

        assert terminate_backends(pg_admin, pg_dsn) >= 1
        result = await graph.ainvoke(turn_input("t2"), config, durability="sync")
        assert result["marks"] == turn_marks("t1", NODES) + turn_marks("t2", NODES)

        assert terminate_backends(pg_admin, pg_dsn) >= 1
        state = await graph.aget_state(config)
        assert state.values["marks"] == result["marks"]
        assert terminate_backends(pg_admin, pg_dsn) >= 1
        assert await saver.aget_tuple(config) is not None


def _free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


DEADLINE = 3.0
GRACE = 5.0  # seconds allowed past the retry deadline: imports, connects, backoff


def test_unreachable_database_raises_storage_unavailable_within_the_deadline(
    tmp_path: Path,
) -> None:
    """No server: StorageUnavailableError, naming the cause, within the deadline."""
    port = _free_port()
    dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres?connect_timeout=2"
    # In a process of its own, so that a saver that hangs is stopped at the bound.
    proc = spawn_child(
        [dsn, "3", str(DEADLINE)], tmp_path / "child.err", script=UNREACHABLE_SCRIPT
    )
    try:
        line = LineReader(proc).readline(DEADLINE + GRACE)
    except TimeoutError:
        pytest.fail(
            f"no answer {DEADLINE + GRACE} s after the start, with a retry deadline "
            f"of {DEADLINE} s"
        )
    finally:
        kill_and_reap(proc)
    report = json.loads(line)
    assert report["unavailable"], report
    assert "refused" in report["message"].lower() or str(port) in report["message"]
