"""What every saver operation reports: duration, bytes, conflicts, failures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stateward import errors
from stateward.observability import logging as events
from stateward.observability import metrics, tracing

_log = events.get_logger()

UNTRACED = frozenset({"put_writes"})
"""Operations without a span of their own: a run writes pending writes once per task,
so their spans would outnumber all others; their latency is in the metrics."""


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def storage_call(backend: str, call: Any) -> Iterator[None]:
    """Time and report one saver operation (a ``Call``); errors are counted, then
    re-raised."""
    operation, size = call.operation, call.size
    attributes = {"db.system": backend, "stateward.operation": operation}
    if call.thread_id is not None:
        attributes[tracing.CONVERSATION_ID] = call.thread_id
    started = time.perf_counter()
    traced = operation not in UNTRACED
    with tracing.span(f"checkpoint {operation}", attributes) if traced else _nothing():
        try:
            yield
        except errors.ConflictError as exc:
            metrics.CONFLICTS.labels(backend).inc()
            _log.warning(
                events.CONFLICT,
                thread_id=exc.thread_id,
                checkpoint_ns=exc.checkpoint_ns,
                built_on=exc.built_on,
                current_head=exc.current_head,
            )
            raise
        except errors.StatewardError as exc:
            metrics.STORAGE_ERRORS.labels(backend, operation, type(exc).__name__).inc()
            raise
        finally:
            seconds = time.perf_counter() - started
            metrics.STORAGE_SECONDS.labels(backend, operation).observe(seconds)
    if operation == "put":
        metrics.CHECKPOINT_BYTES.labels(backend).observe(size)
    if operation == "put" and events.debug_enabled():
        _log.debug(
            events.CHECKPOINT_WRITTEN,
            backend=backend,
            thread_id=call.thread_id,
            checkpoint_id=call.checkpoint_id,
            bytes=size,
        )


def storage_retry(backend: str, error: BaseException) -> None:
    """A transient storage failure is about to be retried."""
    metrics.STORAGE_RETRIES.labels(backend).inc()
    _log.warning(events.STORAGE_RETRY, backend=backend, error=type(error).__name__)
