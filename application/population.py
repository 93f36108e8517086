"""The organism's shared view: organs, the latest state of every agent, in-flight load,
heartbeat times and hosts, and the collaboration memory (pair weights and hyperedge patterns)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from domain.agent import AgentState
from domain.collaboration import PairKey, PatternKey, PatternStats

__all__ = ["Organ", "Population"]


@dataclass(frozen=True, slots=True)
class Organ:
    organ_id: str
    organ_type: str
    created_at: float


@dataclass(slots=True)
class Population:
    """Mutable state shared by the organism and energy services. Hold ``lock`` to touch it."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    organs: dict[str, Organ] = field(default_factory=dict)
    agents: dict[str, AgentState] = field(default_factory=dict)
    heartbeat_at: dict[str, float] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)  # agent -> host of its last heartbeat
    in_flight: dict[str, int] = field(default_factory=dict)
    pair_weights: dict[PairKey, float] = field(default_factory=dict)
    patterns: dict[PatternKey, PatternStats] = field(default_factory=dict)
    bytes_written: dict[str, float] = field(default_factory=dict)

    def organ_of(self, agent_id: str) -> str:
        return self.agents[agent_id].organ_id
