"""Reducers that make replays harmless: a message or an input counts once.

* :func:`add_messages_once` appends messages like LangGraph's ``add_messages`` but
  ignores a message whose id is already in the list, so re-sending or replaying a
  turn (a client retry, a webhook delivered twice) does not duplicate it.
* :func:`keys_seen` keeps a bounded record of processed input keys;
  :func:`seen` tells a node whether an input was already handled.

Example::

    class State(TypedDict):
        messages: Annotated[list[AnyMessage], add_messages_once]
        processed: Annotated[list[str], keys_seen(limit=1000)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import BaseMessage, RemoveMessage, convert_to_messages
from langgraph.graph.message import add_messages

from stateward import errors


def _ids(messages: Sequence[Any]) -> set[str]:
    return {m.id for m in messages if getattr(m, "id", None)}


def add_messages_once(left: Any, right: Any) -> Any:
    """``add_messages``, except that a message whose id is already present is ignored.

    Removals (``RemoveMessage``) still apply. Messages without an id get one, as with
    ``add_messages``, and so are always appended.
    """
    existing = _ids(convert_to_messages(left if isinstance(left, list) else [left]))
    incoming = convert_to_messages(right if isinstance(right, list) else [right])
    fresh: list[BaseMessage] = []
    for message in incoming:
        if isinstance(message, RemoveMessage) or not message.id:
            fresh.append(message)
        elif message.id not in existing:
            existing.add(message.id)
            fresh.append(message)
    return add_messages(left, list(fresh))  # type: ignore[arg-type]  # Messages


def keys_seen(limit: int = 1000) -> Callable[[list[str], list[str] | str], list[str]]:
    """A reducer keeping the ``limit`` most recent distinct keys, oldest first."""
    if limit < 1:
        raise errors.InvalidInputError(
            f"keys_seen needs a limit of at least 1, not {limit}"
        )

    def reduce(left: list[str], right: list[str] | str) -> list[str]:
        merged = list(left or [])
        for key in [right] if isinstance(right, str) else right:
            if key in merged:
                merged.remove(key)
            merged.append(key)
        return merged[-limit:]

    return reduce


def seen(keys: Sequence[str] | None, key: str) -> bool:
    """Whether ``key`` is among the keys a :func:`keys_seen` channel holds."""
    return key in (keys or ())
