"""State history of a thread: timeline, diff and blame, over any checkpoint saver.

Everything is derived from what a LangGraph 1.2 saver stores; no graph is needed.

How the producing node of a checkpoint is found:

* ``loop`` checkpoints: when a task runs, LangGraph records in the new
  checkpoint's ``versions_seen[node]`` the versions of the channels that
  triggered it. So the nodes whose ``versions_seen`` entry differs between a
  checkpoint and its parent are exactly the tasks of that superstep
  (``__start__`` is the node that applies the graph input).
* ``input`` and ``fork`` checkpoints: no node ran (``nodes`` is empty).
* ``update`` checkpoints (``update_state``): ``versions_seen`` does not move and
  the metadata no longer names ``as_node``. Its writes are stored as pending
  writes on the parent, under task id ``uuid5(parent_id, "__interrupt__")`` (or
  a prepared task id). Those writes include the node's outgoing edges
  (``branch:to:<next>``); we match that edge set against the edges each node
  wrote when it ran alone in a ``loop`` step of the same thread. If no node (or
  more than one) matches, ``nodes`` is empty and the tables show ``?``.

Changed keys compare ``channel_versions`` with the parent's, leaving out
LangGraph's own channels (``__start__``, ``branch:to:*``, any ``__*`` name).
Blame follows the head's parent links, so abandoned forks are never blamed.

Limits: values are read from ``channel_values``; a ``DeltaChannel`` (beta)
field, stored as deltas, is not reconstructed.
"""

from __future__ import annotations

from stateward.history._thread import HistoryNotFoundError
from stateward.history.blame import BlameLine, blame
from stateward.history.diff import KeyChange, ListItem, StateDiff, diff
from stateward.history.render import (
    render_blame,
    render_diff,
    render_timeline,
    to_json,
)
from stateward.history.timeline import TimelineEntry, timeline

__all__ = [
    "BlameLine",
    "HistoryNotFoundError",
    "KeyChange",
    "ListItem",
    "StateDiff",
    "TimelineEntry",
    "blame",
    "diff",
    "render_blame",
    "render_diff",
    "render_timeline",
    "timeline",
    "to_json",
]
