"""The application's services, built once by the composition root and handed to entrypoints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from application.alerts import AlertEvent, AlertResponder
from application.budgets import BudgetTracker
from application.energy import EnergyService
from application.incidents import IncidentService
from application.loops import ControlLoop
from application.memory import MemoryService
from application.organism import OrganismService
from application.ports.agent_runtime import AgentRuntime
from application.ports.clock import Clock
from application.ports.lock import LeaseLock
from application.ports.metrics import Metrics
from application.tier0 import Tier0Manager
from domain.config import DomainConfig

__all__ = ["Services", "alert_responder", "control_loops"]

TIGHTEN_FACTOR = 0.8


@dataclass(slots=True)
class Services:
    tier0: Tier0Manager
    organism: OrganismService
    memory: MemoryService
    incidents: IncidentService
    energy: EnergyService
    budgets: BudgetTracker
    runtime: AgentRuntime
    clock: Clock
    metrics: Metrics
    config: DomainConfig
    lock: LeaseLock
    alerts: AlertResponder | None = None
    #: What the composition root asks to run when the process stops (e.g. leaving Ray).
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Run every ``on_close`` hook once, the last registered first; a failing hook does
        not keep the others from running, and the first failure is raised at the end."""
        hooks, self.on_close = self.on_close[::-1], []
        failures: list[Exception] = []
        for hook in hooks:
            try:
                hook()
            except Exception as error:
                failures.append(error)
        if failures:
            raise failures[0]


def control_loops(services: Services) -> list[ControlLoop]:
    """The loops of the domain spec §5, on their configured periods."""
    schedule = services.config.loops

    def heartbeats() -> Mapping[str, Any]:
        report = services.tier0.collect_heartbeats()
        return {"agents": report.agents, "adopted": report.adopted, "stale": report.stale,
                "hosts": report.hosts}

    def energy_snapshot() -> Mapping[str, Any]:
        report = services.energy.snapshot()
        return {"total": report.terms.total, "d_e": report.d_e,
                "transactions": report.transactions, "rising_alert": report.rising_alert}

    def role_evolution() -> Mapping[str, Any]:
        report = services.energy.evolve_roles()
        return {"agents": report.agents_evolved, "d_e": report.d_e}

    def consolidation() -> Mapping[str, Any]:
        report = services.memory.consolidate()
        return {"consolidated": report.consolidated, "remaining": report.remaining}

    def hot_miss_promotion() -> Mapping[str, Any]:
        report = services.memory.promote_hot_misses()
        return {"promoted": len(report.promoted), "skipped": len(report.skipped)}

    return [
        # Every worker refreshes its own view of the agents, so heartbeats are not a singleton.
        ControlLoop("heartbeats", schedule.heartbeat_s, heartbeats, singleton=False),
        ControlLoop("energy_snapshot", schedule.energy_snapshot_s, energy_snapshot),
        ControlLoop("role_evolution", schedule.role_evolution_s, role_evolution),
        ControlLoop("consolidation", schedule.consolidation_s, consolidation),
        ControlLoop("hot_miss_promotion", schedule.hot_miss_s, hot_miss_promotion),
    ]


def alert_responder(services: Services) -> AlertResponder:
    """The automated responses an alert's ``response`` label can name."""
    responder = AlertResponder(services.clock)

    def run_role_evolution(_: AlertEvent) -> Mapping[str, Any]:
        report = services.energy.evolve_roles()
        return {"agents": report.agents_evolved, "d_e": report.d_e}

    def tighten_budget(event: AlertEvent) -> Mapping[str, Any]:
        # Every budget of the scope the alert names (or every budget) shrinks by 20 %, so the
        # soft-limit penalty and the hard limit steer work away from the heaviest consumers.
        scope = event.labels.get("scope")
        tightened = {}
        for (kind, scope_id), joules in services.budgets.budgets().items():
            if scope is None or scope == kind:
                services.budgets.set_budget(kind, scope_id, joules * TIGHTEN_FACTOR)
                tightened[f"{kind}:{scope_id}"] = joules * TIGHTEN_FACTOR
        return {"tightened": tightened}

    def restart_stale_actor(_: AlertEvent) -> Mapping[str, Any]:
        # Re-collect every heartbeat from the runtime: agents whose host answers are fresh again;
        # the runtime restarts hosts that do not (organ actors restart on failure).
        return {"agents": services.tier0.collect_heartbeats().agents}

    responder.register("run_role_evolution", run_role_evolution)
    responder.register("tighten_budget", tighten_budget)
    responder.register("restart_stale_actor", restart_stale_actor)
    return responder
