"""What each saver method does to the database, written once for every driver.

Each operation is a generator: it yields the statements it needs (one, or a tuple
to send together) and receives their results, so the same code runs on sync and
async connections to PostgreSQL and on SQLite. Nothing here does I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
)
from langgraph.checkpoint.serde.base import SerializerProtocol

from stateward import errors
from stateward.core.heads import Expectation, ThreadKey
from stateward.observability import metrics
from stateward.statements import DuplicateKeyError, Json, Op, Row, Statement

INLINE_STR_LIMIT = 256
"""Strings up to this length are kept inside the checkpoint, like other scalars."""


def _is_inline(value: Any) -> bool:
    """Small scalars live in the checkpoint row: a value row each would cost more."""
    if value is None or isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and len(value) <= INLINE_STR_LIMIT


def checkpoint_config(key: ThreadKey, checkpoint_id: str) -> RunnableConfig:
    """The config that names one checkpoint."""
    return _config(key[0], key[1], checkpoint_id)


def _config(thread_id: str, checkpoint_ns: str, checkpoint_id: str) -> RunnableConfig:
    return {
        "configurable": {
            "thread_id": thread_id,
            "checkpoint_ns": checkpoint_ns,
            "checkpoint_id": checkpoint_id,
        }
    }


def _from_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _strip_nul(value: Any) -> Any:
    """JSON columns cannot hold U+0000; LangGraph strips it from metadata too."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip_nul(v) for v in value]
    return value


# -- reads -------------------------------------------------------------------------


def get_tuple(
    serde: SerializerProtocol,
    key: ThreadKey,
    checkpoint_id: str | None,
    *,
    joined: bool,
) -> Op[CheckpointTuple | None]:
    """The checkpoint asked for (the newest when ``checkpoint_id`` is None).

    ``joined``: the dialect returns values and writes with the row in one statement
    (PostgreSQL); otherwise they are fetched by a second batch (SQLite).
    """
    thread_id, checkpoint_ns = key
    params = {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns}
    query = "get_latest_checkpoint" if checkpoint_id is None else "get_checkpoint"
    if checkpoint_id is not None:
        params["checkpoint_id"] = checkpoint_id
    row = yield Statement(query + ("_joined" if joined else ""), params, fetch="one")
    if row is None:
        return None
    tuples = (
        _from_joined(serde, [row]) if joined else (yield from _hydrate(serde, [row]))
    )
    return tuples[0]


def list_tuples(
    serde: SerializerProtocol,
    config: RunnableConfig | None,
    *,
    filter: Mapping[str, Any] | None,
    before: RunnableConfig | None,
    limit: int | None,
    joined: bool,
) -> Op[list[CheckpointTuple]]:
    """Checkpoints matching ``config`` and ``filter``, newest first."""
    configurable = (config or {}).get("configurable", {})
    before_id = (before or {}).get("configurable", {}).get("checkpoint_id")
    params = {
        "thread_id": configurable.get("thread_id"),
        "checkpoint_ns": configurable.get("checkpoint_ns"),
        "checkpoint_id": configurable.get("checkpoint_id"),
        "before": before_id,
        "filter": Json(_strip_nul(dict(filter))) if filter else None,
        "limit": limit,
    }
    query = "list_checkpoints_joined" if joined else "list_checkpoints"
    rows = yield Statement(query, params, fetch="all")
    if not rows:
        return []
    if joined:
        return _from_joined(serde, rows)
    return (yield from _hydrate(serde, rows))


def _from_joined(
    serde: SerializerProtocol, rows: Sequence[Row]
) -> list[CheckpointTuple]:
    """Tuples from rows that carry their values and writes as parallel arrays."""
    tuples = []
    loaded = 0
    for row in rows:
        thread_id, ns, checkpoint_id = row[0], row[1], row[2]
        loaded += len(row[5]) + sum(len(b or b"") for b in row[12] or ())
        body = serde.loads_typed((row[4], row[5]))
        body["channel_versions"] = _from_json(row[6])
        blob_rows = zip(*(row[9:13] if row[9] else ((),) * 4), strict=True)
        values = _group_values(
            serde, ((thread_id, ns, c, v, t, b) for c, v, t, b in blob_rows)
        )
        write_rows = zip(*(row[13:17] if row[13] else ((),) * 4), strict=True)
        writes = _group_writes(
            serde,
            ((thread_id, ns, checkpoint_id, i, c, t, b) for i, c, t, b in write_rows),
        )
        tuples.append(_tuple(row[:9], body, values, writes))
    metrics.CHECKPOINT_READ_BYTES.observe(loaded)
    return tuples


