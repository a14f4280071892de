"""Wire OpenTelemetry export from the standard ``OTEL_*`` variables (an edge concern).

The command line and the server call :func:`configure_tracing` with their
environment; library code never reads it. Without an OTLP endpoint configured, or
without the ``otel`` extra, nothing is set up and spans stay free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stateward import errors

ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


def configure_tracing(environ: Mapping[str, str]) -> Any:
    """Install an SDK tracer provider exporting over OTLP/HTTP, if an endpoint is set.

    Returns the provider (call ``shutdown()`` on it to flush at exit), or None when
    tracing is not configured.
    """
    if not any(environ.get(name) for name in ENDPOINT_VARIABLES):
        return None
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    try:
        from opentelemetry import trace  # noqa: PLC0415 - optional extra
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415
    except ImportError as exc:
        raise errors.InvalidInputError(
            "OTEL_EXPORTER_OTLP_* is set but OpenTelemetry is not installed: "
            "pip install 'stateward[otel]'"
        ) from exc
    service = environ.get("OTEL_SERVICE_NAME", "stateward")
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    # The exporter reads its endpoint, headers and timeout from OTEL_* itself.
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider
