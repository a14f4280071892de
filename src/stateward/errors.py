"""Every error Stateward raises on purpose.

::

    StatewardError
    ├── ConflictError            built on state that another writer has since changed
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
