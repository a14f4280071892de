-- Named queries for PostgreSQL; loaded by stateward.checkpoint._sql.
-- Every query takes named parameters; none is ever built from strings.

-- name: put_checkpoint
-- Write a checkpoint with its changed values and move the head, in one statement,
-- only if the head (locked here) is one the writer expects; returns
-- (accepted, head before). Two writers starting a new thread at once: the second
-- fails on the heads primary key.
WITH head AS (
    SELECT checkpoint_id FROM stateward_heads
    WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(checkpoint_ns)s
    FOR UPDATE
), verdict AS (
    SELECT CASE
        WHEN %(any_head)s THEN true
        WHEN EXISTS (SELECT 1 FROM head)
            THEN (SELECT checkpoint_id FROM head) = ANY(%(expected)s::text[])
        ELSE %(none_ok)s
    END AS accepted
), new_head AS (
    INSERT INTO stateward_heads (thread_id, checkpoint_ns, checkpoint_id)
    SELECT %(thread_id)s, %(checkpoint_ns)s, %(checkpoint_id)s
    WHERE (SELECT accepted FROM verdict) AND NOT EXISTS (SELECT 1 FROM head)
), moved_head AS (
    UPDATE stateward_heads
    SET checkpoint_id = GREATEST(checkpoint_id, %(checkpoint_id)s)
    WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(checkpoint_ns)s
      AND (SELECT accepted FROM verdict) AND EXISTS (SELECT 1 FROM head)
), values_written AS (
    INSERT INTO stateward_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
    SELECT %(thread_id)s, %(checkpoint_ns)s, b.channel, b.version, b.type, b.blob
    FROM unnest(%(value_channels)s::text[], %(value_versions)s::text[],
                %(value_types)s::text[], %(value_blobs)s::bytea[])
         AS b(channel, version, type, blob)
    WHERE (SELECT accepted FROM verdict)
    ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING
), checkpoint_written AS (
    INSERT INTO stateward_checkpoints (
        thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,
        checkpoint_type, checkpoint, channel_versions, blob_versions, metadata)
    SELECT %(thread_id)s, %(checkpoint_ns)s, %(checkpoint_id)s, %(parent_checkpoint_id)s,
           %(run_id)s, %(checkpoint_type)s, %(checkpoint)s, %(channel_versions)s,
           %(blob_versions)s, %(metadata)s
    WHERE (SELECT accepted FROM verdict)
    ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
        checkpoint_type = EXCLUDED.checkpoint_type,
        checkpoint = EXCLUDED.checkpoint,
        channel_versions = EXCLUDED.channel_versions,
        blob_versions = EXCLUDED.blob_versions,
        metadata = EXCLUDED.metadata,
        run_id = EXCLUDED.run_id
)
SELECT (SELECT accepted FROM verdict), (SELECT checkpoint_id FROM head);

