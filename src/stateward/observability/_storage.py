"""What every saver operation reports: duration, bytes, conflicts, failures.

Called on every checkpoint read and write, so it is kept to plain function calls: no
generator context managers, cached metric children, and no span work at all until an
OpenTelemetry provider is configured.
"""

from __future__ import annotations

import time
from typing import Any

from stateward import errors
from stateward.observability import logging as events
from stateward.observability import metrics, tracing

_log = events.get_logger()

UNTRACED = frozenset({"put_writes"})
"""Operations without a span of their own: a run writes pending writes once per task,
so their spans would outnumber all others; their latency is in the metrics."""


class Observation:
    """One saver operation being timed (and traced, when tracing is on)."""

    __slots__ = ("backend", "call", "span", "started")

    def __init__(self, backend: str, call: Any) -> None:
        self.backend, self.call = backend, call
        self.span = _start_span(backend, call)
        self.started = time.perf_counter()

    def succeeded(self) -> None:
        """The operation returned."""
        self._done(None)
        if self.call.operation == "put":
            _written(self.backend, self.call)

    def failed(self, exc: BaseException) -> None:
        """The operation raised ``exc`` (which the caller re-raises)."""
        self._done(exc)
        if isinstance(exc, errors.ConflictError):
            metrics.CONFLICTS.labels(self.backend).inc()
            _log.warning(
                events.CONFLICT,
                thread_id=exc.thread_id,
                checkpoint_ns=exc.checkpoint_ns,
                built_on=exc.built_on,
                current_head=exc.current_head,
            )
        elif isinstance(exc, errors.StatewardError):
            labels = (self.backend, self.call.operation, type(exc).__name__)
            metrics.STORAGE_ERRORS.labels(*labels).inc()

    def _done(self, exc: BaseException | None) -> None:
        seconds = time.perf_counter() - self.started
        metrics.child(
            metrics.STORAGE_SECONDS, self.backend, self.call.operation
        ).observe(seconds)
        if self.span is not None:
            tracing.end_span(self.span, exc)


def _start_span(backend: str, call: Any) -> Any:
    if call.operation in UNTRACED or not tracing.enabled():
        return None
    attributes = {"db.system": backend, "stateward.operation": call.operation}
    if call.thread_id is not None:
        attributes[tracing.CONVERSATION_ID] = call.thread_id
    return tracing.start_span(
        f"checkpoint {call.operation}", attributes, tracing.workflow_span()
    )


def _written(backend: str, call: Any) -> None:
    metrics.child(metrics.CHECKPOINT_BYTES, backend).observe(call.size)
    if events.debug_enabled():
        _log.debug(
            events.CHECKPOINT_WRITTEN,
            backend=backend,
            thread_id=call.thread_id,
            checkpoint_id=call.checkpoint_id,
            bytes=call.size,
        )


def storage_retry(backend: str, error: BaseException) -> None:
    """A transient storage failure is about to be retried."""
    metrics.STORAGE_RETRIES.labels(backend).inc()
    _log.warning(events.STORAGE_RETRY, backend=backend, error=type(error).__name__)
