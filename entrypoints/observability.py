"""Metrics read at scrape time: agents, heartbeat age, stale agents, the runtime's hosts,
working memory per tier, holons, budget use, backend status and the energy-rising span.

Gauges that describe state are read when Prometheus scrapes rather than kept up to date on
every write; counters of events live in ``adapters.prometheus.metrics``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from application.services import Services

__all__ = ["ServicesCollector", "register_collectors"]

Readiness = Callable[[], Mapping[str, str]]


def _tier(namespace: str) -> str:
    return "global" if namespace == "global" else "organ"


class ServicesCollector(Collector):
    def __init__(self, services: Services, readiness: Readiness) -> None:
        self._services = services
        self._readiness = readiness

    def collect(self) -> Iterator[Metric]:
        services = self._services
        now = services.clock.now()
        population = services.tier0.population
        with population.lock:
            per_organ = Counter(s.organ_id for s in population.agents.values())
            ages = [now - t for t in population.heartbeat_at.values()]
        agents = GaugeMetricFamily("seedcore_agents", "Agents hosted, by organ.",
                                   labels=["organ"])
        for organ, count in sorted(per_organ.items()):
            agents.add_metric([organ], count)
        yield agents
        yield GaugeMetricFamily("seedcore_agent_heartbeat_age_seconds_max",
                                "Age of the oldest agent heartbeat.", value=max(ages, default=0.0))
        yield GaugeMetricFamily("seedcore_agents_stale",
                                "Agents whose last heartbeat is too old for them to take tasks.",
                                value=services.tier0.stale_agents(now))
        yield from self._runtime_hosts(now)
        yield from self._memory()
        yield from self._budgets(now)
        status = self._readiness()
        up = GaugeMetricFamily("seedcore_backend_up", "1 when the backend answers.",
                               labels=["backend"])
        for backend, state in sorted(status.items()):
            up.add_metric([backend], 1.0 if state == "ok" else 0.0)
        yield up
        since = services.energy.rising_since
        yield GaugeMetricFamily("seedcore_energy_rising_seconds",
                                "How long the system energy has risen continuously.",
                                value=0.0 if since is None else max(0.0, now - since))

    def _runtime_hosts(self, now: float) -> Iterator[Metric]:
        """One series per host (an organ actor, or the process), never per agent. ``now`` is
        wall-clock time, as the hosts' ``started_at`` and ``checkpointed_at`` are."""
        try:
            hosts = self._services.tier0.hosts()
        except Exception:  # an unreachable runtime shows in seedcore_backend_up; skip these series
            return
        yield GaugeMetricFamily("seedcore_runtime_hosts", "Hosts of the agent runtime answering.",
                                value=len(hosts))
        agents = GaugeMetricFamily("seedcore_runtime_host_agents", "Agents the host runs.",
                                   labels=["host"])
        resident = GaugeMetricFamily("seedcore_runtime_host_resident_bytes",
                                     "Resident memory of the host's process.", labels=["host"])
        restored = GaugeMetricFamily("seedcore_runtime_host_restored_agents",
                                     "Agents restored from a checkpoint when the host started.",
                                     labels=["host"])
        checkpoint_age = GaugeMetricFamily("seedcore_runtime_host_checkpoint_age_seconds",
                                           "Time since the host's last checkpoint.",
                                           labels=["host"])
        uptime = GaugeMetricFamily("seedcore_runtime_host_uptime_seconds",
                                   "Time since the host's process started; drops on a restart.",
                                   labels=["host"])
        for host in hosts:
            labels = [host.name]
            agents.add_metric(labels, host.agents)
            restored.add_metric(labels, host.restored)
            # Hosts on other nodes read their own clocks: clamp a small skew at zero.
            uptime.add_metric(labels, max(0.0, now - host.started_at))
            if host.rss_bytes is not None:
                resident.add_metric(labels, host.rss_bytes)
            if host.checkpointed_at is not None:
                checkpoint_age.add_metric(labels, max(0.0, now - host.checkpointed_at))
        yield from (agents, resident, restored, checkpoint_age, uptime)

    def _memory(self) -> Iterator[Metric]:
        memory = self._services.memory
        items: Counter[str] = Counter()
        size: Counter[str] = Counter()
        hits: Counter[str] = Counter()
        misses: Counter[str] = Counter()
        try:
            stats = memory.stats()
        except Exception:  # a backend down shows in seedcore_backend_up; skip these series
            stats = []
        for entry in stats:
            tier = _tier(entry.namespace)
            items[tier] += entry.items
            size[tier] += entry.bytes
            hits[tier] += entry.hits
            misses[tier] += entry.misses
        families = (
            (GaugeMetricFamily("seedcore_working_memory_items", "Live Mw items by tier.",
                               labels=["tier"]), items),
            (GaugeMetricFamily("seedcore_working_memory_bytes", "Bytes of live Mw items.",
                               labels=["tier"]), size),
            (CounterMetricFamily("seedcore_working_memory_hits", "Mw hits counted by the backend.",
                                 labels=["tier"]), hits),
            (CounterMetricFamily("seedcore_working_memory_misses",
                                 "Mw misses counted by the backend.", labels=["tier"]), misses),
        )
        for family, values in families:
            for tier in ("organ", "global"):
                family.add_metric([tier], values[tier])
            yield family
        try:
            count = memory.holons.count()
        except Exception:
            return
        yield GaugeMetricFamily("seedcore_holons", "Holons in long-term memory.", value=count)

    def _budgets(self, now: float) -> Iterator[Metric]:
        ratio: dict[str, float] = {"agent": 0.0, "organ": 0.0}
        for usage in self._services.budgets.usage(now):
            if usage.budget_joules:
                ratio[usage.scope] = max(ratio[usage.scope],
                                         usage.used_joules / usage.budget_joules)
        family = GaugeMetricFamily("seedcore_budget_usage_ratio",
                                   "Highest used/budget among the scope's members.",
                                   labels=["scope"])
        for scope, value in ratio.items():
            family.add_metric([scope], value)
        yield family


def register_collectors(registry: CollectorRegistry, services: Services,
                        readiness: Readiness) -> None:
    registry.register(ServicesCollector(services, readiness))
    ProcessCollector(registry=registry)
