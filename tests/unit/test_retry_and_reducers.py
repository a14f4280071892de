"""Retry presets and replay-safe reducers, run through real LangGraph graphs."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import httpx
import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from stateward import errors
from stateward.core.retry import is_transient_error
from stateward.reducers import add_messages_once, keys_seen, seen
from stateward.retry import retry_transient, transient_retry_policy


def _http_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://127.0.0.1/")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError("boom", request=request, response=response)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (_http_error(429), True),
        (_http_error(503), True),
        (_http_error(404), False),
        (_http_error(400), False),
        (errors.StorageUnavailableError("down"), True),
        (TypeError("bug"), False),
        (KeyError("bug"), False),
        (ValueError("bug"), False),
        (RuntimeError("unknown"), False),
    ],
)
def test_transient_classification(exc: BaseException, transient: bool) -> None:
    """The world's failures are transient; programming errors and unknowns are not."""
    assert is_transient_error(exc) is transient


class Counted(TypedDict):
    """A state that counts node attempts."""

    attempts: Annotated[int, operator.add]


def _graph(node: Any) -> Any:
    builder = StateGraph(Counted)
    builder.add_node(
        "call", node, retry_policy=transient_retry_policy(initial_interval=0.01)
    )
    builder.add_edge(START, "call")
    builder.add_edge("call", END)
    return builder.compile()


def test_node_policy_retries_transient_failures() -> None:
    """A node failing twice with 503 then succeeding is run three times."""
    calls: list[int] = []

    def flaky(state: Counted) -> dict[str, int]:
        calls.append(1)
        if len(calls) < 3:
            raise _http_error(503)
        return {"attempts": len(calls)}

    assert _graph(flaky).invoke({"attempts": 0}) == {"attempts": 3}


def test_node_policy_never_retries_a_bug() -> None:
    """A node raising TypeError runs once and the error propagates."""
    calls: list[int] = []

    def buggy(state: Counted) -> dict[str, int]:
        calls.append(1)
        raise TypeError("bug")

    with pytest.raises(TypeError):
        _graph(buggy).invoke({"attempts": 0})
    assert calls == [1]


def test_decorator_retries_then_reraises_the_original() -> None:
    """retry_transient retries a transient error, then raises it unchanged."""
    calls: list[int] = []

    @retry_transient(attempts=3, initial_wait=0.001, max_wait=0.002)
    def always_down() -> None:
        calls.append(1)
        raise ConnectionResetError("reset")

    with pytest.raises(ConnectionResetError):
        always_down()
    assert len(calls) == 3


async def test_decorator_handles_coroutines() -> None:
    """retry_transient works on async functions too."""
    calls: list[int] = []

    @retry_transient(attempts=3, initial_wait=0.001, max_wait=0.002)
    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 2:
            raise TimeoutError
        return "ok"

    assert await flaky() == "ok"
    assert len(calls) == 2


def test_add_messages_once_ignores_known_ids() -> None:
    """Re-sending a message with a known id does not duplicate or replace it."""
    first = [HumanMessage("hi", id="m1"), AIMessage("hello", id="m2")]
    merged = add_messages_once(first, [HumanMessage("hi again", id="m1")])
    assert [m.content for m in merged] == ["hi", "hello"]
    merged = add_messages_once(merged, [HumanMessage("new", id="m3")])
    assert [m.id for m in merged] == ["m1", "m2", "m3"]


def test_add_messages_once_still_removes() -> None:
    """RemoveMessage keeps working."""
    merged = add_messages_once([HumanMessage("hi", id="m1")], [RemoveMessage(id="m1")])
    assert merged == []


class Chat(TypedDict):
    """A chat whose inputs carry an idempotency key."""

    messages: Annotated[list[AnyMessage], add_messages_once]
    processed: Annotated[list[str], keys_seen(limit=3)]
    request_key: str


def test_replayed_input_is_processed_once() -> None:
    """The same request (same key, same message id) sent twice produces one reply."""

    def reply(state: Chat) -> dict[str, Any]:
        key = state["request_key"]
        if seen(state["processed"], key):
            return {}
        answer = AIMessage(f"reply to {key}")
        return {"messages": [answer], "processed": [key]}

    builder = StateGraph(Chat)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config: Any = {"configurable": {"thread_id": "t"}}
    request = {"messages": [HumanMessage("q", id="q1")], "request_key": "k1"}
    graph.invoke(request, config)
    state = graph.invoke(request, config)  # the client retried: same key, same id
    assert [m.content for m in state["messages"]] == ["q", "reply to k1"]
    assert state["processed"] == ["k1"]


def test_keys_seen_rejects_a_useless_limit() -> None:
    """A limit below one is a clear, typed error."""
    with pytest.raises(errors.InvalidInputError, match="at least 1"):
        keys_seen(limit=0)


def test_keys_seen_is_bounded() -> None:
    """Only the most recent distinct keys are kept."""
    reduce = keys_seen(limit=2)
    assert reduce(reduce(["a"], ["b", "a"]), "c") == ["a", "c"]
