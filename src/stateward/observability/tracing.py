"""OpenTelemetry spans; free when the ``otel`` extra is not installed.

Spans follow the GenAI semantic conventions where they apply: a graph run is
``invoke_workflow {graph}``, each node a child span, each checkpoint operation its
own child span, the thread id in ``gen_ai.conversation.id``. Exporting (OTLP when the
standard ``OTEL_*`` variables are set) is configured by the application or the
server, not here.
"""

from __future__ import annotations

import contextvars
from typing import Any, Final

try:
    from opentelemetry import trace

    AVAILABLE = True
except ImportError:  # pragma: no cover - exercised where the extra is absent
    AVAILABLE = False

INSTRUMENTATION: Final = "stateward"
CONVERSATION_ID: Final = "gen_ai.conversation.id"
OPERATION_NAME: Final = "gen_ai.operation.name"


# A proxy until the application sets a provider, then the provider's own tracer:
# fetched once, because get_tracer per span costs more than the span.
_TRACER: Any = trace.get_tracer(INSTRUMENTATION) if AVAILABLE else None


# The run's workflow span, for spans opened in LangGraph's worker threads (checkpoint
# writes): they run in copies of the run's context, so they see it as their parent.
_workflow_span: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "stateward_workflow_span", default=None
)


def enter_workflow(active: Any) -> contextvars.Token[Any]:
    """Make ``active`` the parent of spans opened later in this run's context."""
    return _workflow_span.set(active)


def leave_workflow(token: contextvars.Token[Any]) -> None:
    """Undo :func:`enter_workflow` (from another context, just forget the span)."""
    try:
        _workflow_span.reset(token)
    except ValueError:  # the run ended in a context other than the one it began in
        _workflow_span.set(None)


def tracer() -> Any:
    """The tracer, or None when OpenTelemetry is not installed."""
    return _TRACER


def enabled() -> bool:
    """Whether spans go anywhere: OpenTelemetry is installed and a provider is set
    (until then every span would be a no-op, not worth creating)."""
    return AVAILABLE and not isinstance(
        trace.get_tracer_provider(), trace.ProxyTracerProvider
    )


def workflow_span() -> Any:
    """The span of the run this context belongs to, if any."""
    return _workflow_span.get()


def start_span(name: str, attributes: dict[str, Any], parent: Any = None) -> Any:
    """Start a span to end later (callbacks), as a child of ``parent`` if given."""
    current = tracer()
    if current is None:
        return None
    context = trace.set_span_in_context(parent) if parent is not None else None
    return current.start_span(name, context=context, attributes=attributes)


def end_span(active: Any, error: BaseException | None = None) -> None:
    """End a span from :func:`start_span`, marking it failed if ``error``."""
    if active is None:
        return
    if error is not None:
        active.record_exception(error)
        active.set_status(trace.Status(trace.StatusCode.ERROR, type(error).__name__))
    active.end()