def _hydrate(
    serde: SerializerProtocol, rows: Sequence[Row]
) -> Op[list[CheckpointTuple]]:
    """Load the values and pending writes of checkpoint rows in one round trip."""
    bodies = []
    blob_keys: list[list[str]] = []
    write_keys: list[list[str]] = []
    for thread_id, ns, checkpoint_id, _, ctype, cbody, versions, in_blobs, _ in rows:
        body = serde.loads_typed((ctype, cbody))
        body["channel_versions"] = _from_json(versions)
        bodies.append(body)
        blob_keys.extend(
            [thread_id, ns, ch, v] for ch, v in _from_json(in_blobs).items()
        )
        write_keys.append([thread_id, ns, checkpoint_id])
    blob_rows, write_rows = yield (
        Statement("get_blobs", {"keys": Json(blob_keys)}, fetch="all"),
        Statement("get_writes", {"keys": Json(write_keys)}, fetch="all"),
    )
    values = _group_values(serde, blob_rows)
    writes = _group_writes(serde, write_rows)
    loaded = sum(len(row[5]) for row in rows) + sum(len(b[5] or b"") for b in blob_rows)
    metrics.CHECKPOINT_READ_BYTES.observe(loaded)
    return [
        _tuple(row, body, values, writes)
        for row, body in zip(rows, bodies, strict=True)
    ]


def _group_values(
    serde: SerializerProtocol, blob_rows: Iterable[Row]
) -> dict[tuple[str, str, str, str], Any]:
    return {
        (t, ns, ch, version): serde.loads_typed((type_, blob))
        for t, ns, ch, version, type_, blob in blob_rows
        if type_ != "empty"
    }


def _group_writes(
    serde: SerializerProtocol, write_rows: Iterable[Row]
) -> dict[tuple[str, str, str], list[PendingWrite]]:
    grouped: dict[tuple[str, str, str], list[PendingWrite]] = {}
    for t, ns, checkpoint_id, task_id, channel, type_, blob in write_rows:
        value = serde.loads_typed((type_, blob))
        grouped.setdefault((t, ns, checkpoint_id), []).append((task_id, channel, value))
    return grouped


def _tuple(
    row: Row,
    body: dict[str, Any],
    values: Mapping[tuple[str, str, str, str], Any],
    writes: Mapping[tuple[str, str, str], list[PendingWrite]],
) -> CheckpointTuple:
    thread_id, ns, checkpoint_id, parent_id, _, _, _, _, metadata = row
    channel_values = body.setdefault("channel_values", {})  # the inline values
    for ch, version in body["channel_versions"].items():
        value_key = (thread_id, ns, ch, str(version))
        if value_key in values:
            channel_values[ch] = values[value_key]
    return CheckpointTuple(
        config=_config(thread_id, ns, checkpoint_id),
        checkpoint=body,  # type: ignore[arg-type]  # rebuilt Checkpoint dict
        metadata=_from_json(metadata),
        parent_config=_config(thread_id, ns, parent_id) if parent_id else None,
        pending_writes=writes.get((thread_id, ns, checkpoint_id), []),
    )


# -- writes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckpointRows:
    """A checkpoint serialised for storage (computed once, reused by retries)."""

    key: ThreadKey
    checkpoint_id: str
    parent_id: str | None
    checkpoint: Mapping[str, Any]
    blobs: Sequence[Mapping[str, Any]]

    @property
    def size(self) -> int:
        """Serialised bytes: the checkpoint body and the values stored with it."""
        values = sum(len(b["blob"] or b"") for b in self.blobs)
        return len(self.checkpoint["checkpoint"]) + values


def checkpoint_rows(
    serde: SerializerProtocol,
    key: ThreadKey,
    checkpoint: Checkpoint,
    *,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
    parent_id: str | None,
) -> CheckpointRows:
    """Serialise a checkpoint: its body with the small values, and the large values
    that changed (the others are already stored under their versions)."""
    thread_id, ns = key
    values = checkpoint["channel_values"]
    inline = {ch: v for ch, v in values.items() if _is_inline(v)}
    body = {k: v for k, v in checkpoint.items() if k != "channel_versions"}
    body["channel_values"] = inline
    ctype, cbody = serde.dumps_typed(body)
    versions = checkpoint["channel_versions"]
    blobs = []
    for channel, version in new_versions.items():
        if channel in inline:
            continue
        type_, blob = (
            serde.dumps_typed(values[channel]) if channel in values else ("empty", None)
        )
        blobs.append(
            {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "channel": channel,
                "version": str(version),
                "type": type_,
                "blob": blob,
            }
        )
    run_id = metadata.get("run_id")
    row = {
        "thread_id": thread_id,
        "checkpoint_ns": ns,
        "checkpoint_id": checkpoint["id"],
        "parent_checkpoint_id": parent_id,
        "run_id": str(run_id) if run_id is not None else None,
        "checkpoint_type": ctype,
        "checkpoint": cbody,
        "channel_versions": Json(dict(versions)),
        "blob_versions": Json(
            {ch: str(v) for ch, v in versions.items() if ch not in inline}
        ),
        "metadata": Json(_strip_nul(dict(metadata))),
    }
    return CheckpointRows(key, checkpoint["id"], parent_id, row, blobs)


