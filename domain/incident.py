"""Flashbulb incidents: high-salience failures kept forever with the full agent state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Incident", "IncidentStats"]


@dataclass(frozen=True, slots=True)
class Incident:
    """One flashbulb record. ``snapshot`` is the agent's heartbeat taken before the failure."""

    incident_id: str
    ts: float
    salience: float
    agent_id: str
    organ_id: str
    task: Mapping[str, Any]
    error: Mapping[str, Any]
    snapshot: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not 0.0 <= self.salience <= 1.0:
            raise ValueError(f"salience must be within [0, 1], got {self.salience!r}")


@dataclass(frozen=True, slots=True)
class IncidentStats:
    """Count, count in the last 24 h, and mean salience (0 when there is none)."""

    count: int
    last_24h: int
    mean_salience: float
