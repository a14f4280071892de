"""Logs, metrics and traces of a real graph run on a real saver."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from stateward import errors
from stateward.checkpoint import SqliteSaver
from stateward.observability import GraphObserver
from tests.integration.helpers import plan_act_graph

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def tracer_provider() -> None:
    """An SDK provider exporting to memory (the global provider is set only once)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    trace.set_tracer_provider(provider)


def _graph(saver: SqliteSaver, fail_in: str | None = None) -> Any:
    return plan_act_graph(saver, "demo_graph", fail_in)


def _events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_node_events_are_json_with_correlated_ids(
    sqlite_path: Path, log_lines: io.StringIO
) -> None:
    """node_start/node_end events carry thread id, node, step and a duration."""
    thread = str(uuid.uuid4())
    with SqliteSaver.from_conn_string(str(sqlite_path)) as saver:
        config: Any = {
            "configurable": {"thread_id": thread},
            "callbacks": [GraphObserver()],
        }
        _graph(saver).invoke({"log": []}, config)
    events = _events(log_lines)
    nodes = [(e["event"], e["node"]) for e in events if e["event"].startswith("node_")]
    assert nodes == [
        ("node_start", "plan"),
        ("node_end", "plan"),
        ("node_start", "act"),
        ("node_end", "act"),
    ]
    run_ids = {e["run_id"] for e in events if e["event"].startswith("node_")}
    assert len(run_ids) == 1, "every node event names the same run"
    written = [e for e in events if e["event"] == "checkpoint_written"]
    assert len(written) == 4
    assert all(e["thread_id"] == thread and e["checkpoint_id"] for e in written)
    for event in events:
        if event["event"].startswith("node_"):
            assert event["thread_id"] == thread
            assert event["graph"] == "demo_graph"
            assert isinstance(event["step"], int)
            assert "timestamp" in event
    assert all("log" not in e for e in events), "state values must not be logged"


def test_node_error_is_logged_and_counted(
    sqlite_path: Path, log_lines: io.StringIO
) -> None:
    """A failing node gives a node_error event and an error outcome metric."""
    before = _sample("stateward_node_executions_total", node="act", outcome="error")
    with SqliteSaver.from_conn_string(str(sqlite_path)) as saver:
        config: Any = {
            "configurable": {"thread_id": "t"},
            "callbacks": [GraphObserver()],
        }
        with pytest.raises(KeyError):
            _graph(saver, fail_in="act").invoke({"log": []}, config)
    errors_logged = [e for e in _events(log_lines) if e["event"] == "node_error"]
    assert [(e["node"], e["error"]) for e in errors_logged] == [("act", "KeyError")]
    after = _sample("stateward_node_executions_total", node="act", outcome="error")
    assert after == before + 1


def test_storage_metrics_and_conflicts(
    sqlite_path: Path, log_lines: io.StringIO
) -> None:
    """Saver operations are timed and sized; a conflict is counted and logged."""
    puts = _sample(
        "stateward_storage_operation_seconds_count", backend="sqlite", operation="put"
    )
    conflicts = _sample("stateward_conflicts_total", backend="sqlite")
    thread = str(uuid.uuid4())
    with (
        SqliteSaver.from_conn_string(str(sqlite_path)) as first,
        SqliteSaver.from_conn_string(str(sqlite_path)) as second,
    ):
        config: Any = {"configurable": {"thread_id": thread}}
        _graph(first).invoke({"log": []}, config)
        graph = _graph(second)
        stale = graph.get_state(config).config  # the head, as this writer saw it
        _graph(first).invoke({"log": []}, config)  # another writer moves the head
        with pytest.raises(errors.ConflictError):
            second.put(stale, _empty_checkpoint(), {"source": "loop", "step": 9}, {})
    after_puts = _sample(
        "stateward_storage_operation_seconds_count", backend="sqlite", operation="put"
    )
    # Two invokes of 4 checkpoints each (input, start, plan, act), and the refused one.
    assert after_puts == puts + 9
    assert _sample("stateward_checkpoint_write_bytes_count", backend="sqlite") > 0
    assert _sample("stateward_conflicts_total", backend="sqlite") == conflicts + 1
    logged = [e for e in _events(log_lines) if e["event"] == "conflict"]
    assert len(logged) == 1
    assert logged[0]["thread_id"] == thread


def _empty_checkpoint() -> Any:
    from langgraph.checkpoint.base import empty_checkpoint

    return empty_checkpoint()


def _by_name(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def test_span_tree_follows_genai_conventions(sqlite_path: Path) -> None:
    """invoke_workflow {graph} holds one child span per node; checkpoint spans exist."""
    _EXPORTER.clear()
    thread = str(uuid.uuid4())
    with SqliteSaver.from_conn_string(str(sqlite_path)) as saver:
        config: Any = {
            "configurable": {"thread_id": thread},
            "callbacks": [GraphObserver()],
        }
        _graph(saver).invoke({"log": []}, config)
    spans = _EXPORTER.get_finished_spans()
    (root,) = _by_name(spans, "invoke_workflow demo_graph")
    assert root.attributes is not None
    assert root.attributes["gen_ai.operation.name"] == "invoke_workflow"
    assert root.attributes["gen_ai.conversation.id"] == thread
    assert root.parent is None
    for node in ("plan", "act"):
        (span,) = _by_name(spans, f"node {node}")
        assert span.parent is not None
        assert span.parent.span_id == root.context.span_id
    puts = _by_name(spans, "checkpoint put")
    assert len(puts) == 4  # input, start, plan, act
    for put in puts:
        assert put.attributes is not None
        assert put.attributes["gen_ai.conversation.id"] == thread
        assert put.parent is not None
        assert put.parent.span_id == root.context.span_id
