"""What changed between two checkpoints, key by key and, for lists, item by item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver

from stateward.history._thread import load_thread, state_values
from stateward.history._values import brief, item_id

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class ListItem:
    """One list element, at its index in the list it belongs to."""

    index: int
    text: str


@dataclass(frozen=True)
class KeyChange:
    """How one state key differs; list keys also say which items came and went."""

    key: str
    kind: Kind
    before: str | None
    after: str | None
    removed_items: tuple[ListItem, ...] = ()
    added_items: tuple[ListItem, ...] = ()


@dataclass(frozen=True)
class StateDiff:
    """The differences from checkpoint ``a`` to checkpoint ``b`` of one thread."""

    thread_id: str
    a: str
    b: str
    changes: tuple[KeyChange, ...]

    def __str__(self) -> str:
        lines = [f"diff {self.thread_id} {self.a} -> {self.b}"]
        if not self.changes:
            lines.append("  (no changes)")
        for change in self.changes:
            lines.extend(_render_change(change))
        return "\n".join(lines)


def _render_change(change: KeyChange) -> list[str]:
    sign = {"added": "+", "removed": "-", "changed": "~"}[change.kind]
    lines = [f"{sign} {change.key}: {change.before or ''} -> {change.after or ''}"]
    lines += [f"    - [{i.index}] {i.text}" for i in change.removed_items]
    lines += [f"    + [{i.index}] {i.text}" for i in change.added_items]
    return lines


def _items(values: Sequence[Any], indexes: Sequence[int]) -> tuple[ListItem, ...]:
    return tuple(ListItem(i, brief(values[i])) for i in indexes)


def list_changes(
    before: Sequence[Any], after: Sequence[Any]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Indexes removed from ``before`` and added in ``after``.

    Items with ids (messages) match by id and equality; others by position.
    """
    ids_before = [item_id(x) for x in before]
    ids_after = [item_id(x) for x in after]
    if all(ids_before) and all(ids_after):
        old = dict(zip(ids_before, before, strict=True))
        new = dict(zip(ids_after, after, strict=True))
        removed = [i for i, k in enumerate(ids_before) if _gone(k, old, new)]
        added = [i for i, k in enumerate(ids_after) if _gone(k, new, old)]
        return tuple(removed), tuple(added)
    same = 0
    while same < min(len(before), len(after)) and before[same] == after[same]:
        same += 1
    return tuple(range(same, len(before))), tuple(range(same, len(after)))


def _gone(key: str | None, here: dict[Any, Any], there: dict[Any, Any]) -> bool:
    """Whether the item ``key`` names in ``here`` is missing or different there."""
    return key not in there or there[key] != here[key]


def diff_values(
    thread_id: str, a: str, b: str, old: dict[str, Any], new: dict[str, Any]
) -> StateDiff:
    """The :class:`StateDiff` of two state dicts."""
    changes = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            changes.append(KeyChange(key, "removed", brief(old[key]), None))
        elif key not in old:
            changes.append(_added(key, new[key]))
        elif old[key] != new[key]:
            changes.append(_changed(key, old[key], new[key]))
    return StateDiff(thread_id, a, b, tuple(changes))


def _added(key: str, value: Any) -> KeyChange:
    items = _items(value, range(len(value))) if isinstance(value, list) else ()
    return KeyChange(key, "added", None, brief(value), (), items)


def _changed(key: str, old: Any, new: Any) -> KeyChange:
    if isinstance(old, list) and isinstance(new, list):
        removed, added = list_changes(old, new)
        return KeyChange(
            key,
            "changed",
            brief(old),
            brief(new),
            _items(old, removed),
            _items(new, added),
        )
    return KeyChange(key, "changed", brief(old), brief(new))


def diff(
    saver: BaseCheckpointSaver[Any],
    thread_id: str,
    a: str,
    b: str,
    checkpoint_ns: str = "",
) -> StateDiff:
    """The state change from checkpoint ``a`` to ``b`` (ids or unique prefixes)."""
    thread = load_thread(saver, thread_id, checkpoint_ns)
    a_id, b_id = thread.resolve(a), thread.resolve(b)
    old = state_values(thread.by_id[a_id])
    new = state_values(thread.by_id[b_id])
    return diff_values(thread_id, a_id, b_id, old, new)
