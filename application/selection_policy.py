"""Selection policies: how the organism picks the agent(s) of a task among the candidates.

The default is energy-aware selection (``domain.selection``). Benchmarks plug in baselines
(random, round-robin, least-loaded, an oracle) through the same protocol, so every policy sees
the same eligible candidates and drives the same execution path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from domain.collaboration import PairKey
from domain.config import SelectionWeights
from domain.selection import Candidates, Choice, select, select_team
from domain.task import Task

__all__ = ["EnergyAwarePolicy", "SelectionContext", "SelectionPolicy"]


@dataclass(frozen=True, slots=True, eq=False)
class SelectionContext:
    """Everything a policy may look at for one task. ``h`` holds the candidates' embeddings
    for a team task and is empty (0 rows) for a single-agent task."""

    task: Task
    candidates: Candidates
    h: npt.NDArray[np.float64]
    pair_weights: Mapping[PairKey, float]
    complexity: float
    consumption_ref: float


class SelectionPolicy(Protocol):
    def choose(self, context: SelectionContext, rng: np.random.Generator) -> Choice | None:
        """``task.team_size`` distinct eligible agents, the lead first, or None when there are
        not enough eligible agents. Must never pick an ineligible candidate."""
        ...


class EnergyAwarePolicy:
    """The domain's energy-aware selection: the argmin of the score, ε-exploration, teams."""

    def __init__(self, weights: SelectionWeights) -> None:
        self.weights = weights

    def choose(self, context: SelectionContext, rng: np.random.Generator) -> Choice | None:
        task = context.task
        if task.team_size > 1:
            return select_team(context.candidates, context.h, context.pair_weights,
                               task.team_size, context.complexity, context.consumption_ref,
                               self.weights, rng)
        return select(context.candidates, context.complexity, context.consumption_ref,
                      self.weights, rng)
