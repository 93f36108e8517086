"""The values a runtime passes around: a job dispatched to an agent and its execution."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.agent import AgentState, Lesson
from domain.consumption import Metering
from domain.task import Task, TaskError

__all__ = ["Execution", "Job"]


@dataclass(frozen=True, slots=True, eq=False)
class Job:
    """A task as dispatched to its lead agent, with the organs of the whole team and the
    task's embedding (computed once by the organism, reused by the agent's learning)."""

    task: Task
    team: tuple[str, ...]
    team_organs: tuple[str, ...]
    task_embedding: npt.NDArray[np.float64] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Execution:
    """What running a job produced, with the lead's state before and after learning."""

    success: bool
    quality: float
    error: TaskError | None
    result: Mapping[str, Any]
    latency_ms: float
    metering: Metering
    lesson: Lesson
    state_before: AgentState
    state_after: AgentState
    memory_events: Mapping[str, int] = field(default_factory=dict)
