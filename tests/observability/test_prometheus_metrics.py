"""The Prometheus adapter: names, bounded labels, and series that start at zero; and the
series the services collector reads at scrape time."""

from __future__ import annotations

import sys

from prometheus_client import CollectorRegistry, generate_latest

from adapters.memory.agent_runtime import InProcessRuntime
from adapters.memory.clock import FakeClock
from adapters.prometheus.metrics import PrometheusMetrics, salience_band
from application.errors import BackendUnavailable
from application.ports.agent_runtime import HostStatus
from application.services import Services
from application.tier0 import AgentSpec
from domain.config import DomainConfig
from entrypoints.bootstrap import build_services, in_memory_adapters
from entrypoints.observability import ServicesCollector


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


# ------------------------------------------------------------- the runtime's hosts, scraped ---

CONFIG = DomainConfig()
HOST_SERIES = (
    "seedcore_runtime_hosts",
    "seedcore_runtime_host_agents",
    "seedcore_runtime_host_resident_bytes",
    "seedcore_runtime_host_restored_agents",
    "seedcore_runtime_host_checkpoint_age_seconds",
    "seedcore_runtime_host_uptime_seconds",
)


class _UnreachableRuntime(InProcessRuntime):
    def hosts(self) -> list[HostStatus]:
        raise BackendUnavailable("runtime", "no organ actor answers")


class _CheckpointedRuntime(InProcessRuntime):
    """Two organ actors as the Ray runtime reports them: one restarted from a checkpoint
    (and without a readable RSS), one that has not checkpointed yet."""

    def hosts(self) -> list[HostStatus]:
        now = self._clock.now()
        return [
            HostStatus("seedcore/organ:organ-a:0", "node-1", 101, started_at=now - 5.0, agents=4,
                       restored=4, checkpoints=1, checkpointed_at=now - 2.0, rss_bytes=None),
            HostStatus("seedcore/organ:organ-b:0", "node-2", 102, started_at=now - 60.0,
                       agents=2, restored=0, checkpoints=0, checkpointed_at=None,
                       rss_bytes=1 << 20),
        ]


def _services(clock: FakeClock,
              runtime: type[InProcessRuntime] = InProcessRuntime) -> Services:
    adapters = in_memory_adapters(clock=clock, dim=32, config=CONFIG)
    adapters.runtime = lambda executor: runtime(executor, clock, CONFIG)
    return build_services(adapters, CONFIG)


def _scraped(services: Services, runtime_state: str = "ok") -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(ServicesCollector(services, lambda: {"runtime": runtime_state}))
    return registry


def _samples(registry: CollectorRegistry, name: str) -> dict[str, float]:
    """Host label -> value of one host series."""
    return {s.labels["host"]: s.value for family in registry.collect()
            for s in family.samples if s.name == name}


def test_runtime_host_series_describe_the_in_process_runtime() -> None:
    clock = FakeClock()
    services = _services(clock)
    services.tier0.create_organ("organ-a", "utility")
    services.tier0.create_agents([AgentSpec("organ-a", f"a{k}") for k in range(3)])
    clock.advance(2.0)
    value = _scraped(services).get_sample_value
    host = {"host": "inprocess"}
    assert value("seedcore_runtime_hosts") == 1.0
    assert value("seedcore_runtime_host_agents", host) == 3.0
    assert value("seedcore_runtime_host_restored_agents", host) == 0.0
    assert value("seedcore_runtime_host_uptime_seconds", host) == 2.0
    # The in-process runtime never checkpoints, so it has no checkpoint age.
    assert value("seedcore_runtime_host_checkpoint_age_seconds", host) is None
    if sys.platform == "linux":
        assert (value("seedcore_runtime_host_resident_bytes", host) or 0.0) > 0.0
    assert value("seedcore_agents_stale") == 0.0
    clock.advance(CONFIG.loops.heartbeat_stale_s + 1.0)
    assert value("seedcore_agents_stale") == 3.0


def test_a_restarted_host_shows_its_restored_agents_and_a_short_uptime() -> None:
    registry = _scraped(_services(FakeClock(), _CheckpointedRuntime))
    restarted, steady = "seedcore/organ:organ-a:0", "seedcore/organ:organ-b:0"
    assert registry.get_sample_value("seedcore_runtime_hosts") == 2.0
    assert _samples(registry, "seedcore_runtime_host_agents") == {restarted: 4.0, steady: 2.0}
    assert _samples(registry, "seedcore_runtime_host_restored_agents") == {
        restarted: 4.0, steady: 0.0}
    assert _samples(registry, "seedcore_runtime_host_uptime_seconds") == {
        restarted: 5.0, steady: 60.0}
    # Only hosts that have checkpointed, and only hosts that can read their RSS.
    assert _samples(registry, "seedcore_runtime_host_checkpoint_age_seconds") == {restarted: 2.0}
    assert _samples(registry, "seedcore_runtime_host_resident_bytes") == {steady: 1 << 20}


def test_an_unreachable_runtime_leaves_out_only_the_host_series() -> None:
    clock = FakeClock()
    services = _services(clock, _UnreachableRuntime)
    services.tier0.create_organ("organ-a", "utility")
    services.tier0.create_agents([AgentSpec("organ-a", "a0")])
    registry = _scraped(services, runtime_state="unavailable")
    text = generate_latest(registry).decode()  # the scrape itself succeeds
    assert not [name for name in HOST_SERIES if name in text]
    value = registry.get_sample_value
    assert value("seedcore_agents", {"organ": "organ-a"}) == 1.0
    assert value("seedcore_agents_stale") == 0.0
    assert value("seedcore_backend_up", {"backend": "runtime"}) == 0.0
    assert value("seedcore_working_memory_items", {"tier": "organ"}) == 0.0
