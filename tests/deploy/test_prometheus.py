"""Prometheus, Alertmanager and Grafana files: valid for their own tools, and every query uses
only the metric names SeedCore exports.

The tests marked ``backends`` run promtool and amtool (Debian packages prometheus and
prometheus-alertmanager, installed by ``SEEDCORE_SERVICES_PROMETHEUS=1 scripts/services.sh up``).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import (
    COUNTERS,
    DASHBOARD_DIR,
    GAUGES,
    HISTOGRAMS,
    PROMETHEUS_SERIES,
    REPO,
    RULES_FILE,
    dashboard_queries,
    dashboards,
    metric_names,
    recorded_names,
    rule_queries,
    rules,
    tool,
    unknown_metrics,
)

__all__ = ["dashboard_queries", "rule_queries"]  # for the live tests against a real Prometheus

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
PROMETHEUS_CONFIG = PROMETHEUS_DIR / "prometheus.yml"
RULE_TESTS = PROMETHEUS_DIR / "tests" / "seedcore_test.yml"
ALERTMANAGER_CONFIG = REPO / "deploy" / "alertmanager" / "alertmanager.yml"
GRAFANA_DIR = REPO / "deploy" / "grafana"
SEEDCORE_WEBHOOK = "http://api:8000/api/v1/alerts"

#: The alerts the deployment must have, by what they watch.
REQUIRED_ALERTS = {
    "energy rising for 5 minutes": "SeedCoreEnergyRising",
    "working-memory hit rate below 90 %": "SeedCoreWorkingMemoryHitRateLow",
    "task p95 latency above 100 ms": "SeedCoreTaskLatencyP95High",
    "task failure rate above 1 %": "SeedCoreTaskFailureRateHigh",
    "stale heartbeats": "SeedCoreHeartbeatsStale",
    "a backend down": "SeedCoreBackendDown",
    "an incident spike": "SeedCoreIncidentSpike",
    "a hard budget crossed": "SeedCoreHardBudgetCrossed",
    "an organ actor restarted": "SeedCoreOrganActorRestarted",
}


def run(*command: str) -> str:
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(command)} failed ({done.returncode}):\n{output}"
    return output


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def registered_responses() -> set[str]:
    """The responses application/services.py registers with the alert responder, plus none."""
    source = (REPO / "application" / "services.py").read_text()
    return set(re.findall(r"""responder\.register\(\s*["']([a-z_]+)["']""", source)) | {"none"}


# ------------------------------------------------------------------ the PromQL name parser ---

@pytest.mark.parametrize(("expr", "names"), ids=[
    "histogram", "guard", "keywords", "recorded", "misspelt-function"], argvalues=[
    ('histogram_quantile(0.95, sum by (le, task_type) '
     '(rate(seedcore_task_duration_seconds_bucket{le!="+Inf"}[5m])))',
     {"seedcore_task_duration_seconds_bucket"}),
    ('sum(rate(a_total{outcome="failure"}[5m])) / sum(rate(a_total[$__rate_interval])) > 0.01 '
     "and on (organ) max without (instance) (b) >= 1e-3",
     {"a_total", "b"}),
    ("x unless x offset 5m or vector(0) * count_values by (v) (\"v\", y) > bool 2",
     {"x", "y"}),
    ('tier:ratio:rate5m{tier="organ"} < Inf and -0.5 < z', {"tier:ratio:rate5m", "z"}),
    ("histogram_quantil(0.9, foo)", {"histogram_quantil", "foo"}),
])
def test_metric_names_finds_only_metric_names(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_histogram_suffixes_are_allowed_on_histograms_only() -> None:
    assert not unknown_metrics("seedcore_task_duration_seconds_bucket + seedcore_holons")
    assert unknown_metrics("seedcore_holons_count") == {"seedcore_holons_count"}
    assert unknown_metrics("seedcore_task_duration_seconds") == {"seedcore_task_duration_seconds"}


# ----------------------------------------------------------------------- metric names used ---

def test_there_are_dashboard_and_rule_queries() -> None:
    assert len(dashboard_queries()) >= 30
    assert len(rule_queries()) == len(rules()) >= len(REQUIRED_ALERTS)
    assert not [q for q in dashboard_queries() if "$" in q], "a Grafana macro was not expanded"


def test_dashboard_queries_use_only_seedcore_metrics() -> None:
    bad = {expr: sorted(unknown_metrics(expr)) for expr in dashboard_queries()
           if unknown_metrics(expr)}
    assert not bad, f"dashboard queries with unknown metric names: {bad}"


def test_rule_queries_use_only_seedcore_metrics() -> None:
    extra = recorded_names() | PROMETHEUS_SERIES
    bad = {expr: sorted(unknown_metrics(expr, extra)) for expr in rule_queries()
           if unknown_metrics(expr, extra)}
    assert not bad, f"rule expressions with unknown metric names: {bad}"


def test_recording_rules_are_named_level_metric_operation() -> None:
    for name in recorded_names():
        level, metric, operation = name.split(":")
        assert level and operation and metric.startswith("seedcore_"), name


def test_every_metric_is_on_a_dashboard() -> None:
    def base(name: str) -> str:
        trimmed = re.sub(r"_(bucket|sum|count)$", "", name)
        return trimmed if trimmed in HISTOGRAMS else name

    bases = {base(name) for expr in dashboard_queries() for name in metric_names(expr)}
    missing = (COUNTERS | GAUGES | HISTOGRAMS) - bases
    assert not missing, f"metrics no dashboard panel shows: {sorted(missing)}"


# ------------------------------------------------------------------------------- the rules ---

def test_required_alerts_exist() -> None:
    missing = {what: name for what, name in REQUIRED_ALERTS.items() if name not in alerts()}
    assert not missing, f"missing alerts: {missing}"


def test_required_alerts_watch_the_right_series() -> None:
    exprs = {name: " ".join(rule["expr"].split()) for name, rule in alerts().items()}
    assert "seedcore_energy_rising_seconds" in exprs["SeedCoreEnergyRising"]
    assert "> 300" in exprs["SeedCoreEnergyRising"]
    hit_rate = exprs["SeedCoreWorkingMemoryHitRateLow"]
    assert {"seedcore_working_memory_hits_total", "seedcore_working_memory_misses_total"} <= (
        metric_names(hit_rate))
    assert "< 0.9" in hit_rate and " and " in hit_rate, "needs the 90 % bound and a traffic guard"
    latency = exprs["SeedCoreTaskLatencyP95High"]
    assert "histogram_quantile(0.95" in latency and "seedcore_task_duration_seconds_bucket" in (
        latency) and "> 0.1" in latency
    assert "> 0.01" in exprs["SeedCoreTaskFailureRateHigh"]
    assert 'outcome="failure"' in exprs["SeedCoreTaskFailureRateHigh"]
    assert "seedcore_agent_heartbeat_age_seconds_max" in exprs["SeedCoreHeartbeatsStale"]
    assert "> 30" in exprs["SeedCoreHeartbeatsStale"]
    assert "seedcore_backend_up" in exprs["SeedCoreBackendDown"]
    assert "== 0" in exprs["SeedCoreBackendDown"]
    assert "seedcore_incidents_total" in exprs["SeedCoreIncidentSpike"]
    assert ('increase(seedcore_budget_crossings_total{level="hard"}[5m])'
            in exprs["SeedCoreHardBudgetCrossed"])


def test_alerts_carry_severity_response_and_annotations() -> None:
    responses = registered_responses()
    for name, rule in alerts().items():
        labels, annotations = rule.get("labels", {}), rule.get("annotations", {})
        assert labels.get("severity") in ("warning", "critical"), name
        assert labels.get("response") in responses, (
            f"{name}: response {labels.get('response')!r} is not one SeedCore runs "
            f"({sorted(responses)})")
        assert annotations.get("summary") and annotations.get("description"), name
        assert name.startswith("SeedCore"), name


def test_automated_responses_are_used() -> None:
    used = {rule["labels"]["response"] for rule in alerts().values()}
    assert {"restart_stale_actor", "tighten_budget", "run_role_evolution"} <= used
    assert alerts()["SeedCoreHeartbeatsStale"]["labels"]["response"] == "restart_stale_actor"
    assert alerts()["SeedCoreHardBudgetCrossed"]["labels"]["response"] == "tighten_budget"
    assert alerts()["SeedCoreEnergyRising"]["labels"]["response"] == "run_role_evolution"
    # tighten_budget narrows to the alert's scope label, so the alert must keep it.
    assert "by (scope)" in alerts()["SeedCoreHardBudgetCrossed"]["expr"]


def test_every_alert_has_a_firing_and_a_silent_unit_test() -> None:
    document = yaml.safe_load(RULE_TESTS.read_text())
    fires: set[str] = set()
    silent: set[str] = set()
    for case in document["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    names = set(alerts())
    assert names - fires == set(), f"alerts never tested firing: {sorted(names - fires)}"
    assert names - silent == set(), f"alerts never tested silent: {sorted(names - silent)}"
    assert (fires | silent) <= names, f"tests of unknown alerts: {sorted((fires | silent) - names)}"
    assert document["rule_files"] == ["../rules/seedcore.yml"]


def test_rule_files_of_the_config_resolve() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    loaded = []
    for pattern in config["rule_files"]:
        matched = list(PROMETHEUS_DIR.glob(pattern))
        assert matched, f"rule_files entry {pattern!r} matches no file"
        loaded += matched
    assert RULES_FILE in loaded


def test_prometheus_scrapes_api_and_worker_and_alerts_alertmanager() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    targets = {}
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                targets[target] = job["job_name"]
    assert targets.get("api:8000") == "seedcore-api"
    assert targets.get("worker:9100") == "seedcore-worker"
    # The TargetDown alert selects these job names.
    assert 'job=~"seedcore-api|seedcore-worker"' in alerts()["SeedCoreTargetDown"]["expr"]
    managers = [t for am in config["alerting"]["alertmanagers"]
                for static in am["static_configs"] for t in static["targets"]]
    assert managers == ["alertmanager:9093"]


# -------------------------------------------------------------------------- alertmanager ---

def test_alertmanager_sends_every_alert_to_seedcore() -> None:
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    receivers = {r["name"]: r for r in config["receivers"]}
    route = config["route"]
    used = {route["receiver"]} | {child.get("receiver", route["receiver"])
                                  for child in route.get("routes", [])}
    for name in used:
        hooks = receivers[name]["webhook_configs"]
        assert [hook["url"] for hook in hooks] == [SEEDCORE_WEBHOOK], name
        assert all(hook.get("send_resolved") is True for hook in hooks), name
    assert route.get("group_by"), "alerts must be grouped"
    assert {"alertname", "scope"} <= set(route["group_by"])


# ------------------------------------------------------------------------------- grafana ---

def _generator() -> Any:
    path = GRAFANA_DIR / "generate_dashboards.py"
    spec = importlib.util.spec_from_file_location("seedcore_generate_dashboards", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through it
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_dashboard_files_match_their_generator() -> None:
    expected = _generator().rendered()
    actual = {path.name: path.read_text() for path in DASHBOARD_DIR.glob("*.json")}
    assert actual.keys() == expected.keys()
    stale = sorted(name for name in expected if actual[name] != expected[name])
    assert not stale, ("stale dashboards, run .venv/bin/python "
                       f"deploy/grafana/generate_dashboards.py: {stale}")


def test_dashboards_cover_the_six_views() -> None:
    titles = " | ".join(d["title"].lower() for d in dashboards().values())
    for view in ("overview", "agents", "memory", "energy", "incidents", "runtime"):
        assert view in titles, view


def test_dashboards_are_well_formed() -> None:
    datasource = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = datasource["datasources"][0]["uid"]
    uids = [d["uid"] for d in dashboards().values()]
    assert len(uids) == len(set(uids)) == 6
    for file_name, dashboard in dashboards().items():
        assert file_name == f"{dashboard['uid']}.json"
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)), file_name
        for panel in dashboard["panels"]:
            where = f"{file_name}: {panel['title']}"
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, where
            assert panel["datasource"] == {"type": "prometheus", "uid": uid}, where
            assert panel["targets"], where
            ref_ids = [t["refId"] for t in panel["targets"]]
            assert len(ref_ids) == len(set(ref_ids)), where
            for target in panel["targets"]:
                assert target["expr"].strip(), where
                assert target["datasource"]["uid"] == uid, where


def test_grafana_provisioning_points_at_the_mounted_dashboards() -> None:
    provider = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "dashboards" / "seedcore.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = dict(reversed(v.split(":")[:2]) for v in compose["services"]["grafana"]["volumes"])
    assert mounts.get(path) == "./deploy/grafana/dashboards"
    assert mounts.get("/etc/grafana/provisioning") == "./deploy/grafana/provisioning"
    grafana_env = compose["services"]["grafana"]["environment"]
    home = grafana_env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(f"{path}/") and (DASHBOARD_DIR / home.removeprefix(f"{path}/")).is_file()
    datasource = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


# ------------------------------------------------------------------- promtool and amtool ---

@pytest.mark.backends
def test_promtool_check_config() -> None:
    output = run(tool("promtool"), "check", "config", str(PROMETHEUS_CONFIG))
    assert "SUCCESS: 1 rule files found" in output


@pytest.mark.backends
def test_promtool_check_rules() -> None:
    output = run(tool("promtool"), "check", "rules", str(RULES_FILE))
    assert f"SUCCESS: {len(rules())} rules found" in output


@pytest.mark.backends
def test_promtool_rule_unit_tests_pass() -> None:
    output = run(tool("promtool"), "test", "rules", str(RULE_TESTS))
    assert "SUCCESS" in output


@pytest.mark.backends
def test_amtool_check_config() -> None:
    output = run(tool("amtool"), "check-config", str(ALERTMANAGER_CONFIG))
    assert "SUCCESS" in output


@pytest.mark.backends
def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses every dashboard query, written as a recording rule."""
    queries = dashboard_queries()
    document = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:query_{i}:check", "expr": expr}
        for i, expr in enumerate(queries)]}]}
    path = tmp_path / "dashboard_queries.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    output = run(tool("promtool"), "check", "rules", str(path))
    assert f"SUCCESS: {len(queries)} rules found" in output
