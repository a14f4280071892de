"""State history (timeline, diff, blame) over a real three-node graph, on both
backends: two turns, an ``update_state`` edit, then a fork from turn one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from stateward import cli, history
from stateward.checkpoint._base import StatewardSaver
from tests.integration.helpers import Backend, open_saver, thread_config

THREAD = "chat"


class ChatState(TypedDict):
    """Messages plus a counter that two nodes change."""

    messages: Annotated[list[AnyMessage], add_messages]
    counter: int


def _label(state: ChatState) -> str:
    human = [m for m in state["messages"] if isinstance(m, HumanMessage)]
    return str(human[-1].content)


def agent(state: ChatState) -> dict[str, Any]:
    """Answers the turn and adds one to the counter."""
    label = _label(state)
    reply = AIMessage(f"agent says {label}", id=f"agent-{label}")
    return {"messages": [reply], "counter": state["counter"] + 1}


def tool(state: ChatState) -> dict[str, Any]:
    """Adds a tool result for the turn."""
    label = _label(state)
    result = ToolMessage(f"tool ran {label}", tool_call_id=label, id=f"tool-{label}")
    return {"messages": [result]}


def summarize(state: ChatState) -> dict[str, Any]:
    """Multiplies the counter by ten; adds no message."""
    return {"counter": state["counter"] * 10}


@dataclass(frozen=True)
class Recorded:
    """A saver holding the scenario, and the heads it passed through."""

    saver: StatewardSaver
    turn1: str
    turn2: str
    update: str
    head: str | None  # the fork's head, if the scenario forked


def _head(app: Any) -> str:
    return str(
        app.get_state(thread_config(THREAD)).config["configurable"]["checkpoint_id"]
    )


def record(saver: StatewardSaver, *, fork: bool) -> Recorded:
    """Turn one, turn two, an edit as ``agent``, and (maybe) a fork from turn one."""
    builder = StateGraph(ChatState)
    for name, node in (("agent", agent), ("tool", tool), ("summarize", summarize)):
        builder.add_node(name, node)
    builder.add_edge(START, "agent")
    builder.add_edge("agent", "tool")
    builder.add_edge("tool", "summarize")
    builder.add_edge("summarize", END)
    app: Any = builder.compile(checkpointer=saver)  # partial inputs: no overload
    config = thread_config(THREAD)
    app.invoke(
        {"messages": [HumanMessage("one", id="human-one")], "counter": 0}, config
    )
    turn1 = _head(app)
    app.invoke({"messages": [HumanMessage("two", id="human-two")]}, config)
    turn2 = _head(app)
    edit = AIMessage("edited by hand", id="agent-one")  # replaces turn one's reply
    app.update_state(config, {"messages": [edit]}, as_node="agent")
    update = _head(app)
    head = None
    if fork:
        fork_input = {"messages": [HumanMessage("three", id="human-three")]}
        app.invoke(fork_input, thread_config(THREAD, turn1))
        head = _head(app)
    return Recorded(saver, turn1, turn2, update, head)


@pytest.fixture
def saver(backend: tuple[Backend, str]) -> Iterator[StatewardSaver]:
    """A saver on a fresh database of the parametrised backend."""
    with open_saver(*backend) as opened:
        yield opened


def _rows(
    entries: list[history.TimelineEntry],
) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(e.source, ",".join(e.nodes), e.changed) for e in entries]


TURN_ONE = [
    ("input", "", ()),
    ("loop", "__start__", ("counter", "messages")),
    ("loop", "agent", ("counter", "messages")),
    ("loop", "tool", ("messages",)),
    ("loop", "summarize", ("counter",)),
]
LATER_TURN = [
    ("input", "", ()),
    ("loop", "__start__", ("messages",)),
    ("loop", "agent", ("counter", "messages")),
    ("loop", "tool", ("messages",)),
    ("loop", "summarize", ("counter",)),
]


def test_timeline_names_nodes_sources_and_changed_keys(saver: StatewardSaver) -> None:
    """Every checkpoint, oldest first, names its node, its source and changed keys."""
    recorded = record(saver, fork=True)
    entries = history.timeline(saver, THREAD)
    update = [("update", "agent", ("messages",))]
    assert _rows(entries) == TURN_ONE + LATER_TURN + update + LATER_TURN
    ids = [e.checkpoint_id for e in entries]
    assert ids[4] == recorded.turn1
    assert ids[9] == recorded.turn2
    assert ids[10] == recorded.update
    assert ids[-1] == recorded.head
    assert [e.step for e in entries[11:]] == [4, 5, 6, 7, 8]
    assert entries[11].parent_id == recorded.turn1  # the fork's input
    on_head = [e.on_head for e in entries]
    assert on_head == [True] * 5 + [False] * 6 + [True] * 5


def test_diff_shows_appended_messages_and_changed_counter(
    saver: StatewardSaver,
) -> None:
    """Turn one to turn two: three messages appended, the counter 10 -> 110."""
    recorded = record(saver, fork=False)
    result = history.diff(saver, THREAD, recorded.turn1, recorded.turn2[:30])
    assert result.b == recorded.turn2
    by_key = {c.key: c for c in result.changes}
    assert set(by_key) == {"counter", "messages"}
    assert (by_key["counter"].before, by_key["counter"].after) == ("10", "110")
    messages = by_key["messages"]
    assert messages.removed_items == ()
    assert [(i.index, i.text) for i in messages.added_items] == [
        (3, "human human-two: two"),
        (4, "ai agent-two: agent says two"),
        (5, "tool tool-two: tool ran two"),
    ]
    text = history.render_diff(result)
    assert "~ counter: 10 -> 110" in text
    assert "+ [4] ai agent-two: agent says two" in text


def test_diff_shows_a_message_replaced_by_id(saver: StatewardSaver) -> None:
    """The edit replaces turn one's reply in place: removed and added at index 1."""
    recorded = record(saver, fork=False)
    result = history.diff(saver, THREAD, recorded.turn2, recorded.update)
    assert [c.key for c in result.changes] == ["messages"]
    change = result.changes[0]
    assert [(i.index, i.text) for i in change.removed_items] == [
        (1, "ai agent-one: agent says one")
    ]
    assert [(i.index, i.text) for i in change.added_items] == [
        (1, "ai agent-one: edited by hand")
    ]


