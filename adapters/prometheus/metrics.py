"""The metrics port on prometheus-client, following Prometheus naming conventions.

Names carry the ``seedcore_`` prefix and base units (seconds, joules, bytes); counters end in
``_total``; latencies are histograms. Labels are bounded: task type, organ, outcome, tier,
loop, scope, level, salience band. No agent or task id is ever a label.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["LOOPS", "PrometheusMetrics", "salience_band"]

#: The control loops' names (``application.services.control_loops``), known in advance.
LOOPS = ("heartbeats", "energy_snapshot", "role_evolution", "consolidation",
         "hot_miss_promotion")

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_LOOP_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0)


def salience_band(salience: float) -> str:
    """Bands that keep the label bounded: low < 0.5 ≤ medium < 0.7 ≤ high < 0.9 ≤ critical."""
    if salience >= 0.9:
        return "critical"
    if salience >= 0.7:
        return "high"
    if salience >= 0.5:
        return "medium"
    return "low"


class PrometheusMetrics:
    """Implements :class:`application.ports.metrics.Metrics`. One instance per registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.tasks = Counter(
            "seedcore_tasks_total", "Tasks finished, by type, organ and outcome.",
            ["task_type", "organ", "outcome"], registry=registry)
        self.task_latency = Histogram(
            "seedcore_task_duration_seconds", "Time from submission to outcome.",
            ["task_type"], buckets=_LATENCY_BUCKETS, registry=registry)
        self.selection_latency_seconds = Histogram(
            "seedcore_selection_duration_seconds", "Time spent choosing the agent(s) of a task.",
            buckets=_LATENCY_BUCKETS, registry=registry)
        self.consumption_joules = Counter(
            "seedcore_consumption_joules_total", "Measured consumption of executed tasks.",
            ["organ"], registry=registry)
        self.energy_terms = Gauge(
            "seedcore_energy", "System energy by term (lower is better); term=total is the sum.",
            ["term"], registry=registry)
        self.memory_accesses = Counter(
            "seedcore_memory_accesses_total", "Fact lookups by tier probed and result.",
            ["tier", "result"], registry=registry)
        self.degraded_reads = Counter(
            "seedcore_memory_degraded_reads_total",
            "Reads that fell through past a backend that was down.", ["backend"],
            registry=registry)
        self.incidents = Counter(
            "seedcore_incidents_total", "Flashbulb incidents logged, by salience band.",
            ["band"], registry=registry)
        self.budget_crossings = Counter(
            "seedcore_budget_crossings_total", "Budget level changes, by scope and new level.",
            ["scope", "level"], registry=registry)
        self.loop_runs = Counter(
            "seedcore_loop_runs_total", "Control-loop runs, by loop and result.",
            ["loop", "result"], registry=registry)
        self.mlt_duration = Histogram(
            "seedcore_mlt_operation_duration_seconds", "Long-term memory operation time.",
            ["op"], buckets=_LATENCY_BUCKETS, registry=registry)
        self.loop_duration = Histogram(
            "seedcore_loop_duration_seconds", "Control-loop run time.", ["loop"],
            buckets=_LOOP_BUCKETS, registry=registry)

        self._start_at_zero()

    def _start_at_zero(self) -> None:
        """Create every series whose labels are known in advance, at 0: a counter that first
        appears at 1 hides its first event from ``increase()`` and ``rate()``."""
        for tier in ("organ", "global", "mlt"):
            for result in ("hit", "miss"):
                self.memory_accesses.labels(tier, result)
        for band in ("low", "medium", "high", "critical"):
            self.incidents.labels(band)
        for scope in ("agent", "organ"):
            for level in ("ok", "soft", "hard"):
                self.budget_crossings.labels(scope, level)
        for loop in LOOPS:
            for result in ("ok", "failed"):
                self.loop_runs.labels(loop, result)
        self.degraded_reads.labels("working_memory")

    def task_finished(
        self, task_type: str, organ_id: str, outcome: str, latency_s: float
    ) -> None:
        self.tasks.labels(task_type, organ_id, outcome).inc()
        self.task_latency.labels(task_type).observe(latency_s)

    def selection_latency(self, seconds: float) -> None:
        self.selection_latency_seconds.observe(seconds)

    def consumption(self, organ_id: str, joules: float) -> None:
        self.consumption_joules.labels(organ_id).inc(max(0.0, joules))

    def energy(self, terms: Mapping[str, float]) -> None:
        for term, value in terms.items():
            self.energy_terms.labels(term).set(value)

    def memory_access(self, tier: str, hit: bool) -> None:
        self.memory_accesses.labels(tier, "hit" if hit else "miss").inc()

    def degraded_read(self, backend: str) -> None:
        self.degraded_reads.labels(backend).inc()

    def incident(self, salience: float) -> None:
        self.incidents.labels(salience_band(salience)).inc()

    def budget_crossing(self, scope: str, level: str) -> None:
        self.budget_crossings.labels(scope, level).inc()

    def loop_run(self, loop: str, seconds: float, ok: bool) -> None:
        self.loop_runs.labels(loop, "ok" if ok else "failed").inc()
        self.loop_duration.labels(loop).observe(seconds)

    def mlt_operation(self, op: str, seconds: float) -> None:
        self.mlt_duration.labels(op).observe(seconds)
