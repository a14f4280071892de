-- Checkpoints, their channel values, pending writes, and the head of each thread.

CREATE TABLE stateward_checkpoints (
    thread_id text NOT NULL,
    checkpoint_ns text NOT NULL DEFAULT '',
    checkpoint_id text NOT NULL,
    parent_checkpoint_id text,
    run_id text,
    -- The checkpoint without channel_versions, serialised; its channel_values hold
    -- only the small (inline) values. The others are in stateward_blobs, under the
    -- versions in blob_versions.
    checkpoint_type text NOT NULL,
    checkpoint bytea NOT NULL,
    channel_versions jsonb NOT NULL,
    blob_versions jsonb NOT NULL,
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

-- Each checkpoint with its channel values and pending writes as parallel arrays, so a
-- read is one statement; the joins run only for the rows a query returns.
CREATE VIEW stateward_checkpoint_tuples AS
SELECT c.thread_id, c.checkpoint_ns, c.checkpoint_id, c.parent_checkpoint_id,
       c.checkpoint_type, c.checkpoint, c.channel_versions, c.blob_versions, c.metadata,
       bl.channels AS value_channels, bl.versions AS value_versions,
       bl.types AS value_types, bl.blobs AS value_blobs,
       wr.task_ids AS write_task_ids, wr.channels AS write_channels,
       wr.types AS write_types, wr.blobs AS write_values
FROM stateward_checkpoints c
LEFT JOIN LATERAL (
    SELECT array_agg(b.channel) AS channels, array_agg(b.version) AS versions,
           array_agg(b.type) AS types, array_agg(b.blob) AS blobs
    FROM jsonb_each_text(c.blob_versions) AS v
    -- One primary-key probe per value, whatever the length of the history.
    CROSS JOIN LATERAL (
        SELECT b.channel, b.version, b.type, b.blob FROM stateward_blobs b
        WHERE b.thread_id = c.thread_id AND b.checkpoint_ns = c.checkpoint_ns
          AND b.channel = v.key AND b.version = v.value
    ) AS b
) AS bl ON true
LEFT JOIN LATERAL (
    SELECT array_agg(w.task_id ORDER BY w.task_path, w.task_id, w.idx) AS task_ids,
           array_agg(w.channel ORDER BY w.task_path, w.task_id, w.idx) AS channels,
           array_agg(w.type ORDER BY w.task_path, w.task_id, w.idx) AS types,
           array_agg(w.blob ORDER BY w.task_path, w.task_id, w.idx) AS blobs
    FROM stateward_writes w
    WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
      AND w.checkpoint_id = c.checkpoint_id
) AS wr ON true;
