"""Structured events with stable names, as JSON, on the stdlib logger ``stateward``.

Data goes in fields, never in the message. Identifiers bound with
``structlog.contextvars.bind_contextvars`` (thread_id, run_id, node, checkpoint_id)
are added to every event. State values and secrets are never logged: events carry
ids, names, sizes and durations only.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Final

import orjson
import structlog

LOGGER_NAME: Final = "stateward"

# Event names are part of the interface: dashboards and alerts match on them.
NODE_START: Final = "node_start"
NODE_END: Final = "node_end"
NODE_ERROR: Final = "node_error"
CHECKPOINT_WRITTEN: Final = "checkpoint_written"
CHECKPOINT_READ: Final = "checkpoint_read"
CONFLICT: Final = "conflict"
STORAGE_RETRY: Final = "storage_retry"
EFFECT_REPLAYED: Final = "effect_replayed"
WEBHOOK_FAILED: Final = "webhook_failed"

_PROCESSORS: Final[list[Any]] = [
    structlog.stdlib.filter_by_level,  # first: a filtered event costs nothing more
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
    structlog.processors.JSONRenderer(
        serializer=lambda event, **_: orjson.dumps(event, default=str).decode()
    ),
]


_STDLIB_LOGGER: Final = logging.getLogger(LOGGER_NAME)


def debug_enabled() -> bool:
    """Whether debug events would be emitted: check before building one, since
    structlog runs its processors before the logging level is consulted."""
    return _STDLIB_LOGGER.isEnabledFor(logging.DEBUG)


def get_logger() -> Any:
    """The ``stateward`` logger; events render as one JSON object each."""
    return structlog.wrap_logger(
        logging.getLogger(LOGGER_NAME),
        processors=_PROCESSORS,
        wrapper_class=structlog.stdlib.BoundLogger,
    )


def configure_logging(level: int = logging.INFO, stream: Any = None) -> None:
    """Print Stateward's events as JSON lines (on stderr unless ``stream`` is given).

    Call it once at start-up; applications with their own logging setup can route
    the ``stateward`` logger instead.
    """
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
