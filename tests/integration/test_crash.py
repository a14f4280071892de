"""A process killed mid-run (SIGKILL): what was saved is whole, and the thread resumes.

The runs happen in child processes (``crash_child.py``); the parent kills them and
then inspects the database with savers of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.integration.crash_child import CHAIN, item
from tests.integration.helpers import (
    Backend,
    LineReader,
    kill_and_reap,
    open_saver,
    raw_sql,
    spawn_child,
    thread_config,
)

STARTUP = 60.0  # seconds for a child to import and reach its first signal
LINE = 30.0  # seconds for any later line from a child
KILLS = 10


@contextlib.contextmanager
def running(proc: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Make sure the child is gone when the block ends, however it ends."""
    try:
        yield proc
    finally:
        kill_and_reap(proc)


def _done(reader: LineReader, stderr: Path) -> dict[str, Any]:
    """Read status lines up to ``done <json>``; return the final state."""
    while True:
        try:
            line = reader.readline(LINE)
        except (EOFError, TimeoutError) as exc:
            raise AssertionError(f"{exc}; child stderr:\n{stderr.read_text()}") from exc
        if line.startswith("done "):
            result: dict[str, Any] = json.loads(line.removeprefix("done "))
            return result


def test_killed_during_node_3_resumes_without_rerunning_nodes_1_and_2(
    backend: tuple[Backend, str], tmp_path: Path
) -> None:
    """Killed in node 3, a 5-node run resumes elsewhere; nodes 1-2 never run again."""
    name, target = backend
    thread_id = f"thread-{uuid.uuid4()}"
    side = tmp_path / "executions.log"
    stderr = tmp_path / "child.err"
    args = ["chain", name, target, thread_id, "--side", str(side)]

    # The second process starts now, to import while the first one runs; it waits
    # for a go before it touches the database.
    second = spawn_child([*args, "--wait-go"], stderr, stdin=True)
    with running(second), running(spawn_child([*args, "--block"], stderr)) as first:
        line = LineReader(first).readline(STARTUP)
        assert line == "n3 started", stderr.read_text()
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=LINE) == -signal.SIGKILL
        assert side.read_text().split() == ["n1", "n2", "n3"]

        with open_saver(name, target) as saver:
            saved = saver.get_tuple(thread_config(thread_id))
            assert saved is not None
            assert saved.checkpoint["channel_values"]["steps"] == ["n1", "n2"]

        second_lines = LineReader(second)
        assert second_lines.readline(STARTUP) == "ready", stderr.read_text()
        assert second.stdin is not None
        second.stdin.write(b"go\n")
        second.stdin.flush()
        final = _done(second_lines, stderr)
        assert second.wait(timeout=LINE) == 0, stderr.read_text()
    assert final == {"steps": list(CHAIN)}

    executions = side.read_text().split()
    assert {node: executions.count(node) for node in CHAIN} == {
        "n1": 1,
        "n2": 1,
        "n3": 2,  # the killed attempt and the one that completed
        "n4": 1,
        "n5": 1,
    }
    with open_saver(name, target) as saver:
        latest = saver.get_tuple(thread_config(thread_id))
        assert latest is not None
        assert latest.checkpoint["channel_values"]["steps"] == list(CHAIN)


# -- no partial checkpoint is ever readable ------------------------------------------


def _stored_blob_keys(
    name: Backend, target: str, thread_id: str
) -> set[tuple[str, str]]:
    """The (channel, version) of every value row of the thread, read directly."""
    with raw_sql(name, target) as sql:
        rows = sql(
            "SELECT channel, version FROM stateward_blobs WHERE thread_id = %s",
            (thread_id,),
        )
    return {(str(channel), str(version)) for channel, version in rows}


def _values_in_rows(
    name: Backend, target: str, thread_id: str
) -> dict[str, set[tuple[str, str]]]:
    """Checkpoint id -> the (channel, version) it keeps in value rows (large values;
    small ones are inside the checkpoint row), read directly."""
    with raw_sql(name, target) as sql:
        rows = sql(
            "SELECT checkpoint_id, blob_versions FROM stateward_checkpoints"
            " WHERE thread_id = %s",
            (thread_id,),
        )
    return {
        str(checkpoint_id): {
            (ch, str(v))
            for ch, v in (
                json.loads(versions) if isinstance(versions, str) else versions
            ).items()
        }
        for checkpoint_id, versions in rows
    }


