"""Exactly-once side effects in LangGraph nodes: run once, then replay the record.

A node that charges a card, sends an email or calls any external service runs again
when LangGraph retries it or when a crashed run resumes from its last checkpoint.
Wrapping the call in :func:`run_effect` (or a function in :func:`effect`) records
its result under (thread, namespace, task, key) in the checkpointer's database; a
later attempt of the same task finds the record and returns it without calling
again. See ``docs/effects.md`` for the exact guarantee and its one gap (a crash
between the call and the record), which the idempotency key closes::

    @effect(key=lambda order_id, amount: f"charge-{order_id}")
    def charge(order_id: str, amount: int, idempotency_key: str = "") -> dict:
        return payments.charge(order_id, amount, idempotency_key=idempotency_key)
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar, cast

from langgraph._internal._constants import (
    CONFIG_KEY_CHECKPOINT_NS,
    CONFIG_KEY_CHECKPOINTER,
    CONFIG_KEY_TASK_ID,
    NS_SEP,
)
from langgraph.config import get_config

from stateward import errors
from stateward.checkpoint._base import StatewardSaver
from stateward.checkpoint._effects import EffectKey, EffectRecord
from stateward.observability import logging as events
from stateward.observability import metrics

__all__ = [
    "IDEMPOTENCY_KEY_ARG",
    "arun_effect",
    "current_idempotency_key",
    "effect",
    "idempotency_key",
    "request_hash",
    "run_effect",
]

P = ParamSpec("P")
T = TypeVar("T")

IDEMPOTENCY_KEY_ARG = "idempotency_key"
"""An effect function with a parameter of this name receives the idempotency key."""

_log = events.get_logger()
_current_key: ContextVar[str | None] = ContextVar("stateward_effect_key", default=None)
_MISSING: Any = object()


@dataclasses.dataclass(frozen=True, slots=True)
class _Context:
    saver: StatewardSaver
    key: EffectKey


# -- where an effect belongs ---------------------------------------------------------


def _graph_namespace(task_ns: str) -> str:
    """A task's config names ``<graph ns>|<node>:<task id>``; records live in the
    graph's namespace, like its checkpoints."""
    return task_ns.rpartition(NS_SEP)[0]


def _context(effect_key: str) -> _Context:
    """The saver and record key of the LangGraph task running this code."""
    if not effect_key:
        raise errors.InvalidInputError("an effect key must be a non-empty string")
    try:
        configurable = get_config().get("configurable") or {}
    except RuntimeError:
        raise errors.InvalidInputError(
            "effects run inside a LangGraph node (no graph run is active here)"
        ) from None
    saver = configurable.get(CONFIG_KEY_CHECKPOINTER)
    if not isinstance(saver, StatewardSaver):
        raise errors.InvalidInputError(
            "effects need the graph compiled with a Stateward checkpointer; this run "
            f"has {'none' if saver is None else type(saver).__name__}"
        )
    task_id = configurable.get(CONFIG_KEY_TASK_ID)
    thread_id = configurable.get("thread_id")
    if not task_id or thread_id is None:
        raise errors.InvalidInputError("effects need a thread_id and a running task")
    ns = _graph_namespace(str(configurable.get(CONFIG_KEY_CHECKPOINT_NS, "")))
    return _Context(saver, EffectKey(str(thread_id), ns, str(task_id), effect_key))


def idempotency_key(key: EffectKey) -> str:
    """A stable key for the external service: the same for every attempt of one
    effect, different for any other effect, thread or task."""
    parts = (key.thread_id, key.checkpoint_ns, key.task_id, key.effect_key)
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"stateward-{digest}"


def current_idempotency_key() -> str:
    """The idempotency key of the effect running now (inside its function)."""
    key = _current_key.get()
    if key is None:
        raise errors.InvalidInputError(
            "current_idempotency_key() is only available inside an effect function"
        )
    return key


@contextlib.contextmanager
def _running(key: EffectKey) -> Iterator[str]:
    value = idempotency_key(key)
    token = _current_key.set(value)
    try:
        yield value
    finally:
        _current_key.reset(token)


# -- the request hash ----------------------------------------------------------------


