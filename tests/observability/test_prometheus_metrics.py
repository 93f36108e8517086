"""The Prometheus adapter: names, bounded labels, and series that start at zero."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from adapters.prometheus.metrics import PrometheusMetrics, salience_band


def test_known_series_exist_at_zero_before_any_event() -> None:
    registry = CollectorRegistry()
    PrometheusMetrics(registry)
    value = registry.get_sample_value
    assert value("seedcore_memory_accesses_total", {"tier": "mlt", "result": "miss"}) == 0.0
    assert value("seedcore_budget_crossings_total", {"scope": "organ", "level": "hard"}) == 0.0
    assert value("seedcore_loop_runs_total", {"loop": "consolidation", "result": "failed"}) == 0.0
    assert value("seedcore_incidents_total", {"band": "critical"}) == 0.0


def test_events_are_counted_under_their_bounded_labels() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    metrics.task_finished("knowledge", "organ-a", "success", 0.004)
    metrics.incident(0.9)
    metrics.incident(0.7)
    metrics.memory_access("organ", hit=False)
    metrics.energy({"pair": -1.0, "total": -2.5})
    metrics.mlt_operation("search", 0.002)
    value = registry.get_sample_value
    assert value("seedcore_tasks_total",
                 {"task_type": "knowledge", "organ": "organ-a", "outcome": "success"}) == 1.0
    assert value("seedcore_task_duration_seconds_count", {"task_type": "knowledge"}) == 1.0
    assert value("seedcore_incidents_total", {"band": "critical"}) == 1.0
    assert value("seedcore_incidents_total", {"band": "high"}) == 1.0
    assert value("seedcore_memory_accesses_total", {"tier": "organ", "result": "miss"}) == 1.0
    assert value("seedcore_energy", {"term": "total"}) == -2.5
    assert value("seedcore_mlt_operation_duration_seconds_count", {"op": "search"}) == 1.0
    text = generate_latest(registry).decode()
    assert "agent_id" not in text and "task_id" not in text


def test_salience_bands_cover_the_unit_interval() -> None:
    assert [salience_band(s) for s in (0.0, 0.49, 0.5, 0.69, 0.7, 0.89, 0.9, 1.0)] == [
        "low", "low", "medium", "medium", "high", "high", "critical", "critical"]