def test_blame_attributes_messages_and_the_edit(saver: StatewardSaver) -> None:
    """Each message is blamed on the node and step that last set it (edit: agent)."""
    recorded = record(saver, fork=False)
    lines = history.blame(saver, THREAD, "messages")
    assert [(ln.index, ln.step, ",".join(ln.nodes), ln.source) for ln in lines] == [
        (0, 0, "__start__", "loop"),
        (1, 9, "agent", "update"),
        (2, 2, "tool", "loop"),
        (3, 5, "__start__", "loop"),
        (4, 6, "agent", "loop"),
        (5, 7, "tool", "loop"),
    ]
    assert lines[1].checkpoint_id == recorded.update
    assert lines[1].text == "ai agent-one: edited by hand"


def test_blame_after_fork_ignores_abandoned_branch(saver: StatewardSaver) -> None:
    """After the fork, turn one and the fork's messages are blamed; the edit is not."""
    recorded = record(saver, fork=True)
    lines = history.blame(saver, THREAD, "messages")
    assert lines[1].text == "ai agent-one: agent says one"
    assert (lines[1].step, lines[1].nodes) == (1, ("agent",))
    assert [ln.text.split(":")[0] for ln in lines] == [
        "human human-one",
        "ai agent-one",
        "tool tool-one",
        "human human-three",
        "ai agent-three",
        "tool tool-three",
    ]
    assert [ln.step for ln in lines] == [0, 1, 2, 5, 6, 7]
    on_head = {e.checkpoint_id for e in history.timeline(saver, THREAD) if e.on_head}
    assert {ln.checkpoint_id for ln in lines} <= on_head
    assert lines[-1].checkpoint_id != recorded.update
    counter = history.blame(saver, THREAD, "counter")
    assert [(c.index, c.text, c.nodes, c.step) for c in counter] == [
        (None, "110", ("summarize",), 8)
    ]


def test_unknown_thread_checkpoint_and_key_are_named(saver: StatewardSaver) -> None:
    """Asking about what does not exist raises HistoryNotFoundError naming it."""
    recorded = record(saver, fork=False)
    with pytest.raises(history.HistoryNotFoundError, match="'nobody'"):
        history.timeline(saver, "nobody")
    with pytest.raises(history.HistoryNotFoundError, match="'feedface'"):
        history.diff(saver, THREAD, recorded.turn1, "feedface")
    with pytest.raises(history.HistoryNotFoundError, match=r"'colour'.*counter"):
        history.blame(saver, THREAD, "colour")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stateward", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_history_json_via_subprocess(sqlite_path: Path) -> None:
    """`python -m stateward history --json` prints the whole timeline as JSON."""
    with open_saver("sqlite", str(sqlite_path)) as opened:
        recorded = record(opened, fork=True)
    url = f"sqlite:///{sqlite_path}"
    done = _cli("history", THREAD, "--database-url", url, "--json")
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert len(entries) == 16
    assert entries[-1]["checkpoint_id"] == recorded.head
    assert entries[10]["source"] == "update"
    assert entries[10]["nodes"] == ["agent"]


def test_cli_prints_tables_and_exits_2_on_unknown_names(
    sqlite_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """blame/diff print readable tables; an unknown thread or key exits 2, named."""
    with open_saver("sqlite", str(sqlite_path)) as opened:
        recorded = record(opened, fork=False)
    url = ["--database-url", f"sqlite:///{sqlite_path}"]
    assert cli.main(["blame", THREAD, "counter", *url]) == 0
    assert (
        f"-      8     summarize  loop    {recorded.turn2}  110"
        in capsys.readouterr().out
    )
    assert cli.main(["diff", THREAD, recorded.turn1, recorded.turn2, *url]) == 0
    assert "~ counter: 10 -> 110" in capsys.readouterr().out
    assert cli.main(["history", "nobody", *url]) == 2
    assert "thread 'nobody'" in capsys.readouterr().err
    assert cli.main(["blame", THREAD, "colour", *url]) == 2
    assert "key 'colour'" in capsys.readouterr().err
