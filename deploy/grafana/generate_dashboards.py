"""Writes the SeedCore Grafana dashboards (deploy/grafana/dashboards/*.json).

    .venv/bin/python deploy/grafana/generate_dashboards.py          # rewrite the JSON files
    .venv/bin/python deploy/grafana/generate_dashboards.py --check  # exit 1 if they are stale

The JSON files are what Grafana loads; this script is their source, so every panel has the same
data source, layout rules and units. tests/deploy checks the files match it.

Queries use only SeedCore's metric names. Gauges that describe shared state (energy, agents,
working-memory figures counted in the backend itself, backend health) are exported by every
SeedCore process, so they are aggregated with max/min, never summed; per-process events
(tasks, consumption, incidents, loop runs) are summed.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
RATE = "$__rate_interval"
TAG = "seedcore"


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    kind: str = "timeseries"  # timeseries | stat | bargauge | state-timeline
    unit: str = "short"
    description: str = ""
    width: int = 12
    height: int = 8
    thresholds: tuple[tuple[str, float | None], ...] = (("green", None),)
    mappings: tuple[dict[str, Any], ...] = ()
    decimals: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    stack: bool = False


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...]
    extra_tags: tuple[str, ...] = field(default=())


def q(expr: str, legend: str = "") -> Query:
    """A query written over several lines, as one line without padding inside parentheses."""
    flat = " ".join(expr.split())
    return Query(re.sub(r"\s+\)", ")", re.sub(r"\(\s+", "(", flat)), legend)


UP_DOWN = ({"type": "value", "options": {
    "0": {"text": "DOWN", "color": "red", "index": 0},
    "1": {"text": "UP", "color": "green", "index": 1},
}},)

HIT_RATIO_BY_TIER = q(f"""
    max by (tier) (rate(seedcore_working_memory_hits_total[{RATE}]))
    / (max by (tier) (rate(seedcore_working_memory_hits_total[{RATE}]))
       + max by (tier) (rate(seedcore_working_memory_misses_total[{RATE}])))""", "{{tier}}")

OVERVIEW = Dashboard(
    uid="seedcore-overview",
    title="SeedCore / Organism overview",
    description="The organism at a glance: energy, agents, tasks, memory, incidents, backends.",
    panels=(
        Panel("Total energy", (q('max(seedcore_energy{term="total"})'),), kind="stat",
              width=4, height=4, decimals=3,
              description="System energy E (lower is better)."),
        Panel("Energy rising for", (q("max(seedcore_energy_rising_seconds)"),), kind="stat",
              unit="s", width=4, height=4,
              thresholds=(("green", None), ("orange", 120), ("red", 300))),
        Panel("Agents", (q("sum(max by (organ) (seedcore_agents))"),), kind="stat",
              width=4, height=4),
        Panel("Holons", (q("max(seedcore_holons)"),), kind="stat", width=4, height=4),
        Panel("Oldest heartbeat", (q("max(seedcore_agent_heartbeat_age_seconds_max)"),),
              kind="stat", unit="s", width=4, height=4,
              thresholds=(("green", None), ("orange", 20), ("red", 30))),
        Panel("Incidents (24 h)", (q("sum(increase(seedcore_incidents_total[24h]))"),),
              kind="stat", width=4, height=4, decimals=0,
              thresholds=(("green", None), ("orange", 1))),
        Panel("Task throughput", (q(f"sum(rate(seedcore_tasks_total[{RATE}]))"),), kind="stat",
              unit="reqps", width=6, height=4),
        Panel("Task success ratio", (q(f"""
              sum(rate(seedcore_tasks_total{{outcome="success"}}[{RATE}]))
              / sum(rate(seedcore_tasks_total[{RATE}]))"""),), kind="stat",
              unit="percentunit", width=6, height=4, decimals=2,
              thresholds=(("red", None), ("orange", 0.95), ("green", 0.99))),
        Panel("Task p95 latency", (q(f"""
              histogram_quantile(0.95,
                sum by (le) (rate(seedcore_task_duration_seconds_bucket[{RATE}])))"""),),
              kind="stat", unit="s", width=6, height=4,
              thresholds=(("green", None), ("red", 0.1))),
        Panel("Working-memory hit ratio", (q(f"""
              sum(max by (tier) (rate(seedcore_working_memory_hits_total[{RATE}])))
              / (sum(max by (tier) (rate(seedcore_working_memory_hits_total[{RATE}])))
                 + sum(max by (tier) (rate(seedcore_working_memory_misses_total[{RATE}]))))"""),),
              kind="stat", unit="percentunit", width=6, height=4, decimals=1,
              thresholds=(("red", None), ("green", 0.9))),
        Panel("Backends", (q("min by (backend) (seedcore_backend_up)", "{{backend}}"),),
              kind="stat", width=24, height=4, mappings=UP_DOWN,
              thresholds=(("red", None), ("green", 1))),
        Panel("Tasks by outcome", (q(f"sum by (outcome) (rate(seedcore_tasks_total[{RATE}]))",
                                     "{{outcome}}"),), unit="reqps", stack=True),
        Panel("System energy", (q('max(seedcore_energy{term="total"})', "total"),)),
    ),
)

AGENTS = Dashboard(
    uid="seedcore-agents",
    title="SeedCore / Agents",
    description="Agents per organ, their heartbeats, the tasks they run and what they cost.",
    panels=(
        Panel("Agents per organ", (q("max by (organ) (seedcore_agents)", "{{organ}}"),),
              stack=True),
        Panel("Oldest heartbeat", (q("max(seedcore_agent_heartbeat_age_seconds_max)", "age"),),
              unit="s", thresholds=(("green", None), ("red", 30)),
              description="Age of the oldest agent heartbeat; over 30 s an agent is not "
                          "eligible for tasks."),
        Panel("Tasks per organ and outcome", (q(f"""
              sum by (organ, outcome) (rate(seedcore_tasks_total[{RATE}]))""",
              "{{organ}} {{outcome}}"),), unit="reqps"),
        Panel("Failure ratio per organ", (q(f"""
              sum by (organ) (rate(seedcore_tasks_total{{outcome="failure"}}[{RATE}]))
              / sum by (organ) (rate(seedcore_tasks_total[{RATE}]))""", "{{organ}}"),),
              unit="percentunit", thresholds=(("green", None), ("red", 0.01))),
        Panel("Tasks per type", (q(f"sum by (task_type) (rate(seedcore_tasks_total[{RATE}]))",
                                   "{{task_type}}"),), unit="reqps", stack=True),
        Panel("Task latency p95 per type", (q(f"""
              histogram_quantile(0.95,
                sum by (le, task_type) (rate(seedcore_task_duration_seconds_bucket[{RATE}])))""",
              "{{task_type}}"),), unit="s", thresholds=(("green", None), ("red", 0.1))),
        Panel("Mean task latency per type", (q(f"""
              sum by (task_type) (rate(seedcore_task_duration_seconds_sum[{RATE}]))
              / sum by (task_type) (rate(seedcore_task_duration_seconds_count[{RATE}]))""",
              "{{task_type}}"),), unit="s"),
        Panel("Selection latency", (
            q(f"""histogram_quantile(0.50,
                  sum by (le) (rate(seedcore_selection_duration_seconds_bucket[{RATE}])))""",
              "p50"),
            q(f"""histogram_quantile(0.95,
                  sum by (le) (rate(seedcore_selection_duration_seconds_bucket[{RATE}])))""",
              "p95"),
            q(f"""histogram_quantile(0.99,
                  sum by (le) (rate(seedcore_selection_duration_seconds_bucket[{RATE}])))""",
              "p99"),
        ), unit="s", description="Time spent choosing the agent(s) of a task."),
        Panel("Consumption per organ", (q(f"""
              sum by (organ) (rate(seedcore_consumption_joules_total[{RATE}]))""",
              "{{organ}}"),), unit="watt", width=24, stack=True,
              description="Measured consumption of executed tasks, in joules per second."),
    ),
)

MEMORY = Dashboard(
    uid="seedcore-memory",
    title="SeedCore / Memory tiers",
    description="Working memory (Mw), long-term memory (Mlt) and how lookups move between them.",
    panels=(
        Panel("Working-memory hit ratio per tier", (HIT_RATIO_BY_TIER,), unit="percentunit",
              thresholds=(("red", None), ("green", 0.9)), minimum=0, maximum=1,
              description="From the hit and miss figures the backend itself counts."),
        Panel("Working-memory lookups per tier", (
            q(f"max by (tier) (rate(seedcore_working_memory_hits_total[{RATE}]))",
              "{{tier}} hits"),
            q(f"max by (tier) (rate(seedcore_working_memory_misses_total[{RATE}]))",
              "{{tier}} misses"),
        ), unit="reqps"),
        Panel("Working-memory items per tier",
              (q("max by (tier) (seedcore_working_memory_items)", "{{tier}}"),)),
        Panel("Working-memory bytes per tier",
              (q("max by (tier) (seedcore_working_memory_bytes)", "{{tier}}"),), unit="bytes"),
        Panel("Fact lookups by tier and result", (q(f"""
              sum by (tier, result) (rate(seedcore_memory_accesses_total[{RATE}]))""",
              "{{tier}} {{result}}"),), unit="reqps",
              description="Each tier probed on the read path organ Mw, global Mw, Mlt."),
        Panel("Fact-lookup hit ratio by tier", (q(f"""
              sum by (tier) (rate(seedcore_memory_accesses_total{{result="hit"}}[{RATE}]))
              / sum by (tier) (rate(seedcore_memory_accesses_total[{RATE}]))""", "{{tier}}"),),
              unit="percentunit", minimum=0, maximum=1),
        Panel("Holons in long-term memory", (q("max(seedcore_holons)", "holons"),)),
        Panel("Long-term memory operations", (q(f"""
              sum by (op) (rate(seedcore_mlt_operation_duration_seconds_count[{RATE}]))""",
              "{{op}}"),), unit="reqps"),
        Panel("Long-term memory latency p95", (q(f"""
              histogram_quantile(0.95,
                sum by (le, op) (rate(seedcore_mlt_operation_duration_seconds_bucket[{RATE}])))""",
              "{{op}}"),), unit="s"),
        Panel("Degraded reads per backend", (q(f"""
              sum by (backend) (rate(seedcore_memory_degraded_reads_total[{RATE}]))""",
              "{{backend}}"),), unit="reqps",
              description="Reads that fell through past a backend that was down."),
        Panel("Consolidation and hot-miss promotion runs", (q(f"""
              sum by (loop, result) (rate(
                seedcore_loop_runs_total{{loop=~"consolidation|hot_miss_promotion"}}[{RATE}]))""",
              "{{loop}} {{result}}"),), unit="reqps", width=24),
    ),
)

ENERGY = Dashboard(
    uid="seedcore-energy",
    title="SeedCore / Energy",
    description="System energy by term, consumption in joules, budgets and their crossings.",
    panels=(
        Panel("System energy by term",
              (q('max by (term) (seedcore_energy{term!="total"})', "{{term}}"),),
              description="pair + hyper + entropy + reg + mem = total (lower is better)."),
        Panel("System energy total", (q('max(seedcore_energy{term="total"})', "total"),)),
        Panel("Energy rising for", (q("max(seedcore_energy_rising_seconds)", "rising"),),
              unit="s", thresholds=(("green", None), ("red", 300)),
              description="How long the total has risen without a break; alert above 300 s."),
        Panel("Consumption per organ", (q(f"""
              sum by (organ) (rate(seedcore_consumption_joules_total[{RATE}]))""",
              "{{organ}}"),), unit="watt", stack=True),
        Panel("Consumption in the last hour per organ", (q("""
              sum by (organ) (increase(seedcore_consumption_joules_total[1h]))""",
              "{{organ}}"),), kind="bargauge", unit="joule"),
        Panel("Budget usage (busiest member)", (q("""
              max by (scope) (seedcore_budget_usage_ratio)""", "{{scope}}"),),
              unit="percentunit", thresholds=(("green", None), ("orange", 0.8), ("red", 1)),
              description="Largest used/budget over the members of each scope; soft limit "
                          "80 %, hard limit 100 %."),
        Panel("Budget crossings (per 5 min)", (q("""
              sum by (scope, level) (increase(seedcore_budget_crossings_total[5m]))""",
              "{{scope}} {{level}}"),), width=12),
        Panel("Energy loops", (q(f"""
              sum by (loop, result) (rate(
                seedcore_loop_runs_total{{loop=~"energy_snapshot|role_evolution"}}[{RATE}]))""",
              "{{loop}} {{result}}"),), unit="reqps", width=12),
    ),
)

INCIDENTS = Dashboard(
    uid="seedcore-incidents",
    title="SeedCore / Incidents",
    description="Flashbulb incidents (high-salience failures) and the failing tasks behind them.",
    panels=(
        Panel("Incidents (24 h)", (q("sum(increase(seedcore_incidents_total[24h]))"),),
              kind="stat", width=6, height=4, decimals=0),
        Panel("Critical incidents (24 h)", (q("""
              sum(increase(seedcore_incidents_total{band="critical"}[24h]))"""),),
              kind="stat", width=6, height=4, decimals=0,
              thresholds=(("green", None), ("red", 1))),
        Panel("Failed tasks (1 h)", (q("""
              sum(increase(seedcore_tasks_total{outcome="failure"}[1h]))"""),),
              kind="stat", width=6, height=4, decimals=0),
        Panel("Task failure ratio", (q(f"""
              sum(rate(seedcore_tasks_total{{outcome="failure"}}[{RATE}]))
              / sum(rate(seedcore_tasks_total[{RATE}]))"""),),
              kind="stat", unit="percentunit", width=6, height=4, decimals=2,
              thresholds=(("green", None), ("red", 0.01))),
        Panel("Incidents by salience band (per 5 min)", (q("""
              sum by (band) (increase(seedcore_incidents_total[5m]))""", "{{band}}"),),
              stack=True),
        Panel("Incidents by salience band (24 h)", (q("""
              sum by (band) (increase(seedcore_incidents_total[24h]))""", "{{band}}"),),
              kind="bargauge", decimals=0),
        Panel("Failed tasks per organ", (q(f"""
              sum by (organ) (rate(seedcore_tasks_total{{outcome="failure"}}[{RATE}]))""",
              "{{organ}}"),), unit="reqps"),
        Panel("Failed tasks per type", (q(f"""
              sum by (task_type) (rate(seedcore_tasks_total{{outcome="failure"}}[{RATE}]))""",
              "{{task_type}}"),), unit="reqps"),
    ),
)

RUNTIME = Dashboard(
    uid="seedcore-runtime",
    title="SeedCore / Runtime",
    description="Backends, control loops and the SeedCore processes themselves.",
    panels=(
        Panel("Backends", (q("min by (backend) (seedcore_backend_up)", "{{backend}}"),),
              kind="state-timeline", width=24, mappings=UP_DOWN,
              thresholds=(("red", None), ("green", 1)),
              description="1 when every SeedCore process reaches the backend."),
        Panel("Loop runs by result", (q(f"""
              sum by (loop, result) (rate(seedcore_loop_runs_total[{RATE}]))""",
              "{{loop}} {{result}}"),), unit="reqps"),
        Panel("Loop failures (15 min)", (q("""
              sum by (loop) (increase(seedcore_loop_runs_total{result="failed"}[15m]))""",
              "{{loop}}"),), thresholds=(("green", None), ("red", 3))),
        Panel("Loop duration p95", (q(f"""
              histogram_quantile(0.95,
                sum by (le, loop) (rate(seedcore_loop_duration_seconds_bucket[{RATE}])))""",
              "{{loop}}"),), unit="s"),
        Panel("Mean loop duration", (q(f"""
              sum by (loop) (rate(seedcore_loop_duration_seconds_sum[{RATE}]))
              / sum by (loop) (rate(seedcore_loop_duration_seconds_count[{RATE}]))""",
              "{{loop}}"),), unit="s"),
        Panel("Resident memory per process", (q("""
              process_resident_memory_bytes{job=~"seedcore-api|seedcore-worker"}""",
              "{{job}} {{instance}}"),), unit="bytes"),
        Panel("Degraded reads per backend", (q(f"""
              sum by (backend) (rate(seedcore_memory_degraded_reads_total[{RATE}]))""",
              "{{backend}}"),), unit="reqps"),
        Panel("Organ actors", (q("max(seedcore_runtime_hosts)", "hosts"),
                               q("max(seedcore_agents_stale)", "stale agents")),
              description="Hosts of the agent runtime that answer, and agents whose heartbeat "
                          "is too old for them to take tasks."),
        Panel("Agents per organ actor", (q("max by (host) (seedcore_runtime_host_agents)",
                                           "{{host}}"),), stack=True),
        Panel("Resident memory per organ actor", (q("""
              max by (host) (seedcore_runtime_host_resident_bytes)""", "{{host}}"),),
              unit="bytes"),
        Panel("Organ actor uptime", (q("max by (host) (seedcore_runtime_host_uptime_seconds)",
                                       "{{host}}"),), unit="s",
              description="Falls back to 0 when Ray restarts the actor."),
        Panel("Agents restored at the last restart", (q("""
              max by (host) (seedcore_runtime_host_restored_agents)""", "{{host}}"),)),
        Panel("Checkpoint age per organ actor", (q("""
              max by (host) (seedcore_runtime_host_checkpoint_age_seconds)""", "{{host}}"),),
              unit="s"),
    ),
)

DASHBOARDS = (OVERVIEW, AGENTS, MEMORY, ENERGY, INCIDENTS, RUNTIME)


def _field_config(panel: Panel) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "unit": panel.unit,
        "color": {"mode": "thresholds" if panel.kind != "timeseries" else "palette-classic"},
        "thresholds": {"mode": "absolute", "steps": [
            {"color": color, "value": value} for color, value in panel.thresholds]},
        "mappings": list(panel.mappings),
    }
    if panel.decimals is not None:
        defaults["decimals"] = panel.decimals
    if panel.minimum is not None:
        defaults["min"] = panel.minimum
    if panel.maximum is not None:
        defaults["max"] = panel.maximum
    if panel.kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10 if panel.stack else 0,
            "showPoints": "never", "spanNulls": False,
            "stacking": {"mode": "normal" if panel.stack else "none", "group": "A"},
            "thresholdsStyle": {"mode": "line" if len(panel.thresholds) > 1 else "off"},
        }
    return {"defaults": defaults, "overrides": []}


def _options(panel: Panel) -> dict[str, Any]:
    reduce = {"calcs": ["lastNotNull"], "fields": "", "values": False}
    if panel.kind == "stat":
        return {"reduceOptions": reduce, "colorMode": "value", "graphMode": "area",
                "justifyMode": "auto", "orientation": "auto", "textMode": "auto"}
    if panel.kind == "bargauge":
        return {"reduceOptions": reduce, "displayMode": "gradient", "orientation": "horizontal",
                "showUnfilled": True}
    if panel.kind == "state-timeline":
        return {"mergeValues": True, "showValue": "auto", "rowHeight": 0.9,
                "legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"}}
    return {"legend": {"showLegend": True, "displayMode": "list", "placement": "bottom"},
            "tooltip": {"mode": "multi", "sort": "desc"}}


def _layout(panels: tuple[Panel, ...]) -> list[dict[str, int]]:
    """Left to right, wrapping at Grafana's 24 columns; a row is as tall as its tallest panel."""
    positions, x, y, row_height = [], 0, 0, 0
    for panel in panels:
        if x + panel.width > 24:
            x, y, row_height = 0, y + row_height, 0
        positions.append({"h": panel.height, "w": panel.width, "x": x, "y": y})
        x += panel.width
        row_height = max(row_height, panel.height)
    return positions


