"""Optimistic concurrency on the head of each (thread, namespace).

A writer remembers what it saw of a thread: the head it read last (or wrote last),
and which older checkpoints it asked for by id (time travel). When it writes a
checkpoint built on ``parent``, :func:`expectation` says which current heads make
that write legitimate; the store compares and swaps the head atomically.

The rules, for a write of checkpoint ``C`` built on ``P`` while the head is ``H``:

* ``P == H``: the writer extends the head. Accepted.
* ``H == C``: the same write, retried after its commit was not acknowledged. Accepted.
* the writer never read this thread: a blind write (tools, migrations, LangGraph's
  conformance suite); there is nothing to validate against. Accepted.
* ``P`` is a checkpoint the writer explicitly asked for (replay, fork, ``update_state``
  on an older checkpoint): accepted if the head is still the one the writer last saw,
  or if it never looked at the head.
* anything else: another writer moved the head since this writer read it. Conflict.
"""

from __future__ import annotations

import contextvars
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Final

ThreadKey = tuple[str, str]
"""(thread_id, checkpoint_ns)."""

MAX_EXPLICIT_READS: Final = 16
"""Explicit reads remembered per thread: a run reads a handful, never thousands."""

MAX_THREADS_PER_WRITER: Final = 256
"""Threads one writer context remembers; the least recently used are forgotten."""


class _Unknown:
    """The writer never looked at the head (distinct from 'saw no head')."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


@dataclass
class ThreadView:
    """What one writer has seen of one thread's head."""

    head: str | _Unknown | None = UNKNOWN
    explicit: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def saw_explicit(self, checkpoint_id: str) -> None:
        self.explicit[checkpoint_id] = None
        self.explicit.move_to_end(checkpoint_id)
        while len(self.explicit) > MAX_EXPLICIT_READS:
            self.explicit.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Expectation:
    """Which current heads allow a write: any at all, or one of ``heads``."""

    any_head: bool
    heads: frozenset[str | None] = frozenset()

    def allows(self, head: str | None) -> bool:
        return self.any_head or head in self.heads


ANY_HEAD: Final = Expectation(any_head=True)


class WriterViews:
    """Bounded map of thread -> view, for one writer (one run, one context)."""

    def __init__(self) -> None:
        self._views: OrderedDict[ThreadKey, ThreadView] = OrderedDict()

    def get(self, key: ThreadKey) -> ThreadView | None:
        return self._views.get(key)

    def ensure(self, key: ThreadKey) -> ThreadView:
        view = self._views.get(key)
        if view is None:
            view = self._views[key] = ThreadView()
            while len(self._views) > MAX_THREADS_PER_WRITER:
                self._views.popitem(last=False)
        else:
            self._views.move_to_end(key)
        return view

    def forget(self, thread_id: str) -> None:
        for key in [k for k in self._views if k[0] == thread_id]:
            del self._views[key]


# LangGraph reads the head in the run's context and then writes from tasks running in
# copies of it, so the views object must be mutated in place, never re-set, by writes.
_writer_views: contextvars.ContextVar[WriterViews | None] = contextvars.ContextVar(
    "stateward_writer_views", default=None
)


def current_views() -> WriterViews:
    """The views of the writer running in this context, created on first use."""
    views = _writer_views.get()
    if views is None:
        views = WriterViews()
        _writer_views.set(views)
    return views


def peek_views() -> WriterViews | None:
    """The views of this context's writer, if it has read anything."""
    return _writer_views.get()


def record_read(key: ThreadKey, *, requested: str | None, found: str | None) -> None:
    """Remember a read of the latest checkpoint (``requested`` None) or of one."""
    view = current_views().ensure(key)
    if requested is None:
        view.head = found
    elif found is not None:
        view.saw_explicit(found)


def expectation(key: ThreadKey, *, parent: str | None, new: str) -> Expectation:
    """The heads that make writing ``new`` on top of ``parent`` legitimate."""
    views = peek_views()
    view = views.get(key) if views is not None else None
    if view is None:
        return ANY_HEAD
    if parent is not None and parent in view.explicit:
        if isinstance(view.head, _Unknown):
            return ANY_HEAD
        return Expectation(any_head=False, heads=frozenset({parent, new, view.head}))
    return Expectation(any_head=False, heads=frozenset({parent, new}))


def record_write(key: ThreadKey, new: str) -> None:
    """After a successful write, the writer's view of the head is its own checkpoint."""
    views = peek_views()
    view = views.get(key) if views is not None else None
    if view is not None:
        view.head = new
