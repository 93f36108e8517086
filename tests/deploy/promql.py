"""What the deployment files may query, and every query they make.

``dashboard_queries()`` and ``rule_queries()`` return each PromQL expression of the Grafana
dashboards and of the Prometheus rules, ready to send to a real Prometheus (Grafana's macros such as
``$__rate_interval`` are replaced by fixed durations).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

__all__ = [
    "COUNTERS",
    "DASHBOARD_DIR",
    "GAUGES",
    "HISTOGRAMS",
    "REPO",
    "RULES_FILE",
    "SERVICES_HINT",
    "allowed_metric",
    "dashboard_queries",
    "dashboards",
    "metric_names",
    "recorded_names",
    "rule_queries",
    "rules",
    "tool",
    "unknown_metrics",
]

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
RULES_FILE = DEPLOY / "prometheus" / "rules" / "seedcore.yml"
DASHBOARD_DIR = DEPLOY / "grafana" / "dashboards"

# The metrics SeedCore exports (fixed names; see adapters/prometheus).
COUNTERS = frozenset({
    "seedcore_tasks_total",
    "seedcore_consumption_joules_total",
    "seedcore_memory_accesses_total",
    "seedcore_memory_degraded_reads_total",
    "seedcore_incidents_total",
    "seedcore_budget_crossings_total",
    "seedcore_loop_runs_total",
})
HISTOGRAMS = frozenset({
    "seedcore_task_duration_seconds",
    "seedcore_selection_duration_seconds",
    "seedcore_loop_duration_seconds",
    "seedcore_mlt_operation_duration_seconds",
})
GAUGES = frozenset({
    "seedcore_energy",
    "seedcore_agents",
    "seedcore_agent_heartbeat_age_seconds_max",
    "seedcore_working_memory_items",
    "seedcore_working_memory_bytes",
    # Gauges carrying the backend's own hit/miss counts (so they end in _total).
    "seedcore_working_memory_hits_total",
    "seedcore_working_memory_misses_total",
    "seedcore_holons",
    "seedcore_budget_usage_ratio",
    "seedcore_backend_up",
    "seedcore_energy_rising_seconds",
    "seedcore_agents_stale",
    "seedcore_runtime_hosts",
    "seedcore_runtime_host_agents",
    "seedcore_runtime_host_resident_bytes",
    "seedcore_runtime_host_restored_agents",
    "seedcore_runtime_host_checkpoint_age_seconds",
    "seedcore_runtime_host_uptime_seconds",
    "process_resident_memory_bytes",
})
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

#: Prometheus writes `up` itself for every scrape target; only the rules use it.
PROMETHEUS_SERIES = frozenset({"up"})

# Grafana macros -> durations a plain Prometheus query accepts.
GRAFANA_MACROS = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}

AGGREGATIONS = frozenset({
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
})
FUNCTIONS = AGGREGATIONS | frozenset({
    "abs", "absent", "absent_over_time", "acos", "acosh", "asin", "asinh", "atan", "atanh",
    "avg_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "cos", "cosh",
    "count_over_time", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "deg",
    "delta", "deriv", "exp", "floor", "histogram_avg", "histogram_count", "histogram_fraction",
    "histogram_quantile", "histogram_stddev", "histogram_stdvar", "histogram_sum",
    "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace",
    "last_over_time", "ln", "log10", "log2", "mad_over_time", "max_over_time", "min_over_time",
    "minute", "month", "pi", "predict_linear", "present_over_time", "quantile_over_time",
    "rad", "rate", "resets", "round", "scalar", "sgn", "sin", "sinh", "sort", "sort_desc",
    "sqrt", "stddev_over_time", "stdvar_over_time", "sum_over_time", "tan", "tanh", "time",
    "timestamp", "vector", "year",
})
KEYWORDS = frozenset({
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "atan2", "inf", "nan", "start", "end",
})

SERVICES_HINT = ("`SEEDCORE_SERVICES_PROMETHEUS=1 scripts/services.sh up` (or "
                 "`scripts/services.sh up --with-prometheus`) installs it")

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"' r"|'(?:[^'\\]|\\.)*'" r"|`[^`]*`")
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_OFFSET = re.compile(r"\boffset\s+-?\w+")
_NUMBER = re.compile(r"(?<![\w:])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+)")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects. Functions, aggregations, keywords, label names
    (in matchers and in by/without/on/ignoring/group_* lists), strings, durations and numbers
    are not names; an identifier called like a function that PromQL does not know is returned,
    so a misspelt function shows up as an unknown metric."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _LABEL_LIST.sub(r" \1 ", text)
    text = _OFFSET.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        word = match.group(0)
        after = text[match.end():].lstrip()
        called = after.startswith("(") or (
            word in AGGREGATIONS and re.match(r"(by|without)\b", after) is not None)
        if word.lower() in KEYWORDS or (called and word in FUNCTIONS):
            continue
        names.add(word)
    return names


def allowed_metric(name: str, extra: Iterable[str] = ()) -> bool:
    if name in COUNTERS or name in GAUGES or name in set(extra):
        return True
    return any(name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS
               for suffix in HISTOGRAM_SUFFIXES)


def unknown_metrics(expr: str, extra: Iterable[str] = ()) -> set[str]:
    extra = set(extra)
    return {name for name in metric_names(expr) if not allowed_metric(name, extra)}


def rules() -> list[dict[str, Any]]:
    """Every rule (recording and alerting) of deploy/prometheus/rules/seedcore.yml."""
    document = yaml.safe_load(RULES_FILE.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> parsed dashboard JSON."""
    return {path.name: json.loads(path.read_text())
            for path in sorted(DASHBOARD_DIR.glob("*.json"))}


def _panels(panels: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows hold their panels


def _expand_macros(expr: str) -> str:
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    return expr


def dashboard_queries() -> list[str]:
    """Every PromQL expression of every dashboard panel, Grafana macros expanded, in file and
    panel order, without duplicates."""
    found: dict[str, None] = {}
    for dashboard in dashboards().values():
        for panel in _panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    found[_expand_macros(target["expr"])] = None
    return list(found)


def rule_queries() -> list[str]:
    """Every expression of the recording and alerting rules, in file order."""
    return [" ".join(rule["expr"].split()) for rule in rules()]


def tool(name: str) -> str:
    """The path of a Prometheus command-line tool, or a test failure that says how to get it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: {SERVICES_HINT}", pytrace=False)
    return path