def render(dashboard: Dashboard) -> dict[str, Any]:
    panels = []
    for number, (panel, grid) in enumerate(
            zip(dashboard.panels, _layout(dashboard.panels), strict=True), start=1):
        instant = panel.kind in ("stat", "bargauge")
        panels.append({
            "id": number,
            "type": panel.kind,
            "title": panel.title,
            "description": panel.description,
            "datasource": DATASOURCE,
            "gridPos": grid,
            "fieldConfig": _field_config(panel),
            "options": _options(panel),
            "targets": [
                {"datasource": DATASOURCE, "refId": chr(ord("A") + i), "expr": query.expr,
                 "legendFormat": query.legend or "__auto", "range": not instant,
                 "instant": instant}
                for i, query in enumerate(panel.queries)
            ],
        })
    return {
        "uid": dashboard.uid,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": [TAG, *dashboard.extra_tags],
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [{"type": "dashboards", "tags": [TAG], "asDropdown": True,
                   "title": "SeedCore dashboards", "includeVars": False, "keepTime": True}],
        "panels": panels,
    }


def rendered() -> dict[str, str]:
    """File name -> the exact text of that dashboard's JSON file."""
    return {f"{d.uid}.json": json.dumps(render(d), indent=2, ensure_ascii=False) + "\n"
            for d in DASHBOARDS}


def main(argv: list[str]) -> int:
    files = rendered()
    if "--check" in argv:
        stale = [name for name, text in files.items()
                 if not (OUT_DIR / name).is_file() or (OUT_DIR / name).read_text() != text]
        extra = sorted(p.name for p in OUT_DIR.glob("*.json") if p.name not in files)
        for name in stale:
            print(f"stale: {OUT_DIR / name}", file=sys.stderr)
        for name in extra:
            print(f"not generated: {OUT_DIR / name}", file=sys.stderr)
        return 1 if stale or extra else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUT_DIR / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
