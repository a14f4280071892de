"""A LangChain callback handler that observes graph runs node by node.

Pass it in the run's config (``graph.invoke(x, {"callbacks": [GraphObserver()]})``;
the server attaches one to every run). It emits ``node_start`` (debug),
``node_end`` and ``node_error`` events, counts and times nodes, and opens an
``invoke_workflow {graph}`` span with a child span per node. Given a ``notifier``
(e.g. a :class:`~stateward.observability.webhook.WebhookNotifier`), it reports each
graph run that ends with an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.errors import GraphBubbleUp

from stateward.observability import logging as events
from stateward.observability import metrics, tracing
from stateward.observability.webhook import FailureNotifier, RunFailure


@dataclass(slots=True)
class _Open:
    """A graph or node run between its start and end callbacks."""

    node: str | None
    fields: dict[str, Any]
    started: float
    span: Any
    token: Any = None
    parent: _Open | None = None
    failed_node: str | None = None  # on a graph run: its first node that raised


class GraphObserver(BaseCallbackHandler):
    """Node events, node metrics and a span tree for LangGraph runs."""

    run_inline = True  # cheap and ordered: no hop to an executor per callback

    def __init__(self, *, notifier: FailureNotifier | None = None) -> None:
        self._open: dict[UUID, _Open] = {}
        self._log = events.get_logger()
        self._notifier = notifier

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        metadata = metadata or {}
        name = kwargs.get("name") or "graph"
        parent = self._open.get(parent_run_id) if parent_run_id else None
        if parent_run_id is None:
            self._start_graph(run_id, name, metadata)
        elif parent is not None and parent.node is None and _is_node(name, metadata):
            self._start_node(run_id, name, metadata, parent)

    def _start_graph(self, run_id: UUID, name: str, metadata: dict[str, Any]) -> None:
        # The root run id is the run's own: a caller's config["run_id"] when given.
        fields = {
            "graph": name,
            "thread_id": metadata.get("thread_id"),
            "run_id": str(run_id),
        }
        attributes = {
            tracing.OPERATION_NAME: "invoke_workflow",
            "gen_ai.workflow.name": name,
        }
        if fields["thread_id"] is not None:
            attributes[tracing.CONVERSATION_ID] = str(fields["thread_id"])
        span = tracing.start_span(f"invoke_workflow {name}", attributes)
        token = tracing.enter_workflow(span) if span is not None else None
        self._open[run_id] = _Open(None, fields, time.perf_counter(), span, token)

    def _start_node(
        self, run_id: UUID, node: str, metadata: dict[str, Any], parent: _Open
    ) -> None:
        fields = {
            **parent.fields,
            "node": node,
            "step": metadata.get("langgraph_step"),
            "task": metadata.get("langgraph_checkpoint_ns"),
        }
        attributes = {"stateward.node": node, "stateward.step": fields["step"] or 0}
        if fields.get("thread_id") is not None:
            attributes[tracing.CONVERSATION_ID] = str(fields["thread_id"])
        span = tracing.start_span(f"node {node}", attributes, parent.span)
        self._open[run_id] = _Open(
            node, fields, time.perf_counter(), span, parent=parent
        )
        # Debug: node_end carries the same ids and the duration; at INFO, one event
        # per node keeps logging's cost per step small.
        if events.debug_enabled():
            self._log.debug(events.NODE_START, **fields)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._finish(run_id, None)

    def on_chain_error(
        self, error: BaseException, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self._finish(run_id, error)

    def _finish(self, run_id: UUID, error: BaseException | None) -> None:
        run = self._open.pop(run_id, None)
        if run is None:
            return
        # An interrupt or a Command bubbling up is control flow, not a failure.
        failed = error is not None and not isinstance(error, GraphBubbleUp)
        tracing.end_span(run.span, error if failed else None)
        if run.token is not None:
            tracing.leave_workflow(run.token)
        if run.node is None:
            if failed and self._notifier is not None:
                assert error is not None  # noqa: S101 - failed implies an error
                self._notifier.notify(
                    RunFailure.from_error(
                        run.fields["graph"],
                        run.fields["thread_id"],
                        run.failed_node,
                        error,
                    )
                )
            return
        seconds = time.perf_counter() - run.started
        outcome = "error" if failed else "success"
        metrics.child(metrics.NODE_EXECUTIONS, run.node, outcome).inc()
        metrics.child(metrics.NODE_SECONDS, run.node).observe(seconds)
        if failed:
            assert error is not None  # noqa: S101 - failed implies an error
            if run.parent is not None and run.parent.failed_node is None:
                run.parent.failed_node = run.node
            self._log.warning(
                events.NODE_ERROR,
                **run.fields,
                duration_s=round(seconds, 6),
                error=type(error).__name__,
            )
        else:
            self._log.info(events.NODE_END, **run.fields, duration_s=round(seconds, 6))


def _is_node(name: str, metadata: dict[str, Any]) -> bool:
    """A node's own run, not a runnable inside it (those share its metadata)."""
    return name == metadata.get("langgraph_node")
