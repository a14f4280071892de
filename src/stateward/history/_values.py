"""Short, printable views of state values, and how list elements are identified."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_WIDTH = 60


def _clip(text: str, width: int = _WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def item_id(item: object) -> str | None:
    """A message's ``id`` (object or dict form), the stable identity of an element."""
    found = item.get("id") if isinstance(item, Mapping) else getattr(item, "id", None)
    return found if isinstance(found, str) and found else None


def brief(value: object) -> str:
    """One line for a value: messages as ``type id: content``, others as ``repr``."""
    content = _field(value, "content")
    kind = _field(value, "type")
    if content is not None and isinstance(kind, str):
        ident = item_id(value)
        head = f"{kind} {ident}" if ident else kind
        return f"{head}: {_clip(str(content))}"
    if isinstance(value, list):
        return f"list[{len(value)}]"
    return _clip(repr(value))


def _field(value: object, name: str) -> Any:
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)
