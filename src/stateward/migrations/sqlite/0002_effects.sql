-- Recorded side effects of node code (stateward.effects): one row per effect key of a
-- task, so a replayed, retried or resumed task returns the recorded result instead of
-- acting again.

CREATE TABLE stateward_effects (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    task_id TEXT NOT NULL,
    effect_key TEXT NOT NULL,
    -- sha256 (hex) of the canonical request payload: a replay with another request
    -- under the same key is a conflict, not a replay.
    request_hash TEXT NOT NULL,
    -- The effect's result, serialised by the saver's serde.
    result_type TEXT NOT NULL,
    result BLOB,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (thread_id, checkpoint_ns, task_id, effect_key)
) WITHOUT ROWID;