def _check_history(name: Backend, target: str, thread_id: str) -> int:
    """Every checkpoint of the thread loads whole and consistent; return the newest
    checkpoint's count."""
    config = thread_config(thread_id)
    blob_keys = _stored_blob_keys(name, target, thread_id)
    in_rows = _values_in_rows(name, target, thread_id)
    with open_saver(name, target) as saver:
        listed = list(saver.list(config))
        assert listed, "the thread has no checkpoint at all"
        ids = {t.config["configurable"]["checkpoint_id"] for t in listed}
        for entry in listed:
            checkpoint_id = entry.config["configurable"]["checkpoint_id"]
            loaded = saver.get_tuple(thread_config(thread_id, checkpoint_id))
            assert loaded is not None, checkpoint_id
            assert loaded.checkpoint["id"] == checkpoint_id
            versions = loaded.checkpoint["channel_versions"]
            values = loaded.checkpoint["channel_values"]
            # Each value row the checkpoint names was stored with it.
            missing = in_rows[checkpoint_id] - blob_keys
            assert not missing, (checkpoint_id, missing)
            assert {ch for ch, _ in in_rows[checkpoint_id]} <= versions.keys()
            parent = loaded.parent_config
            if parent is not None:
                assert parent["configurable"]["checkpoint_id"] in ids, checkpoint_id
            step = loaded.metadata["step"]
            if step < 0:
                continue  # the input checkpoint: nothing but the input yet
            # Both channels change at every step, in the same checkpoint.
            assert {"items", "count"} <= versions.keys(), (checkpoint_id, versions)
            assert values["count"] == step, (checkpoint_id, step, values["count"])
            assert values["items"] == [item(i) for i in range(step)], checkpoint_id
        latest = saver.get_tuple(config)
        assert latest is not None
        assert latest.config == listed[0].config
        count: int = latest.checkpoint["channel_values"].get("count", 0)
        return count


def _next_line(reader: LineReader, stderr: Path) -> str:
    try:
        return reader.readline(LINE)
    except (EOFError, TimeoutError) as exc:
        raise AssertionError(f"{exc}; child stderr:\n{stderr.read_text()}") from exc


def _step(reader: LineReader, stderr: Path) -> int:
    line = _next_line(reader, stderr)
    assert line.startswith("step "), (line, stderr.read_text())
    return int(line.removeprefix("step "))


def _exit_code(reader: LineReader, stderr: Path, pid: int) -> int:
    """Skip what the run still printed; return how its process ended."""
    while not (line := _next_line(reader, stderr)).startswith(f"exit {pid} "):
        assert line.startswith(("step ", "done ")), line
    return int(line.split()[2])


def test_killed_at_random_moments_no_partial_checkpoint_is_readable(
    backend: tuple[Backend, str], tmp_path: Path
) -> None:
    """After SIGKILLs at random moments every checkpoint loads whole; newest resumes."""
    name, target = backend
    thread_id = f"thread-{uuid.uuid4()}"
    stderr = tmp_path / "child.err"
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    # One process imports everything once, then forks a new process for each run.
    server = spawn_child(["loop-server", name, target, thread_id], stderr, stdin=True)
    reader = LineReader(server)
    assert server.stdin is not None

    def start(until: int, timeout: float) -> int:
        assert server.stdin is not None
        server.stdin.write(f"go {until}\n".encode())
        server.stdin.flush()
        line = reader.readline(timeout)
        assert line.startswith("child "), (line, stderr.read_text())
        return int(line.removeprefix("child "))

    count = 0
    # Killing the server kills its current run too (they die with their parent).
    with running(server):
        for kill in range(KILLS):
            pid = start(10**9, STARTUP)
            resumed_at = _step(reader, stderr)
            # It resumes where the newest checkpoint left off (or one step on, if the
            # killed step's writes were saved before its checkpoint was).
            assert resumed_at in (count, count + 1), (seed, kill, resumed_at, count)
            last_step = resumed_at
            for _ in range(rng.randint(0, 8)):
                last_step = _step(reader, stderr)
            # A random moment within the next step or checkpoint write: this pause
            # picks when to kill; it does not wait for anything.
            time.sleep(rng.uniform(0, 0.01))
            os.kill(pid, signal.SIGKILL)
            assert _exit_code(reader, stderr, pid) == -signal.SIGKILL
            count = _check_history(name, target, thread_id)
            # The checkpoint the last reported step started from had been saved.
            assert count >= last_step, (seed, kill, count, last_step)

        pid = start(count + 3, LINE)
        final = json.loads(_next_line_after_steps(reader, stderr).removeprefix("done "))
        assert _exit_code(reader, stderr, pid) == 0, stderr.read_text()
        server.stdin.close()
        assert server.wait(timeout=LINE) == 0
    assert final["count"] == count + 3
    assert final["items"] == [item(i) for i in range(count + 3)]
    assert _check_history(name, target, thread_id) == count + 3


def _next_line_after_steps(reader: LineReader, stderr: Path) -> str:
    """The first line that is not a ``step`` report."""
    while (line := _next_line(reader, stderr)).startswith("step "):
        pass
    return line
