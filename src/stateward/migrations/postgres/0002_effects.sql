-- Recorded side effects of node code (stateward.effects): one row per effect key of a
-- task, so a replayed, retried or resumed task returns the recorded result instead of
-- acting again.

CREATE TABLE stateward_effects (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    task_id text NOT NULL,
    effect_key text NOT NULL,
    -- sha256 (hex) of the canonical request payload: a replay with another request
    -- under the same key is a conflict, not a replay.
    request_hash text NOT NULL,
    -- The effect's result, serialised by the saver's serde.
    result_type text NOT NULL,
    result bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (thread_id, checkpoint_ns, task_id, effect_key)
);