def put_in_one_statement(rows: CheckpointRows, expect: Expectation) -> Op[None]:
    """:func:`put` as a single statement (PostgreSQL): one round trip, one commit."""
    thread_id, ns = rows.key
    params = {
        **rows.checkpoint,
        "any_head": expect.any_head,
        "expected": sorted(h for h in expect.heads if h is not None),
        "none_ok": expect.any_head or None in expect.heads,
        "value_channels": [b["channel"] for b in rows.blobs],
        "value_versions": [b["version"] for b in rows.blobs],
        "value_types": [b["type"] for b in rows.blobs],
        "value_blobs": [b["blob"] for b in rows.blobs],
    }
    try:
        accepted, head = yield Statement("put_checkpoint", params, fetch="one")
    except DuplicateKeyError:
        raise _started_concurrently(rows) from None
    if not accepted:
        raise errors.ConflictError(
            thread_id=thread_id,
            checkpoint_ns=ns,
            built_on=rows.parent_id,
            current_head=head,
        )


def _started_concurrently(rows: CheckpointRows) -> errors.ConflictError:
    return errors.ConflictError(
        thread_id=rows.key[0],
        checkpoint_ns=rows.key[1],
        built_on=rows.parent_id,
        current_head=None,
        reason="another writer started this thread at the same moment",
    )


def put(rows: CheckpointRows, expect: Expectation) -> Op[None]:
    """Write a checkpoint and move the head, if the head is one the writer expects."""
    thread_id, ns = rows.key
    head_params = {
        "thread_id": thread_id,
        "checkpoint_ns": ns,
        "checkpoint_id": rows.checkpoint_id,
    }
    head_row = yield Statement("lock_head", head_params, fetch="one")
    head = head_row[0] if head_row else None
    if not expect.allows(head):
        raise errors.ConflictError(
            thread_id=thread_id,
            checkpoint_ns=ns,
            built_on=rows.parent_id,
            current_head=head,
        )
    batch = [Statement("insert_blob", many=rows.blobs)] if rows.blobs else []
    batch.append(Statement("upsert_checkpoint", rows.checkpoint))
    batch.append(Statement("advance_head" if head_row else "insert_head", head_params))
    try:
        yield tuple(batch)
    except DuplicateKeyError:
        # Another writer created this thread's head between our read and our insert.
        raise _started_concurrently(rows) from None


def put_writes(
    serde: SerializerProtocol,
    key: ThreadKey,
    checkpoint_id: str,
    writes: Sequence[tuple[str, Any]],
    *,
    task_id: str,
    task_path: str,
) -> Op[None]:
    """Store a task's pending writes; replaying a (task, index) changes nothing."""
    thread_id, ns = key
    rows = []
    for idx, (channel, value) in enumerate(writes):
        type_, blob = serde.dumps_typed(value)
        rows.append(
            {
                "thread_id": thread_id,
                "checkpoint_ns": ns,
                "checkpoint_id": checkpoint_id,
                "task_id": task_id,
                "idx": WRITES_IDX_MAP.get(channel, idx),
                "channel": channel,
                "type": type_,
                "blob": blob,
                "task_path": task_path,
            }
        )
    if not rows:
        return
    # Special writes (errors, interrupts) replace an earlier one; ordinary ones are
    # written once, so a replayed task cannot change what was recorded.
    special = all(channel in WRITES_IDX_MAP for channel, _ in writes)
    yield Statement("upsert_write" if special else "insert_write", many=rows)


def delete_threads(thread_ids: Sequence[str]) -> Op[None]:
    """Remove every checkpoint, value, write, head and effect record of the threads."""
    params = {"thread_ids": list(thread_ids)}
    yield (
        Statement("delete_thread_writes", params),
        Statement("delete_thread_blobs", params),
        Statement("delete_thread_checkpoints", params),
        Statement("delete_thread_heads", params),
        Statement("delete_thread_effects", params),
    )


def delete_for_runs(run_ids: Sequence[str]) -> Op[None]:
    """Remove the checkpoints (and their writes) that the runs wrote."""
    params = {"run_ids": list(run_ids)}
    yield Statement("delete_run_writes", params)
    deleted = yield Statement("delete_run_checkpoints", params, fetch="all")
    threads = {"thread_ids": sorted({row[0] for row in deleted})}
    if threads["thread_ids"]:
        yield (
            Statement("reset_heads", threads),
            Statement("drop_empty_heads", threads),
        )


def copy_thread(source: str, target: str) -> Op[None]:
    """Copy a thread's whole history, values, writes and heads to another id."""
    params = {"source": source, "target": target}
    yield (
        Statement("copy_blobs", params),
        Statement("copy_checkpoints", params),
        Statement("copy_writes", params),
        Statement("copy_heads", params),
    )


def prune(thread_ids: Sequence[str], strategy: str) -> Op[None]:
    """Keep only the newest checkpoint of each namespace, or delete the threads."""
    if strategy == "delete":
        yield from delete_threads(thread_ids)
        return
    if strategy != "keep_latest":
        raise errors.InvalidInputError(
            f"unknown prune strategy {strategy!r}; use 'keep_latest' or 'delete'"
        )
    params = {"thread_ids": list(thread_ids)}
    # Holding the heads keeps writers of these threads out until the prune commits.
    yield Statement("lock_thread_heads", params, fetch="all")
    yield (
        Statement("prune_writes", params),
        Statement("prune_checkpoints", params),
        Statement("prune_blobs", params),
    )
