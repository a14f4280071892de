-- Named queries for SQLite; loaded by stateward.checkpoint._sql.
-- Every query takes named parameters; none is ever built from strings.

-- name: lock_head
SELECT checkpoint_id FROM stateward_heads
WHERE thread_id = :thread_id AND checkpoint_ns = :checkpoint_ns;

-- name: insert_head
INSERT INTO stateward_heads (thread_id, checkpoint_ns, checkpoint_id)
VALUES (:thread_id, :checkpoint_ns, :checkpoint_id);

-- name: advance_head
UPDATE stateward_heads SET checkpoint_id = max(checkpoint_id, :checkpoint_id)
WHERE thread_id = :thread_id AND checkpoint_ns = :checkpoint_ns;

-- name: insert_blob
INSERT INTO stateward_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
VALUES (:thread_id, :checkpoint_ns, :channel, :version, :type, :blob)
ON CONFLICT (thread_id, checkpoint_ns, channel, version) DO NOTHING;

-- name: upsert_checkpoint
INSERT INTO stateward_checkpoints (
    thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,
    checkpoint_type, checkpoint, channel_versions, blob_versions, metadata)
VALUES (
    :thread_id, :checkpoint_ns, :checkpoint_id, :parent_checkpoint_id,
    :run_id, :checkpoint_type, :checkpoint, :channel_versions, :blob_versions,
    :metadata)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id) DO UPDATE SET
    checkpoint_type = EXCLUDED.checkpoint_type,
    checkpoint = EXCLUDED.checkpoint,
    channel_versions = EXCLUDED.channel_versions,
    blob_versions = EXCLUDED.blob_versions,
    metadata = EXCLUDED.metadata,
    run_id = EXCLUDED.run_id;

