"""The world a scenario runs in: services, their adapters and a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace

from adapters.memory.clock import FakeClock
from application.services import Services
from domain.config import DomainConfig
from entrypoints.bootstrap import Adapters

SCENARIO_TTL_S = 5.0


@dataclass
class World:
    """Services and their adapters. ``incident_outage()`` makes the incident store unreachable
    while its context lasts; ``advance`` moves time (for real backends it also sleeps)."""

    services: Services
    adapters: Adapters
    clock: FakeClock
    config: DomainConfig
    incident_outage: Callable[[], AbstractContextManager[object]]
    advance_time: Callable[[float], None] | None = None

    def advance(self, seconds: float) -> None:
        if self.advance_time is None:
            self.clock.advance(seconds)
        else:
            self.advance_time(seconds)


def scenario_config() -> DomainConfig:
    base = DomainConfig()
    # ε = 0 so that selection is the plain argmin: the scenarios pin agents anyway.
    return replace(
        base,
        memory=replace(base.memory, mw_ttl_s=SCENARIO_TTL_S),
        selection=replace(base.selection, epsilon=0.0),
    )
