"""Agent state (Ma) and the pure updates applied after each task."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.config import AgentLearning
from domain.roles import RoleProbabilities, initial_roles

__all__ = [
    "AgentState",
    "Heartbeat",
    "Lesson",
    "initial_embedding",
    "learn",
    "new_agent",
]

FloatArray = npt.NDArray[np.float64]


def _clamp01(value: float) -> float:
    return min(1.0, max(0.0, value))


def initial_embedding(agent_id: str, dim: int) -> FloatArray:
    """A deterministic unit vector derived from the agent id (same id, same vector)."""
    seed = int.from_bytes(hashlib.sha256(agent_id.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dim)
    vector /= np.linalg.norm(vector)
    vector.setflags(write=False)
    return vector


@dataclass(frozen=True, slots=True, eq=False)
class AgentState:
    """Everything an agent knows about itself; replaced, never mutated, by :func:`learn`."""

    agent_id: str
    organ_id: str
    organ_type: str
    h: FloatArray
    roles: RoleProbabilities
    capability: float = 0.5
    memory_utility: float = 0.0
    skills: Mapping[str, float] = field(default_factory=dict)
    load: int = 0
    capacity: int = 4
    consumption_ewma: Mapping[str, float] = field(default_factory=dict)
    tasks_processed: int = 0
    tasks_succeeded: int = 0
    memory_writes: int = 0
    memory_hits: int = 0
    salient_events_logged: int = 0
    recent_quality: tuple[float, ...] = ()
    successes_since_evolution: Mapping[str, int] = field(default_factory=dict)
    created_at: float = 0.0
    last_task_at: float | None = None
    archived: bool = False

    def with_load(self, load: int) -> AgentState:
        return replace(self, load=max(0, load))

    def to_snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy of the full state (what an incident and a heartbeat carry)."""
        return {
            "agent_id": self.agent_id,
            "organ_id": self.organ_id,
            "organ_type": self.organ_type,
            "h": [float(x) for x in self.h],
            "roles": {"E": self.roles[0], "S": self.roles[1], "O": self.roles[2]},
            "capability": self.capability,
            "memory_utility": self.memory_utility,
            "skills": dict(self.skills),
            "load": self.load,
            "capacity": self.capacity,
            "consumption_ewma_j": dict(self.consumption_ewma),
            "tasks_processed": self.tasks_processed,
            "tasks_succeeded": self.tasks_succeeded,
            "memory_writes": self.memory_writes,
            "memory_hits": self.memory_hits,
            "salient_events_logged": self.salient_events_logged,
            "recent_quality": list(self.recent_quality),
            "created_at": self.created_at,
            "last_task_at": self.last_task_at,
            "archived": self.archived,
        }


def new_agent(
    agent_id: str,
    organ_id: str,
    organ_type: str,
    dim: int,
    now: float,
    learning: AgentLearning,
    capacity: int | None = None,
) -> AgentState:
    """A fresh agent with the spec's defaults for its organ type."""
    if not agent_id:
        raise ValueError("agent_id must not be empty")
    return AgentState(
        agent_id=agent_id,
        organ_id=organ_id,
        organ_type=organ_type,
        h=initial_embedding(agent_id, dim),
        roles=initial_roles(organ_type),
        capability=learning.default_capability,
        capacity=learning.default_capacity if capacity is None else capacity,
        created_at=now,
    )


@dataclass(frozen=True, slots=True, eq=False)
class Lesson:
    """What one executed task teaches its agent. Rates in [0, 1]; joules ≥ 0."""

    task_type: str
    success: bool
    quality: float
    joules: float
    task_embedding: FloatArray | None = None
    memory_hit: float = 0.0
    compression_gain: float = 0.0
    salient: float = 0.0
    memory_writes: int = 0
    memory_hits: int = 0


def learn(state: AgentState, lesson: Lesson, now: float, cfg: AgentLearning) -> AgentState:
    """Apply one task's lesson: capability, utility, skill, consumption, embedding, counters."""
    success = 1.0 if lesson.success else 0.0
    quality = _clamp01(lesson.quality)
    capability = _clamp01(
        cfg.capability_decay * state.capability
        + (1.0 - cfg.capability_decay)
        * (cfg.capability_success_weight * success + cfg.capability_quality_weight * quality)
    )
    utility = _clamp01(
        cfg.utility_decay * state.memory_utility
        + (1.0 - cfg.utility_decay)
        * (
            cfg.utility_hit_weight * _clamp01(lesson.memory_hit)
            + cfg.utility_compression_weight * _clamp01(lesson.compression_gain)
            + cfg.utility_salient_weight * _clamp01(lesson.salient)
        )
    )
    skills = dict(state.skills)
    prior = skills.get(lesson.task_type, cfg.skill_initial)
    skills[lesson.task_type] = _clamp01(prior + cfg.skill_rate * (success - prior))

    consumption = dict(state.consumption_ewma)
    joules = max(0.0, lesson.joules)
    previous = consumption.get(lesson.task_type)
    consumption[lesson.task_type] = (
        joules if previous is None else previous + cfg.consumption_rate * (joules - previous)
    )

    h = state.h
    if lesson.success and lesson.task_embedding is not None:
        h = (1.0 - cfg.eta_h) * state.h + cfg.eta_h * lesson.task_embedding
        h.setflags(write=False)

    successes = dict(state.successes_since_evolution)
    if lesson.success:
        successes[lesson.task_type] = successes.get(lesson.task_type, 0) + 1

    return replace(
        state,
        h=h,
        capability=capability,
        memory_utility=utility,
        skills=skills,
        consumption_ewma=consumption,
        tasks_processed=state.tasks_processed + 1,
        tasks_succeeded=state.tasks_succeeded + (1 if lesson.success else 0),
        memory_writes=state.memory_writes + lesson.memory_writes,
        memory_hits=state.memory_hits + lesson.memory_hits,
        recent_quality=(*state.recent_quality, quality)[-cfg.quality_history :],
        successes_since_evolution=successes,
        last_task_at=now,
    )


@dataclass(frozen=True, slots=True, eq=False)
class Heartbeat:
    """A timestamped snapshot of an agent, with its host and energy figures."""

    state: AgentState
    host: str
    taken_at: float
    uptime_s: float
    window_joules: float = 0.0
    budget_joules: float | None = None

    def is_fresh(self, now: float, stale_after_s: float) -> bool:
        return now - self.taken_at <= stale_after_s

    def to_snapshot(self) -> dict[str, Any]:
        snapshot = self.state.to_snapshot()
        snapshot.update(
            host=self.host,
            taken_at=self.taken_at,
            uptime_s=self.uptime_s,
            energy={"window_joules": self.window_joules, "budget_joules": self.budget_joules},
        )
        return snapshot
