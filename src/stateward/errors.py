"""Every error Stateward raises on purpose.

::

    StatewardError
    ├── ConflictError            built on state that another writer has since changed
    ├── EffectConflictError      an effect key already recorded for another request
    ├── StorageUnavailableError  the database stayed unreachable through every retry
    ├── SerializationError       a value cannot be stored, or a stored one read
    ├── MigrationError           the schema cannot reach the expected version
    └── InvalidInputError        a caller passed something that cannot be right

Driver errors are translated at the adapter boundary (``raise ... from exc``), so
callers only ever catch these.
"""

from __future__ import annotations


class StatewardError(Exception):
    """Root of every error Stateward raises on purpose."""


class ConflictError(StatewardError):
    """A write built on a checkpoint that is no longer the head of its thread.

    The checkpoint was not written (pending writes its run stored for it stay
    unreachable, and prune removes them). Re-read the thread and retry the turn.
    """

    def __init__(
        self,
        *,
        thread_id: str,
        checkpoint_ns: str,
        built_on: str | None,
        current_head: str | None,
        reason: str | None = None,
    ) -> None:
        self.thread_id = thread_id
        self.checkpoint_ns = checkpoint_ns
        self.built_on = built_on
        self.current_head = current_head
        detail = reason or f"the head is now {current_head!r}"
        super().__init__(
            f"conflict on thread {thread_id!r} namespace {checkpoint_ns!r}: "
            f"the write built on checkpoint {built_on!r}, but {detail}; "
            "the checkpoint was not written: read the thread again and retry"
        )


class StorageUnavailableError(StatewardError):
    """The database could not be reached, even after the configured retries."""


class SerializationError(StatewardError):
    """A value cannot be serialised for storage, or a stored value cannot be loaded."""


class MigrationError(StatewardError):
    """The database schema cannot be brought to the version this code expects."""


class InvalidInputError(StatewardError, ValueError):
    """A caller passed something that cannot be right (a bad config or option)."""


class EffectConflictError(StatewardError):
    """An effect key of a task was recorded for a different request.

    Replaying an effect must send the same request; a different one under the same
    key is a bug in the node (a key reused for two effects, or a request built from
    something that changes between attempts). Nothing was run: give each distinct
    effect its own key.
    """

    def __init__(
        self,
        *,
        thread_id: str,
        checkpoint_ns: str,
        task_id: str,
        effect_key: str,
        recorded_hash: str,
        request_hash: str,
    ) -> None:
        self.thread_id = thread_id
        self.checkpoint_ns = checkpoint_ns
        self.task_id = task_id
        self.effect_key = effect_key
        self.recorded_hash = recorded_hash
        self.request_hash = request_hash
        super().__init__(
            f"effect {effect_key!r} of task {task_id!r} (thread {thread_id!r}, "
            f"namespace {checkpoint_ns!r}) was recorded for another request "
            f"(sha256 {recorded_hash[:12]}..., now {request_hash[:12]}...); "
            "it was not run again: use a distinct key for each distinct effect"
        )
