-- Checkpoints, their channel values, pending writes, and the head of each thread.

CREATE TABLE stateward_checkpoints (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    checkpoint_id text NOT NULL,
    parent_checkpoint_id text,
    run_id text,
    -- The checkpoint without channel_values and channel_versions, serialised.
    checkpoint_type text NOT NULL,
    checkpoint bytea NOT NULL,
    channel_versions jsonb NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);

CREATE INDEX stateward_checkpoints_run_id_idx
    ON stateward_checkpoints (run_id) WHERE run_id IS NOT NULL;

-- A value is stored once per (channel, version) and shared by every checkpoint that
-- still holds that version: unchanged channels are never rewritten.
CREATE TABLE stateward_blobs (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    channel text NOT NULL,
    version text NOT NULL,
    type text NOT NULL,
    blob bytea,
    PRIMARY KEY (thread_id, checkpoint_ns, channel, version)
);

CREATE TABLE stateward_writes (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    checkpoint_id text NOT NULL,
    task_id text NOT NULL,
    idx integer NOT NULL,
    channel text NOT NULL,
    type text NOT NULL,
    blob bytea,
    task_path text NOT NULL DEFAULT '',
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);

-- The newest checkpoint of each (thread, namespace); its row lock serialises writers
-- of one thread, and comparing it is how a stale writer is caught.
CREATE TABLE stateward_heads (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    checkpoint_id text NOT NULL,
    PRIMARY KEY (thread_id, checkpoint_ns)
);
