-- Checkpoints, their channel values, pending writes, and the head of each thread.

CREATE TABLE stateward_checkpoints (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    run_id TEXT,
    -- The checkpoint without channel_versions, serialised; its channel_values hold
    -- only the small (inline) values. The others are in stateward_blobs, under the
    -- versions in blob_versions.
    checkpoint_type TEXT NOT NULL,
    checkpoint BLOB NOT NULL,
    channel_versions TEXT NOT NULL,  -- JSON object
    blob_versions TEXT NOT NULL,  -- JSON object
    metadata TEXT NOT NULL DEFAULT '{}',  -- JSON object
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
) WITHOUT ROWID;

CREATE INDEX stateward_checkpoints_run_id_idx
    ON stateward_checkpoints (run_id) WHERE run_id IS NOT NULL;

-- A value is stored once per (channel, version) and shared by every checkpoint that
-- still holds that version: unchanged channels are never rewritten.
CREATE TABLE stateward_blobs (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL,
    version TEXT NOT NULL,
    type TEXT NOT NULL,
    blob BLOB,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
) WITHOUT ROWID;

CREATE TABLE stateward_writes (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    channel TEXT NOT NULL,
    type TEXT NOT NULL,
    blob BLOB,
    task_path TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
) WITHOUT ROWID;

-- The newest checkpoint of each (thread, namespace); comparing it is how a stale
-- writer is caught.
CREATE TABLE stateward_heads (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns)
) WITHOUT ROWID;
