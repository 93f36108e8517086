"""Baseline selection policies, to compare energy-aware selection against (benchmarks, tests).

Every policy implements :class:`~application.selection_policy.SelectionPolicy`: it chooses
``task.team_size`` distinct agents among the **eligible** candidates only (the organism has
already applied capacity, hard budgets, heartbeats, archiving and hints), the lead first, and
returns None when there are not enough of them. None of them reads the score's features except
where stated; their ``Choice.score`` is 0.0 (they do not score).

* :class:`RandomPolicy` — uniform among the eligible, from the organism's seeded generator.
* :class:`RoundRobinPolicy` — the next eligible agents after the last chosen one, in agent-id
  order.
* :class:`LeastLoadedPolicy` — the lowest in-flight load relative to capacity; ties broken
  uniformly at random (always taking the first id would pile sequential work on one agent).
* :class:`OraclePolicy` — knows the hidden model of a simulated world (only the simulator has
  one): minimises the expected joules per expected success, greedily member by member.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from application.selection_policy import SelectionContext
from domain.config import ConsumptionCosts
from domain.selection import Choice
from domain.task import Task

__all__ = [
    "HiddenModel",
    "LeastLoadedPolicy",
    "OraclePolicy",
    "RandomPolicy",
    "RoundRobinPolicy",
]


def _eligible(context: SelectionContext) -> npt.NDArray[np.int64]:
    return np.flatnonzero(context.candidates.eligible).astype(np.int64)


def _choice(context: SelectionContext, indices: Sequence[int]) -> Choice:
    ids = context.candidates.agent_ids
    return Choice(tuple(ids[k] for k in indices), tuple(int(k) for k in indices), 0.0, False)


class RandomPolicy:
    """Uniformly random distinct eligible agents."""

    def choose(self, context: SelectionContext, rng: np.random.Generator) -> Choice | None:
        eligible = _eligible(context)
        k = context.task.team_size
        if eligible.size < k:
            return None
        picked = rng.choice(eligible, size=k, replace=False)
        return _choice(context, [int(i) for i in picked])


class RoundRobinPolicy:
    """Agents in turn by id: each choice starts after the last agent chosen."""

    def __init__(self) -> None:
        self._last: str | None = None

    def choose(self, context: SelectionContext, rng: np.random.Generator) -> Choice | None:
        ids = context.candidates.agent_ids
        eligible = _eligible(context)
        k = context.task.team_size
        if eligible.size < k:
            return None
        ordered = sorted((ids[int(i)], int(i)) for i in eligible)
        start = 0
        if self._last is not None:
            start = next((n for n, (agent_id, _) in enumerate(ordered) if agent_id > self._last),
                         0)
        picked = [ordered[(start + n) % len(ordered)][1] for n in range(k)]
        self._last = ids[picked[-1]]
        return _choice(context, picked)


class LeastLoadedPolicy:
    """The lowest load/capacity first; ties broken at random."""

    def choose(self, context: SelectionContext, rng: np.random.Generator) -> Choice | None:
        candidates = context.candidates
        eligible = _eligible(context)
        k = context.task.team_size
        if eligible.size < k:
            return None
        ratio = candidates.load[eligible] / np.maximum(candidates.capacity[eligible], 1.0)
        order = np.lexsort((rng.random(eligible.size), ratio))
        return _choice(context, [int(eligible[i]) for i in order[:k]])


class HiddenModel(Protocol):
    """What an oracle knows: the true success probability and CPU seconds of a team."""

    def success_probability(self, team: Sequence[str], task: Task) -> float:
        """Probability in [0, 1] that ``team`` (lead first) succeeds at ``task``."""
        ...

    def cpu_seconds(self, team: Sequence[str], task: Task) -> tuple[float, ...]:
        """Expected CPU seconds of each member's share of ``task``."""
        ...


class OraclePolicy:
    """Minimises expected joules per expected success with the hidden model.

    Expected joules are ``P_cpu · Σ shares`` plus the nominal memory operations of a knowledge
    task (one organ and one global Mw read, an Mlt read and a write-back per fact: the
    worst case, the same for every agent). The lead is the best single agent; each further
    member is the one that makes the team's ratio smallest. Ties go to the lower agent id.
    """

    def __init__(self, model: HiddenModel, costs: ConsumptionCosts) -> None:
        self._model = model
        self._costs = costs

    def _ratio(self, team: Sequence[str], task: Task) -> float:
        p = self._model.success_probability(team, task)
        per_fact = 2 * self._costs.mw_read + self._costs.mlt_read + self._costs.mw_write
        joules = (self._costs.cpu_watts * sum(self._model.cpu_seconds(team, task))
                  + per_fact * len(task.required_facts))
        return joules / p if p > 0.0 else float("inf")

    def choose(self, context: SelectionContext, rng: np.random.Generator) -> Choice | None:
        ids = context.candidates.agent_ids
        eligible = [int(i) for i in _eligible(context)]
        task = context.task
        if len(eligible) < task.team_size:
            return None
        team: list[int] = []
        while len(team) < task.team_size:
            members = [ids[i] for i in team]
            best = min(
                (i for i in eligible if i not in team),
                key=lambda i: (self._ratio([*members, ids[i]], task), ids[i]),
            )
            team.append(best)
        return _choice(context, team)
