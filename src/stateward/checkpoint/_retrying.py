"""Run a storage call, retrying transient failures as a :class:`StorageRetry` says.

The first try runs outside tenacity, so the common case pays for no bookkeeping.
When every try failed, the caller gets
:class:`~stateward.errors.StorageUnavailableError` with the last failure as its cause.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import tenacity

from stateward import errors
from stateward.core.retry import StorageRetry

T = TypeVar("T")
P = ParamSpec("P")


def _retrying_kwargs(
    policy: StorageRetry, is_transient: Callable[[BaseException], bool], what: str
) -> dict[str, object]:
    def give_up(state: tenacity.RetryCallState) -> None:
        cause = state.outcome.exception() if state.outcome else None
        raise errors.StorageUnavailableError(
            f"{what} unavailable after {state.attempt_number + 1} attempts: {cause}"
        ) from cause

    kwargs = policy.tenacity_kwargs(is_transient, attempts=policy.attempts - 1)
    return {**kwargs, "retry_error_callback": give_up}


def call(
    policy: StorageRetry,
    is_transient: Callable[[BaseException], bool],
    what: str,
    fn: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``fn(*args, **kwargs)``, retried on transient failures."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        if not is_transient(exc):
            raise
        if policy.attempts <= 1:
            raise errors.StorageUnavailableError(f"{what} unavailable: {exc}") from exc
    retrying = tenacity.Retrying(**_retrying_kwargs(policy, is_transient, what))  # type: ignore[arg-type]  # kwargs built for Retrying
    result: T = retrying(fn, *args, **kwargs)
    return result


async def acall(
    policy: StorageRetry,
    is_transient: Callable[[BaseException], bool],
    what: str,
    fn: Callable[P, Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``await fn(*args, **kwargs)``, retried on transient failures."""
    try:
        return await fn(*args, **kwargs)
    except Exception as exc:
        if not is_transient(exc):
            raise
        if policy.attempts <= 1:
            raise errors.StorageUnavailableError(f"{what} unavailable: {exc}") from exc
    retrying = tenacity.AsyncRetrying(**_retrying_kwargs(policy, is_transient, what))  # type: ignore[arg-type]  # kwargs built for AsyncRetrying
    return await retrying(fn, *args, **kwargs)
