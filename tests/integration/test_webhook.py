"""WebhookNotifier on real graph runs, posting to a real HTTP receiver on loopback."""

from __future__ import annotations

import io
import json
import operator
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from stateward.checkpoint import SqliteSaver
from stateward.observability import GraphObserver
from stateward.observability.webhook import MESSAGE_LIMIT, WebhookNotifier

PRIVATE = "state-value-that-must-not-leave"


class _Receiver(ThreadingHTTPServer):
    """Records each JSON body posted to it; answers with queued statuses, then 200."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[dict[str, Any]] = []
        self.requests = 0
        self.statuses: list[int] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/hook/T000/SECRET"


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests += 1
            status = self.server.statuses.pop(0) if self.server.statuses else 200
            if status == 200:
                self.server.bodies.append(json.loads(body))
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    """A webhook receiver on 127.0.0.1, an ephemeral port, in a thread."""
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


class Steps(TypedDict):
    """Each node appends to the log; the first entry is a secret state value."""

    log: Annotated[list[str], operator.add]


def _graph(saver: SqliteSaver, behaviour: str = "ok") -> Any:
    def plan(state: Steps) -> dict[str, list[str]]:
        return {"log": ["plan"]}

    def act(state: Steps) -> dict[str, list[str]]:
        if behaviour == "fail":
            raise ValueError("upstream refused the request: " + "x" * 1000)
        if behaviour == "interrupt":
            interrupt("confirm?")
        return {"log": ["act"]}

    builder = StateGraph(Steps)
    builder.add_node("plan", plan)
    builder.add_node("act", act)
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "act")
    builder.add_edge("act", END)
    return builder.compile(checkpointer=saver, name="hooked_graph")


def _run(saver: SqliteSaver, notifier: WebhookNotifier, behaviour: str) -> Any:
    config: Any = {
        "configurable": {"thread_id": f"thread-{behaviour}"},
        "callbacks": [GraphObserver(notifier=notifier)],
    }
    return _graph(saver, behaviour).invoke({"log": [PRIVATE]}, config)


def _events(stream: io.StringIO, name: str) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in stream.getvalue().splitlines() if line]
    return [e for e in events if e["event"] == name]


def test_failing_graph_posts_one_message(receiver: _Receiver, tmp_path: Path) -> None:
    """A failed run posts one Slack message: graph, thread, node, error; no state."""
    notifier = WebhookNotifier(receiver.url, timeout=2.0)
    with (
        SqliteSaver.from_conn_string(str(tmp_path / "s.db")) as saver,
        pytest.raises(ValueError, match="upstream refused"),
    ):
        _run(saver, notifier, "fail")
    assert notifier.wait(10)
    assert receiver.requests == 1
    (body,) = receiver.bodies
    assert set(body) == {"text", "blocks"}
    text = body["text"]
    assert "hooked_graph" in text
    assert "thread-fail" in text
    assert "`act`" in text
    assert "ValueError" in text
    fields = [f["text"] for f in body["blocks"][1]["fields"]]
    assert fields == [
        "*Graph*\n`hooked_graph`",
        "*Thread*\n`thread-fail`",
        "*Node*\n`act`",
        "*Error*\n`ValueError`",
    ]
    message = body["blocks"][2]["text"]["text"]
    assert message.startswith("```upstream refused the request: xxx")
    assert len(message) <= MESSAGE_LIMIT + 6
    assert message.endswith("…```")
    assert PRIVATE not in json.dumps(body)


def test_succeeding_or_interrupted_run_posts_nothing(
    receiver: _Receiver, tmp_path: Path
) -> None:
    """A run that succeeds, or stops at an interrupt, posts no message."""
    notifier = WebhookNotifier(receiver.url, timeout=2.0)
    with SqliteSaver.from_conn_string(str(tmp_path / "s.db")) as saver:
        done = _run(saver, notifier, "ok")
        assert done["log"] == [PRIVATE, "plan", "act"]
        paused = _run(saver, notifier, "interrupt")
        assert "__interrupt__" in paused
    assert notifier.wait(10)
    assert receiver.requests == 0


def test_unreachable_receiver_does_not_break_the_run(
    tmp_path: Path, log_lines: io.StringIO
) -> None:
    """With nothing listening, the run fails with its own error and
    webhook_failed is logged after bounded retries."""
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    notifier = WebhookNotifier(f"http://127.0.0.1:{port}/hook", timeout=1.0)
    with SqliteSaver.from_conn_string(str(tmp_path / "s.db")) as saver:
        with pytest.raises(ValueError, match="upstream refused"):
            _run(saver, notifier, "fail")
        assert _run(saver, notifier, "ok")["log"][-1] == "act"
    assert notifier.wait(10)
    (failed,) = _events(log_lines, "webhook_failed")
    assert failed["error"] == "ConnectError"
    assert failed["attempts"] == 3
    assert failed["host"] == "127.0.0.1"
    assert failed["graph"] == "hooked_graph"
    assert failed["thread_id"] == "thread-fail"


def test_transient_status_is_retried_and_client_error_is_not(
    receiver: _Receiver, log_lines: io.StringIO
) -> None:
    """A 503 is retried until delivered; a 400 is given up at once and logged,
    without the URL's secret path."""
    notifier = WebhookNotifier(receiver.url, timeout=2.0)
    receiver.statuses = [503]
    with pytest.raises(RuntimeError):
        _fail_in_memory(notifier)
    assert notifier.wait(10)
    assert (receiver.requests, len(receiver.bodies)) == (2, 1)
    receiver.statuses = [400]
    with pytest.raises(RuntimeError):
        _fail_in_memory(notifier)
    assert notifier.wait(10)
    assert (receiver.requests, len(receiver.bodies)) == (3, 1)
    (failed,) = _events(log_lines, "webhook_failed")
    assert (failed["error"], failed["status"], failed["attempts"]) == (
        "HTTPStatusError",
        400,
        1,
    )
    assert "SECRET" not in log_lines.getvalue()


def _fail_in_memory(notifier: WebhookNotifier) -> None:
    def boom(state: Steps) -> dict[str, list[str]]:
        raise RuntimeError("boom")

    builder = StateGraph(Steps)
    builder.add_node("boom", boom)
    builder.add_edge(START, "boom")
    builder.add_edge("boom", END)
    builder.compile(name="no_saver").invoke(
        {"log": []}, {"callbacks": [GraphObserver(notifier=notifier)]}
    )


def test_notifier_rejects_a_malformed_url() -> None:
    """A URL that is not http(s) fails when the notifier is made, not in a run."""
    with pytest.raises(ValueError, match="http"):
        WebhookNotifier("ftp://example.invalid/hook")
