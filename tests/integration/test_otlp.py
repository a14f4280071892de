"""Spans reach a real OTLP/HTTP receiver, configured by the standard variables."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

CHILD = Path(__file__).with_name("otlp_child.py")


class _Receiver(HTTPServer):
    """Collects the spans of every OTLP export request it is sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.spans: list[Any] = []
        self.resources: list[dict[str, str]] = []


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            attrs = {
                a.key: a.value.string_value for a in resource_spans.resource.attributes
            }
            self.server.resources.append(attrs)
            for scope_spans in resource_spans.scope_spans:
                self.server.spans.extend(scope_spans.spans)
        payload = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        """Quiet: the test reads what was received, not the access log."""


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    """An OTLP/HTTP trace receiver on a free loopback port."""
    server = _Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _attributes(span: Any) -> dict[str, str]:
    return {
        a.key: a.value.string_value or str(a.value.int_value) for a in span.attributes
    }


def test_span_tree_arrives_over_otlp(receiver: _Receiver, tmp_path: Path) -> None:
    """invoke_workflow, node and checkpoint spans arrive, correctly parented."""
    thread = str(uuid.uuid4())
    port = receiver.server_address[1]
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{port}/v1/traces",
        "OTEL_SERVICE_NAME": "stateward-test",
    }
    subprocess.run(
        [sys.executable, str(CHILD), str(tmp_path / "t.db"), thread],
        env=env,
        check=True,
        timeout=60,
    )
    spans = {s.name: s for s in receiver.spans}
    root = spans["invoke_workflow traced_graph"]
    assert root.parent_span_id == b""
    assert _attributes(root)["gen_ai.conversation.id"] == thread
    assert _attributes(root)["gen_ai.operation.name"] == "invoke_workflow"
    for name in ("node plan", "node act"):
        assert spans[name].parent_span_id == root.span_id
        assert spans[name].trace_id == root.trace_id
    puts = [s for s in receiver.spans if s.name == "checkpoint put"]
    assert len(puts) == 4
    assert all(s.parent_span_id == root.span_id for s in puts)
    assert all(_attributes(s)["gen_ai.conversation.id"] == thread for s in puts)
    assert {"service.name": "stateward-test"}.items() <= receiver.resources[0].items()
