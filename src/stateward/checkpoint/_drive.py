"""Step an operation (see ``_ops``) against something that executes its statements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from stateward.statements import DuplicateKeyError, Op, Request

T = TypeVar("T")


def drive(op: Op[T], send: Callable[[Request], Any]) -> T:
    """Run ``op`` to completion, executing each request with ``send``."""
    result: Any = None
    error: DuplicateKeyError | None = None
    while True:
        try:
            request = op.send(result) if error is None else op.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]  # the op's declared result
        try:
            result, error = send(request), None
        except DuplicateKeyError as exc:
            result, error = None, exc


async def adrive(op: Op[T], send: Callable[[Request], Awaitable[Any]]) -> T:
    """Like :func:`drive`, for a driver whose statements are awaited."""
    result: Any = None
    error: DuplicateKeyError | None = None
    while True:
        try:
            request = op.send(result) if error is None else op.throw(error)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]  # the op's declared result
        try:
            result, error = await send(request), None
        except DuplicateKeyError as exc:
            result, error = None, exc
