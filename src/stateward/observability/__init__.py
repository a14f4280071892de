"""Logs, metrics and traces; each is a no-op until its library is installed.

* :mod:`.logging`: JSON events with stable names through structlog, on the stdlib
  logger ``stateward`` (silent until :func:`configure_logging` or the application
  configures logging).
* :mod:`.metrics`: Prometheus metrics named ``stateward_*`` (extra ``prometheus``).
* :mod:`.tracing`: OpenTelemetry spans (extra ``otel``).
* :class:`GraphObserver`: a LangChain callback handler that turns a graph run into
  node events, node metrics and a span tree.
"""

from __future__ import annotations

from stateward.observability.callbacks import GraphObserver
from stateward.observability.logging import configure_logging, get_logger

__all__ = ["GraphObserver", "configure_logging", "get_logger"]