def _canonical(value: Any) -> Any:
    """JSON for what json cannot encode by itself; anything else is refused."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):  # pydantic models
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    raise errors.InvalidInputError(
        f"an effect's payload must be JSON-like; {type(value).__name__} is not: "
        "pass payload= with the fields that identify the request"
    )


def request_hash(payload: Any) -> str:
    """sha256 of the payload as canonical JSON (sorted keys, no whitespace)."""
    try:
        text = json.dumps(
            payload,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=_canonical,
        )
    except TypeError as exc:  # e.g. dict keys of mixed types
        raise errors.InvalidInputError(f"an effect's payload: {exc}") from exc
    return hashlib.sha256(text.encode()).hexdigest()


def _call_payload(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Any:
    return {"args": list(args), "kwargs": dict(kwargs)}


# -- what a record means -------------------------------------------------------------


def _replayed(ctx: _Context, record: EffectRecord, request: str) -> Any:
    """The recorded result, if it was recorded for this request."""
    if record.request_hash != request:
        key = ctx.key
        raise errors.EffectConflictError(
            thread_id=key.thread_id,
            checkpoint_ns=key.checkpoint_ns,
            task_id=key.task_id,
            effect_key=key.effect_key,
            recorded_hash=record.request_hash,
            request_hash=request,
        )
    if not record.inserted:
        metrics.EFFECT_REPLAYS.inc()
        _log.info(
            events.EFFECT_REPLAYED,
            thread_id=ctx.key.thread_id,
            checkpoint_ns=ctx.key.checkpoint_ns,
            task_id=ctx.key.task_id,
            effect_key=ctx.key.effect_key,
        )
    return record.result


def _stored(ctx: _Context, record: EffectRecord | None, request: str, ran: Any) -> Any:
    """What an effect that ran returns: its own result, or a concurrent duplicate's
    that was recorded first."""
    return ran if record is None else _replayed(ctx, record, request)


def _accepts_key(fn: Callable[..., Any]) -> bool:
    try:
        return IDEMPOTENCY_KEY_ARG in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def _with_key(
    fn: Callable[..., Any], kwargs: dict[str, Any], key: str
) -> dict[str, Any]:
    if IDEMPOTENCY_KEY_ARG in kwargs or not _accepts_key(fn):
        return kwargs
    return {**kwargs, IDEMPOTENCY_KEY_ARG: key}


# -- the API ---------------------------------------------------------------------------


def run_effect(
    key: str,
    fn: Callable[..., T],
    /,
    *args: Any,
    payload: Any = _MISSING,
    **kwargs: Any,
) -> T:
    """Run ``fn(*args, **kwargs)`` once for this task and ``key``; on a later attempt
    of the task, return the recorded result instead.

    ``payload`` identifies the request (default: the arguments); replaying with a
    different one raises :class:`~stateward.errors.EffectConflictError`. ``fn``
    receives ``idempotency_key=`` if it has a parameter of that name.
    """
    ctx = _context(key)
    request = request_hash(
        _call_payload(args, kwargs) if payload is _MISSING else payload
    )
    found = ctx.saver.get_effect(ctx.key)
    if found is not None:
        return cast(T, _replayed(ctx, found, request))
    with _running(ctx.key) as idem:
        result = fn(*args, **_with_key(fn, kwargs, idem))
    stored = ctx.saver.put_effect(ctx.key, request, result)
    return cast(T, _stored(ctx, stored, request, result))


async def arun_effect(
    key: str,
    fn: Callable[..., Awaitable[T]],
    /,
    *args: Any,
    payload: Any = _MISSING,
    **kwargs: Any,
) -> T:
    """:func:`run_effect` for a coroutine function, in an async node."""
    ctx = _context(key)
    request = request_hash(
        _call_payload(args, kwargs) if payload is _MISSING else payload
    )
    found = await ctx.saver.aget_effect(ctx.key)
    if found is not None:
        return cast(T, _replayed(ctx, found, request))
    with _running(ctx.key) as idem:
        result = await fn(*args, **_with_key(fn, kwargs, idem))
    stored = await ctx.saver.aput_effect(ctx.key, request, result)
    return cast(T, _stored(ctx, stored, request, result))


def _bound_payload(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """The call's arguments by name (defaults applied), without the idempotency key."""
    bound = signature.bind_partial(*args, **kwargs)
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != IDEMPOTENCY_KEY_ARG}


def effect(
    *,
    key: str | Callable[..., str],
    payload: Callable[..., Any] | None = None,
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Make a function (sync or async) an effect: see :func:`run_effect`.

    ``key``: a string, or a function of the call's arguments returning one (each
    distinct effect of a node needs its own key). ``payload``: a function of the
    call's arguments giving what identifies the request (default: the arguments).
    """

    def decorate(fn: Callable[P, T]) -> Callable[P, T]:
        signature = inspect.signature(fn)

        def resolve(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, Any]:
            name = key(*args, **kwargs) if callable(key) else key
            body = (
                payload(*args, **kwargs)
                if payload is not None
                else _bound_payload(signature, args, kwargs)
            )
            return name, body

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def arun(*args: Any, **kwargs: Any) -> Any:
                name, body = resolve(args, kwargs)
                return await arun_effect(name, fn, *args, payload=body, **kwargs)

            return cast(Callable[P, T], arun)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            name, body = resolve(args, kwargs)
            return run_effect(name, fn, *args, payload=body, **kwargs)

        return cast(Callable[P, T], run)

    return decorate