-- name: insert_write
-- A batch of writes, given as one array per column.
INSERT INTO stateward_writes (
    thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
SELECT * FROM unnest(
    %(thread_id)s::text[], %(checkpoint_ns)s::text[], %(checkpoint_id)s::text[],
    %(task_id)s::text[], %(idx)s::integer[], %(channel)s::text[], %(type)s::text[],
    %(blob)s::bytea[], %(task_path)s::text[])
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING;

-- name: upsert_write
-- A batch of writes, given as one array per column; replaces what is there.
INSERT INTO stateward_writes (
    thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
SELECT * FROM unnest(
    %(thread_id)s::text[], %(checkpoint_ns)s::text[], %(checkpoint_id)s::text[],
    %(task_id)s::text[], %(idx)s::integer[], %(channel)s::text[], %(type)s::text[],
    %(blob)s::bytea[], %(task_path)s::text[])
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET
    channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob,
    task_path = EXCLUDED.task_path;

-- name: get_checkpoint_joined
SELECT * FROM stateward_checkpoint_tuples
WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(checkpoint_ns)s
  AND checkpoint_id = %(checkpoint_id)s;

-- name: get_latest_checkpoint_joined
SELECT * FROM stateward_checkpoint_tuples
WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(checkpoint_ns)s
ORDER BY checkpoint_id DESC
LIMIT 1;

-- name: list_checkpoints_joined
SELECT * FROM stateward_checkpoint_tuples
WHERE (%(thread_id)s::text IS NULL OR thread_id = %(thread_id)s)
  AND (%(checkpoint_ns)s::text IS NULL OR checkpoint_ns = %(checkpoint_ns)s)
  AND (%(checkpoint_id)s::text IS NULL OR checkpoint_id = %(checkpoint_id)s)
  AND (%(before)s::text IS NULL OR checkpoint_id < %(before)s)
  AND (%(filter)s::jsonb IS NULL OR metadata @> %(filter)s::jsonb)
ORDER BY checkpoint_id DESC
LIMIT %(limit)s;

-- name: delete_thread_checkpoints
DELETE FROM stateward_checkpoints WHERE thread_id = ANY(%(thread_ids)s);

-- name: delete_thread_blobs
DELETE FROM stateward_blobs WHERE thread_id = ANY(%(thread_ids)s);

-- name: delete_thread_writes
DELETE FROM stateward_writes WHERE thread_id = ANY(%(thread_ids)s);

-- name: delete_thread_heads
DELETE FROM stateward_heads WHERE thread_id = ANY(%(thread_ids)s);

-- name: lock_thread_heads
SELECT thread_id, checkpoint_ns, checkpoint_id FROM stateward_heads
WHERE thread_id = ANY(%(thread_ids)s)
ORDER BY thread_id, checkpoint_ns
FOR UPDATE;

-- name: delete_run_writes
DELETE FROM stateward_writes w
USING stateward_checkpoints c
WHERE c.run_id = ANY(%(run_ids)s)
  AND w.thread_id = c.thread_id AND w.checkpoint_ns = c.checkpoint_ns
  AND w.checkpoint_id = c.checkpoint_id;

-- name: delete_run_checkpoints
DELETE FROM stateward_checkpoints WHERE run_id = ANY(%(run_ids)s)
RETURNING thread_id;

-- name: reset_heads
-- Point each head of the given threads back at the newest checkpoint left.
UPDATE stateward_heads h SET checkpoint_id = latest.checkpoint_id
FROM (
    SELECT thread_id, checkpoint_ns, max(checkpoint_id) AS checkpoint_id
    FROM stateward_checkpoints WHERE thread_id = ANY(%(thread_ids)s)
    GROUP BY thread_id, checkpoint_ns
) AS latest
WHERE h.thread_id = latest.thread_id AND h.checkpoint_ns = latest.checkpoint_ns;

-- name: drop_empty_heads
DELETE FROM stateward_heads h
WHERE h.thread_id = ANY(%(thread_ids)s) AND NOT EXISTS (
    SELECT 1 FROM stateward_checkpoints c
    WHERE c.thread_id = h.thread_id AND c.checkpoint_ns = h.checkpoint_ns);

-- name: copy_checkpoints
INSERT INTO stateward_checkpoints (
    thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,
    checkpoint_type, checkpoint, channel_versions, blob_versions, metadata, created_at)
SELECT %(target)s, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,
       checkpoint_type, checkpoint, channel_versions, blob_versions, metadata, created_at
FROM stateward_checkpoints WHERE thread_id = %(source)s
ON CONFLICT DO NOTHING;

-- name: copy_blobs
INSERT INTO stateward_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
SELECT %(target)s, checkpoint_ns, channel, version, type, blob
FROM stateward_blobs WHERE thread_id = %(source)s
ON CONFLICT DO NOTHING;

-- name: copy_writes
INSERT INTO stateward_writes (
    thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
SELECT %(target)s, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob,
       task_path
FROM stateward_writes WHERE thread_id = %(source)s
ON CONFLICT DO NOTHING;

-- name: copy_heads
INSERT INTO stateward_heads (thread_id, checkpoint_ns, checkpoint_id)
SELECT %(target)s, checkpoint_ns, checkpoint_id
FROM stateward_heads WHERE thread_id = %(source)s
ON CONFLICT (thread_id, checkpoint_ns) DO UPDATE
SET checkpoint_id = GREATEST(stateward_heads.checkpoint_id, EXCLUDED.checkpoint_id);

-- name: prune_writes
-- Writes of every checkpoint that is not the newest of its namespace.
DELETE FROM stateward_writes w
WHERE w.thread_id = ANY(%(thread_ids)s) AND NOT EXISTS (
    SELECT 1 FROM stateward_heads h
    WHERE h.thread_id = w.thread_id AND h.checkpoint_ns = w.checkpoint_ns
      AND h.checkpoint_id = w.checkpoint_id);

-- name: prune_checkpoints
DELETE FROM stateward_checkpoints c
WHERE c.thread_id = ANY(%(thread_ids)s) AND NOT EXISTS (
    SELECT 1 FROM stateward_heads h
    WHERE h.thread_id = c.thread_id AND h.checkpoint_ns = c.checkpoint_ns
      AND h.checkpoint_id = c.checkpoint_id);

-- name: prune_blobs
-- Values no remaining checkpoint refers to.
DELETE FROM stateward_blobs b
WHERE b.thread_id = ANY(%(thread_ids)s) AND NOT EXISTS (
    SELECT 1 FROM stateward_checkpoints c
    WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns
      AND c.blob_versions ->> b.channel = b.version);

-- name: migrate_lock
-- Two processes migrating at once: the second waits here, then finds nothing to do.
SELECT pg_advisory_xact_lock(7460282911);

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS stateward_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: applied_migrations
SELECT version FROM stateward_migrations ORDER BY version;

-- name: record_migration
INSERT INTO stateward_migrations (version, name) VALUES (%(version)s, %(name)s);

-- name: get_effect
-- The recorded effect of one key of a task (stateward.effects), if any.
SELECT request_hash, result_type, result FROM stateward_effects
WHERE thread_id = %(thread_id)s AND checkpoint_ns = %(checkpoint_ns)s
  AND task_id = %(task_id)s AND effect_key = %(effect_key)s;

-- name: insert_effect
-- Record an effect unless one is already there; returns a row only if inserted (a
-- row committed concurrently is not visible to this statement: read it with
-- get_effect).
INSERT INTO stateward_effects (
    thread_id, checkpoint_ns, task_id, effect_key, request_hash, result_type, result)
VALUES (%(thread_id)s, %(checkpoint_ns)s, %(task_id)s, %(effect_key)s,
        %(request_hash)s, %(result_type)s, %(result)s)
ON CONFLICT (thread_id, checkpoint_ns, task_id, effect_key) DO NOTHING
RETURNING request_hash;

-- name: delete_thread_effects
-- For delete_thread: the effect records of the threads.
DELETE FROM stateward_effects WHERE thread_id = ANY(%(thread_ids)s);
