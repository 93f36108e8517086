"""Tasks, their outcomes and errors, and the complexity estimate."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "MAX_TEAM_SIZE",
    "Size",
    "Task",
    "TaskError",
    "TaskOutcome",
    "estimate_complexity",
]

MAX_TEAM_SIZE = 16


class Size(StrEnum):
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class Task:
    """A unit of work. Validated on construction: a bad task never reaches selection."""

    task_id: str
    task_type: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    required_facts: tuple[str, ...] = ()
    risk: float = 0.5
    severity: float = 1.0
    complexity: float | None = None
    priority: int = 0
    organ_hint: str | None = None
    agent_hint: str | None = None
    idempotency_key: str | None = None
    team_size: int = 1
    size: Size = Size.MEDIUM
    urgent: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not self.task_id:
            raise ValueError("task_id must not be empty")
        if not self.task_type:
            raise ValueError("task_type must not be empty")
        for name in ("risk", "severity"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be within [0, 1], got {value!r}")
        if self.complexity is not None and not (
            math.isfinite(self.complexity) and 0.0 <= self.complexity <= 1.0
        ):
            raise ValueError(f"complexity must be within [0, 1], got {self.complexity!r}")
        if self.agent_hint is not None and self.team_size != 1:
            raise ValueError("a task pinned to one agent cannot ask for a team")
        if not 1 <= self.team_size <= MAX_TEAM_SIZE:
            raise ValueError(f"team_size must be within [1, {MAX_TEAM_SIZE}]")


_COMPLEXITY_BY_TYPE: Mapping[str, float] = {
    "optimization": 0.3,
    "analysis": 0.3,
    "exploration": 0.2,
    "discovery": 0.2,
}
_COMPLEXITY_BY_SIZE: Mapping[Size, float] = {Size.LARGE: 0.2, Size.SMALL: -0.1}


def estimate_complexity(task: Task) -> float:
    """The task's own complexity, or: 0.5 + type, size and urgency bonuses, clamped to [0.1, 1]."""
    if task.complexity is not None:
        return task.complexity
    value = 0.5 + _COMPLEXITY_BY_TYPE.get(task.task_type, 0.0)
    value += _COMPLEXITY_BY_SIZE.get(task.size, 0.0)
    value += 0.1 if task.urgent else 0.0
    return min(1.0, max(0.1, value))


@dataclass(frozen=True, slots=True)
class TaskError:
    """Why a task failed: the error's type, a human message and a stable code."""

    type: str
    message: str
    code: str


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What executing a task produced."""

    task_id: str
    task_type: str
    agent_id: str
    organ_id: str
    success: bool
    quality: float
    latency_ms: float
    joules: float
    cpu_measured: bool
    salience: float
    score: float
    predicted_d_e: float
    team: tuple[str, ...] = ()
    error: TaskError | None = None
    result: Mapping[str, Any] = field(default_factory=dict)
    memory_events: Mapping[str, int] = field(default_factory=dict)
    incident_logged: bool = False
    incident_id: str | None = None
    incident_reason: str | None = None
    explored: bool = False
