"""Run a storage call, retrying transient failures as a :class:`StorageRetry` says.

The first try runs outside tenacity, so the common case pays for no bookkeeping; the
deadline counts from the first try. When every try failed, the caller gets
:class:`~stateward.errors.StorageUnavailableError` with the last failure as its cause.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

import tenacity

from stateward import errors
from stateward.core.retry import StorageRetry
from stateward.observability import _storage as observe

T = TypeVar("T")
P = ParamSpec("P")


_NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}


class _Attempts:
    """The retry phase of one call: what is left of the budget after the first try."""

    def __init__(
        self,
        policy: StorageRetry,
        is_transient: Callable[[BaseException], bool],
        backend: str,
        started: float,
    ) -> None:
        self.policy, self.is_transient, self.backend = policy, is_transient, backend
        self.remaining = policy.deadline - (time.monotonic() - started)

    def unavailable(
        self, exc: BaseException, tries: int
    ) -> errors.StorageUnavailableError:
        name = _NAMES.get(self.backend, self.backend)
        return errors.StorageUnavailableError(
            f"{name} unavailable after {tries} attempt(s): {exc}"
        )

    def retried(self, exc: BaseException | None) -> None:
        if exc is not None:
            observe.storage_retry(self.backend, exc)

    def kwargs(self) -> dict[str, Any]:
        def give_up(state: tenacity.RetryCallState) -> None:
            cause = state.outcome.exception() if state.outcome else None
            assert cause is not None  # noqa: S101 - tenacity gives up only on failures
            raise self.unavailable(cause, state.attempt_number + 1) from cause

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if state.outcome is not None and state.outcome.failed:
                self.retried(state.outcome.exception())

        return {
            "before_sleep": before_sleep,
            **self.policy.tenacity_kwargs(
                self.is_transient,
                attempts=self.policy.attempts - 1,
                deadline=self.remaining,
            ),
            "retry_error_callback": give_up,
        }


def _retry_phase(
    policy: StorageRetry,
    is_transient: Callable[[BaseException], bool],
    backend: str,
    started: float,
    first_failure: Exception,
) -> dict[str, Any]:
    """After a transient first failure: tenacity's arguments for the remaining tries,
    or StorageUnavailableError when the policy leaves none."""
    attempts = _Attempts(policy, is_transient, backend, started)
    if policy.attempts <= 1 or attempts.remaining <= 0:
        raise attempts.unavailable(first_failure, 1) from first_failure
    attempts.retried(first_failure)
    return attempts.kwargs()


def call(
    policy: StorageRetry,
    is_transient: Callable[[BaseException], bool],
    backend: str,
    fn: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``fn(*args, **kwargs)``, retried on transient failures."""
    started = time.monotonic()
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if not is_transient(exc):
            raise
        retry_kwargs = _retry_phase(policy, is_transient, backend, started, exc)
    result: T = tenacity.Retrying(**retry_kwargs)(fn, *args, **kwargs)
    return result


async def acall(
    policy: StorageRetry,
    is_transient: Callable[[BaseException], bool],
    backend: str,
    fn: Callable[P, Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``await fn(*args, **kwargs)``, retried on transient failures."""
    started = time.monotonic()
    try:
        return await fn(*args, **kwargs)
    except Exception as exc:
        if not is_transient(exc):
            raise
        retry_kwargs = _retry_phase(policy, is_transient, backend, started, exc)
    return await tenacity.AsyncRetrying(**retry_kwargs)(fn, *args, **kwargs)
