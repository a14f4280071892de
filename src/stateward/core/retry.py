"""How long storage operations are retried before the caller is told it is down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tenacity


@dataclass(frozen=True, kw_only=True, slots=True)
class StorageRetry:
    """Bounded retries for transient storage failures.

    Every saver operation is idempotent, so re-running one after a lost connection
    or a restarted database is safe. The defaults ride out a PostgreSQL restart of a
    few seconds.

    Attributes:
        attempts: tries in total, the first included.
        initial_wait: seconds before the first retry; doubles up to ``max_wait``.
        max_wait: the longest pause between two tries, in seconds.
        deadline: give up after this many seconds, whatever ``attempts`` says.
        connect_timeout: the longest wait for a database connection in one try.
    """

    attempts: int = 8
    initial_wait: float = 0.05
    max_wait: float = 2.0
    deadline: float = 30.0
    connect_timeout: float = 5.0

    def tenacity_kwargs(
        self,
        is_transient: Callable[[BaseException], bool],
        *,
        attempts: int,
        deadline: float,
    ) -> dict[str, Any]:
        """Arguments for ``tenacity.Retrying``/``AsyncRetrying``: up to ``attempts``
        tries within ``deadline`` seconds, retrying what ``is_transient`` accepts."""
        return {
            "retry": tenacity.retry_if_exception(is_transient),
            "stop": tenacity.stop_after_attempt(attempts)
            | tenacity.stop_after_delay(deadline),
            "wait": tenacity.wait_random_exponential(
                multiplier=self.initial_wait, max=self.max_wait
            ),
            "reraise": False,
        }


TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
"""HTTP statuses worth another try: timeouts, rate limits, server-side failures."""

_PROGRAMMING_ERRORS = (
    TypeError,
    ValueError,
    KeyError,
    IndexError,
    AttributeError,
    NameError,
    ImportError,
    AssertionError,
    NotImplementedError,
    ArithmeticError,
)


def _http_status(exc: BaseException) -> int | None:
    """The status of an HTTP error from httpx, requests or aiohttp, by shape."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None) or getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _is_transient_by_name(exc: BaseException) -> bool:
    """Client-library errors we cannot import here (core has no optional deps)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(
        names
        & {
            "TransportError",  # httpx: connect/read/write errors and timeouts
            "OperationalError",  # database drivers: lost connection, restart
            "StorageUnavailableError",
            "ServiceUnavailableError",
        }
    )


def is_transient_error(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying: a failure of the world, not of the code.

    Retried: lost or refused connections, timeouts, HTTP 408/425/429/5xx, database
    connection failures. Never retried: programming errors (TypeError, ValueError,
    KeyError...), other HTTP statuses, and anything unknown: retrying a bug only
    repeats its side effects.
    """
    status = _http_status(exc)
    if status is not None:
        return status in TRANSIENT_STATUS
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, _PROGRAMMING_ERRORS):
        return False
    return _is_transient_by_name(exc)
