"""Retry policies for node code: transient failures again, programming errors never.

Two forms of one rule (:func:`stateward.core.retry.is_transient_error`):

* :func:`transient_retry_policy` for LangGraph's own node retries
  (``builder.add_node("call_api", fn, retry_policy=transient_retry_policy())``);
* :func:`retry_transient`, a tenacity decorator for any call inside a node.

Both back off exponentially with jitter. The savers retry their own transient
storage failures internally (see :class:`~stateward.core.retry.StorageRetry`), so a
database blip does not fail a node at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import tenacity
from langgraph.types import RetryPolicy

from stateward.core.retry import is_transient_error

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["is_transient_error", "retry_transient", "transient_retry_policy"]


def _retry_on(exc: Exception) -> bool:
    return is_transient_error(exc)


def transient_retry_policy(
    *,
    max_attempts: int = 5,
    initial_interval: float = 0.5,
    backoff_factor: float = 2.0,
    max_interval: float = 30.0,
) -> RetryPolicy:
    """A LangGraph ``RetryPolicy`` that retries only transient failures."""
    return RetryPolicy(
        initial_interval=initial_interval,
        backoff_factor=backoff_factor,
        max_interval=max_interval,
        max_attempts=max_attempts,
        jitter=True,
        retry_on=_retry_on,
    )


def retry_transient(
    *, attempts: int = 5, initial_wait: float = 0.5, max_wait: float = 30.0
) -> Callable[[F], F]:
    """Decorate a sync or async function to retry its transient failures.

    After the last attempt the original exception is raised unchanged.
    """
    retrying = tenacity.retry(
        retry=tenacity.retry_if_exception(is_transient_error),
        stop=tenacity.stop_after_attempt(attempts),
        wait=tenacity.wait_random_exponential(multiplier=initial_wait, max=max_wait),
        reraise=True,
    )

    def decorate(fn: F) -> F:
        decorated: F = retrying(fn)  # type: ignore[assignment]  # same signature
        return decorated

    return decorate