-- name: insert_write
INSERT INTO stateward_writes (
    thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
VALUES (
    :thread_id, :checkpoint_ns, :checkpoint_id, :task_id, :idx,
    :channel, :type, :blob, :task_path)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO NOTHING;

-- name: upsert_write
INSERT INTO stateward_writes (
    thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
VALUES (
    :thread_id, :checkpoint_ns, :checkpoint_id, :task_id, :idx,
    :channel, :type, :blob, :task_path)
ON CONFLICT (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) DO UPDATE SET
    channel = EXCLUDED.channel, type = EXCLUDED.type, blob = EXCLUDED.blob,
    task_path = EXCLUDED.task_path;

-- name: get_checkpoint
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
       checkpoint_type, checkpoint, channel_versions, blob_versions, metadata
FROM stateward_checkpoints
WHERE thread_id = :thread_id AND checkpoint_ns = :checkpoint_ns
  AND checkpoint_id = :checkpoint_id;

-- name: get_latest_checkpoint
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
       checkpoint_type, checkpoint, channel_versions, blob_versions, metadata
FROM stateward_checkpoints
WHERE thread_id = :thread_id AND checkpoint_ns = :checkpoint_ns
ORDER BY checkpoint_id DESC
LIMIT 1;

-- name: list_checkpoints
SELECT thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id,
       checkpoint_type, checkpoint, channel_versions, blob_versions, metadata
FROM stateward_checkpoints
WHERE (:thread_id IS NULL OR thread_id = :thread_id)
  AND (:checkpoint_ns IS NULL OR checkpoint_ns = :checkpoint_ns)
  AND (:checkpoint_id IS NULL OR checkpoint_id = :checkpoint_id)
  AND (:before IS NULL OR checkpoint_id < :before)
  AND (:filter IS NULL OR stateward_json_contains(metadata, :filter))
ORDER BY checkpoint_id DESC
LIMIT coalesce(:limit, -1);

-- name: get_blobs
-- The values of the given (thread, namespace, channel, version) keys.
-- :keys is a JSON array of [thread_id, checkpoint_ns, channel, version].
SELECT b.thread_id, b.checkpoint_ns, b.channel, b.version, b.type, b.blob
FROM json_each(:keys) AS k
-- CROSS JOIN keeps the key list as the outer loop: one primary-key probe per key.
CROSS JOIN stateward_blobs b
  ON b.thread_id = k.value ->> 0 AND b.checkpoint_ns = k.value ->> 1
 AND b.channel = k.value ->> 2 AND b.version = k.value ->> 3;

-- name: get_writes
-- The pending writes of the given checkpoints, in the order LangGraph applies them.
-- :keys is a JSON array of [thread_id, checkpoint_ns, checkpoint_id].
SELECT w.thread_id, w.checkpoint_ns, w.checkpoint_id, w.task_id, w.channel, w.type,
       w.blob
FROM json_each(:keys) AS k
CROSS JOIN stateward_writes w
  ON w.thread_id = k.value ->> 0 AND w.checkpoint_ns = k.value ->> 1
 AND w.checkpoint_id = k.value ->> 2
ORDER BY w.task_path, w.task_id, w.idx;

-- name: delete_thread_checkpoints
DELETE FROM stateward_checkpoints WHERE thread_id IN (SELECT value FROM json_each(:thread_ids));

-- name: delete_thread_blobs
DELETE FROM stateward_blobs WHERE thread_id IN (SELECT value FROM json_each(:thread_ids));

-- name: delete_thread_writes
DELETE FROM stateward_writes WHERE thread_id IN (SELECT value FROM json_each(:thread_ids));

-- name: delete_thread_heads
DELETE FROM stateward_heads WHERE thread_id IN (SELECT value FROM json_each(:thread_ids));

-- name: lock_thread_heads
-- SQLite writers are serialised by BEGIN IMMEDIATE; this only reads.
SELECT thread_id, checkpoint_ns, checkpoint_id FROM stateward_heads
WHERE thread_id IN (SELECT value FROM json_each(:thread_ids))
ORDER BY thread_id, checkpoint_ns;

-- name: delete_run_writes
DELETE FROM stateward_writes
WHERE (thread_id, checkpoint_ns, checkpoint_id) IN (
    SELECT thread_id, checkpoint_ns, checkpoint_id FROM stateward_checkpoints
    WHERE run_id IN (SELECT value FROM json_each(:run_ids)));

-- name: delete_run_checkpoints
DELETE FROM stateward_checkpoints WHERE run_id IN (SELECT value FROM json_each(:run_ids))
RETURNING thread_id;

-- name: reset_heads
-- Point each head of the given threads back at the newest checkpoint left.
UPDATE stateward_heads SET checkpoint_id = latest.checkpoint_id
FROM (
    SELECT thread_id, checkpoint_ns, max(checkpoint_id) AS checkpoint_id
    FROM stateward_checkpoints
    WHERE thread_id IN (SELECT value FROM json_each(:thread_ids))
    GROUP BY thread_id, checkpoint_ns
) AS latest
WHERE stateward_heads.thread_id = latest.thread_id
  AND stateward_heads.checkpoint_ns = latest.checkpoint_ns;

-- name: drop_empty_heads
DELETE FROM stateward_heads
WHERE thread_id IN (SELECT value FROM json_each(:thread_ids)) AND NOT EXISTS (
    SELECT 1 FROM stateward_checkpoints c
    WHERE c.thread_id = stateward_heads.thread_id
      AND c.checkpoint_ns = stateward_heads.checkpoint_ns);

-- name: copy_checkpoints
INSERT INTO stateward_checkpoints (
    thread_id, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,
    checkpoint_type, checkpoint, channel_versions, blob_versions, metadata, created_at)
SELECT :target, checkpoint_ns, checkpoint_id, parent_checkpoint_id, run_id,
       checkpoint_type, checkpoint, channel_versions, blob_versions, metadata, created_at
FROM stateward_checkpoints WHERE thread_id = :source
ON CONFLICT DO NOTHING;

-- name: copy_blobs
INSERT INTO stateward_blobs (thread_id, checkpoint_ns, channel, version, type, blob)
SELECT :target, checkpoint_ns, channel, version, type, blob
FROM stateward_blobs WHERE thread_id = :source
ON CONFLICT DO NOTHING;

-- name: copy_writes
INSERT INTO stateward_writes (
    thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob, task_path)
SELECT :target, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, blob,
       task_path
FROM stateward_writes WHERE thread_id = :source
ON CONFLICT DO NOTHING;

-- name: copy_heads
INSERT INTO stateward_heads (thread_id, checkpoint_ns, checkpoint_id)
SELECT :target, checkpoint_ns, checkpoint_id
FROM stateward_heads WHERE thread_id = :source
ON CONFLICT (thread_id, checkpoint_ns) DO UPDATE
SET checkpoint_id = max(stateward_heads.checkpoint_id, excluded.checkpoint_id);

-- name: prune_writes
-- Writes of every checkpoint that is not the newest of its namespace.
DELETE FROM stateward_writes
WHERE thread_id IN (SELECT value FROM json_each(:thread_ids)) AND NOT EXISTS (
    SELECT 1 FROM stateward_heads h
    WHERE h.thread_id = stateward_writes.thread_id
      AND h.checkpoint_ns = stateward_writes.checkpoint_ns
      AND h.checkpoint_id = stateward_writes.checkpoint_id);

-- name: prune_checkpoints
DELETE FROM stateward_checkpoints
WHERE thread_id IN (SELECT value FROM json_each(:thread_ids)) AND NOT EXISTS (
    SELECT 1 FROM stateward_heads h
    WHERE h.thread_id = stateward_checkpoints.thread_id
      AND h.checkpoint_ns = stateward_checkpoints.checkpoint_ns
      AND h.checkpoint_id = stateward_checkpoints.checkpoint_id);

-- name: prune_blobs
-- Values no remaining checkpoint refers to.
DELETE FROM stateward_blobs
WHERE thread_id IN (SELECT value FROM json_each(:thread_ids)) AND NOT EXISTS (
    SELECT 1 FROM stateward_checkpoints c, json_each(c.blob_versions) AS v
    WHERE c.thread_id = stateward_blobs.thread_id
      AND c.checkpoint_ns = stateward_blobs.checkpoint_ns
      AND v.key = stateward_blobs.channel
      AND CAST(v.value AS TEXT) = stateward_blobs.version);

-- name: migrate_lock
-- BEGIN IMMEDIATE already holds the write lock; nothing more to take.
SELECT 1;

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS stateward_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- name: applied_migrations
SELECT version FROM stateward_migrations ORDER BY version;

-- name: record_migration
INSERT INTO stateward_migrations (version, name) VALUES (:version, :name);

-- name: get_effect
-- The recorded effect of one key of a task (stateward.effects), if any.
SELECT request_hash, result_type, result FROM stateward_effects
WHERE thread_id = :thread_id AND checkpoint_ns = :checkpoint_ns
  AND task_id = :task_id AND effect_key = :effect_key;

-- name: insert_effect
-- Record an effect unless one is already there; returns a row only if inserted.
INSERT INTO stateward_effects (
    thread_id, checkpoint_ns, task_id, effect_key, request_hash, result_type, result)
VALUES (:thread_id, :checkpoint_ns, :task_id, :effect_key,
        :request_hash, :result_type, :result)
ON CONFLICT (thread_id, checkpoint_ns, task_id, effect_key) DO NOTHING
RETURNING request_hash;

-- name: delete_thread_effects
-- For delete_thread: the effect records of the threads.
DELETE FROM stateward_effects WHERE thread_id IN (SELECT value FROM json_each(:thread_ids));
