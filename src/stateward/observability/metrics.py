"""Prometheus metrics, ``stateward_*`` in base units; no-ops without the extra.

Labels are low-cardinality only (backend, operation, node, outcome): never a
thread, run or checkpoint id.
"""

from __future__ import annotations

from typing import Any, Final

try:
    import prometheus_client
except ImportError:  # pragma: no cover - exercised where the extra is absent
    prometheus_client = None  # type: ignore[assignment]  # the no-op path below

_LATENCY_BUCKETS: Final = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0
)  # fmt: skip
_BYTES_BUCKETS: Final = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304)
_NODE_BUCKETS: Final = (0.001, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)


class _Noop:
    """Stands in for a metric when prometheus_client is not installed."""

    def labels(self, *_: Any, **__: Any) -> _Noop:
        return self

    def inc(self, *_: Any) -> None:
        pass

    def observe(self, *_: Any) -> None:
        pass


_children: dict[tuple[Any, ...], Any] = {}


def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once: labels() takes a lock each time.

    Only for label values from a small fixed set (backend, operation, node name).
    """
    key = (id(metric), *labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


def _histogram(
    name: str, doc: str, labels: list[str], buckets: tuple[float, ...]
) -> Any:
    if prometheus_client is None:
        return _Noop()
    return prometheus_client.Histogram(name, doc, labels, buckets=buckets)


def _counter(name: str, doc: str, labels: list[str]) -> Any:
    if prometheus_client is None:
        return _Noop()
    return prometheus_client.Counter(name, doc, labels)


STORAGE_SECONDS: Final = _histogram(
    "stateward_storage_operation_seconds",
    "Time a saver operation took, retries included.",
    ["backend", "operation"],
    _LATENCY_BUCKETS,
)
CHECKPOINT_BYTES: Final = _histogram(
    "stateward_checkpoint_write_bytes",
    "Serialised size of a checkpoint write: the checkpoint and the values it stored.",
    ["backend"],
    _BYTES_BUCKETS,
)
CHECKPOINT_READ_BYTES: Final = _histogram(
    "stateward_checkpoint_read_bytes",
    "Serialised size of the checkpoints and values a read loaded.",
    [],
    _BYTES_BUCKETS,
)
STORAGE_ERRORS: Final = _counter(
    "stateward_storage_errors",
    "Saver operations that failed, by error type.",
    ["backend", "operation", "error"],
)
CONFLICTS: Final = _counter(
    "stateward_conflicts",
    "Checkpoint writes refused because another writer moved the thread's head.",
    ["backend"],
)
STORAGE_RETRIES: Final = _counter(
    "stateward_storage_retries",
    "Transient storage failures that were retried.",
    ["backend"],
)
NODE_EXECUTIONS: Final = _counter(
    "stateward_node_executions",
    "Node executions by outcome (success or error).",
    ["node", "outcome"],
)
NODE_SECONDS: Final = _histogram(
    "stateward_node_duration_seconds",
    "Time a node took to run.",
    ["node"],
    _NODE_BUCKETS,
)
EFFECT_REPLAYS: Final = _counter(
    "stateward_effect_replays",
    "Side effects whose recorded result was returned instead of running them again.",
    [],
)
