"""The deploy/ files: Prometheus rules checked and unit-tested by promtool, our
metrics text linted by promtool, the Grafana dashboard's structure and queries."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from langgraph.checkpoint.base import empty_checkpoint
from prometheus_client import REGISTRY, generate_latest

import stateward.observability.metrics  # noqa: F401 - registers the metrics
from stateward import errors
from stateward.checkpoint import SqliteSaver
from stateward.observability import GraphObserver
from tests.integration.helpers import plan_act_graph

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "stateward-rules.yml"
RULES_TEST = ROOT / "deploy" / "prometheus" / "stateward-rules.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "stateward-dashboard.json"


def _promtool(
    *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail(
            "promtool is not installed: run scripts/services (it installs Debian's "
            "prometheus package) or put promtool on PATH",
            pytrace=False,
        )
    return subprocess.run(
        [tool, *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_rules_pass_promtool_check() -> None:
    """promtool check rules accepts deploy/prometheus/stateward-rules.yml."""
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_for_severity_and_runbook() -> None:
    """Each alert waits (for:), has a severity and summary/description/runbook."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = [rule for group in groups for rule in group["rules"] if "alert" in rule]
    assert {a["alert"] for a in alerts} >= {
        "StatewardNodeFailureRateHigh",
        "StatewardConflictRateHigh",
        "StatewardStorageWriteLatencyHigh",
        "StatewardStorageRetrying",
        "StatewardStorageErrors",
    }
    for alert in alerts:
        assert alert.get("for"), alert["alert"]
        assert alert["labels"]["severity"] in {"warning", "critical"}, alert["alert"]
        assert {"summary", "description", "runbook"} <= set(alert["annotations"])


def test_rule_unit_tests_pass() -> None:
    """promtool test rules: the alerts fire on bad synthetic series, not on good."""
    result = _promtool("test", "rules", str(RULES_TEST))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULES_TEST.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    assert {"StatewardNodeFailureRateHigh", "StatewardConflictRateHigh"} <= tested


def _graph(saver: SqliteSaver, fail_in: str | None = None) -> Any:
    return plan_act_graph(saver, "deploy_graph", fail_in)


def test_metrics_text_passes_promtool_lint(tmp_path: Path) -> None:
    """Our /metrics text after real runs (clean, failing, conflicting) lints clean."""
    with SqliteSaver.from_conn_string(str(tmp_path / "state.db")) as saver:
        clean: Any = {
            "configurable": {"thread_id": str(uuid.uuid4())},
            "callbacks": [GraphObserver()],
        }
        _graph(saver).invoke({"log": []}, clean)
        failing: Any = {
            "configurable": {"thread_id": str(uuid.uuid4())},
            "callbacks": [GraphObserver()],
        }
        with pytest.raises(KeyError):
            _graph(saver, fail_in="act").invoke({"log": []}, failing)
        stale = _graph(saver).get_state(clean).config
        _graph(saver).invoke({"log": []}, clean)  # moves the head past `stale`
        with pytest.raises(errors.ConflictError):
            saver.put(stale, empty_checkpoint(), {"source": "loop", "step": 9}, {})
    text = generate_latest()
    for name in (
        b"stateward_node_executions_total{",
        b"stateward_node_duration_seconds_bucket{",
        b"stateward_storage_operation_seconds_bucket{",
        b"stateward_checkpoint_write_bytes_bucket{",
        b"stateward_conflicts_total{",
    ):
        assert name in text
    assert b'outcome="error"' in text
    result = _promtool("check", "metrics", stdin=text)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""
    assert result.stderr.strip() == ""


def _metric_names() -> set[str]:
    """Series names our registered metrics expose, suffixes included."""
    names: set[str] = set()
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum"),
    }
    for family in REGISTRY.collect():
        if family.name.startswith("stateward_"):
            names.update(family.name + s for s in suffixes.get(family.type, ("",)))
    return names


_PROMQL_WORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or"}
    | {"unless", "offset", "bool", "inf", "nan"}
)


def _series_in(expr: str) -> set[str]:
    """Identifiers in a PromQL expression that can only be metric names."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", expr)  # groupings
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
    expr = re.sub(r"\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(", "(", expr)  # function calls
    names = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", expr))
    return {n for n in names if n.lower() not in _PROMQL_WORDS}


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # panels inside collapsed rows
    return panels


def test_dashboard_structure_and_queries(tmp_path: Path) -> None:
    """The dashboard is valid JSON, has unique panel ids, a Prometheus datasource
    variable, and queries only our metrics in PromQL that promtool parses."""
    dashboard = json.loads(DASHBOARD.read_text())
    assert 36 <= dashboard["schemaVersion"] <= 41
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = _panels(dashboard)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    known = _metric_names()
    assert "stateward_node_executions_total" in known
    assert "stateward_storage_operation_seconds_bucket" in known
    variable_queries = [
        v["query"]["query"] for v in variables.values() if v["type"] == "query"
    ]
    panel_exprs: list[str] = []
    queried = [p for p in panels if p["type"] != "row"]
    assert len(queried) >= 8
    for panel in queried:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}"
            panel_exprs.append(target["expr"])
    used: set[str] = set()
    for expr in variable_queries + panel_exprs:
        series = _series_in(re.sub(r"label_values\((\w+),.*\)", r"\1", expr))
        assert series, f"no metric in {expr!r}"
        assert series <= known, f"unknown metrics {series - known} in {expr!r}"
        used |= series
    covered = {"stateward_node_duration_seconds_bucket", "stateward_conflicts_total"}
    covered |= {"stateward_storage_retries_total", "stateward_storage_errors_total"}
    covered |= {"stateward_checkpoint_write_bytes_bucket"}
    assert covered <= used
    # PromQL syntax: promtool parses every panel query as a recording rule.
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": _concrete(e)}
                    for i, e in enumerate(panel_exprs)
                ],
            }
        ]
    }
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))
    result = _promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def _concrete(expr: str) -> str:
    """A panel query with Grafana's variables replaced as Grafana would."""
    return (
        expr.replace("$__rate_interval", "5m")
        .replace('=~"$node"', '=~".*"')
        .replace('=~"$backend"', '=~".*"')
    )
