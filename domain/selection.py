"""Energy-aware selection: eligibility, the score, exploration, teams and the predicted dE.

Inputs are arrays over the candidate agents so that one selection among 1,000 agents is a few
vector operations (see ``seedcore bench energy``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.collaboration import PAIR_WEIGHT_INITIAL, PairKey, pair_key
from domain.config import SelectionWeights

__all__ = [
    "Candidates",
    "Choice",
    "eligibility",
    "predicted_delta_energy",
    "score",
    "select",
    "select_team",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Candidates:
    """Per-agent selection features, one entry per agent, aligned with ``agent_ids``.

    ``role_fit`` is p_i[role(τ)]; ``consumption`` is Ĵ_i(τ) already defaulted to the organism's
    median for τ; ``affinity`` is the mean of skill and cached-fact fraction, in [0, 1].
    """

    agent_ids: Sequence[str]
    capability: FloatArray
    role_fit: FloatArray
    consumption: FloatArray
    load: FloatArray
    capacity: FloatArray
    soft_penalty: FloatArray
    affinity: FloatArray
    eligible: BoolArray

    def __len__(self) -> int:
        return len(self.agent_ids)


@dataclass(frozen=True, slots=True)
class Choice:
    """The chosen agent(s): the lead first, with the lead's score."""

    agent_ids: tuple[str, ...]
    indices: tuple[int, ...]
    score: float
    explored: bool


def eligibility(
    load: FloatArray,
    capacity: FloatArray,
    over_hard_budget: BoolArray,
    heartbeat_age_s: FloatArray,
    stale_after_s: float,
    archived: BoolArray,
    in_hinted_organ: BoolArray,
) -> BoolArray:
    """Not at capacity, not over the hard budget, heartbeat fresh, not archived, in the hint."""
    return (
        (load < capacity)
        & ~over_hard_budget
        & (heartbeat_age_s <= stale_after_s)
        & ~archived
        & in_hinted_organ
    )


def score(
    candidates: Candidates, complexity: float, consumption_ref: float, w: SelectionWeights
) -> FloatArray:
    """The selection score of every candidate (lower is better); ineligible ones get +inf."""
    consumption_term = (
        candidates.consumption / consumption_ref
        if consumption_ref > 0.0
        else np.zeros_like(candidates.consumption)
    )
    capacity = np.maximum(candidates.capacity, 1.0)
    raw = (
        w.capability * (1.0 - candidates.capability) * complexity
        + w.role * (1.0 - candidates.role_fit)
        + w.consumption * consumption_term
        + w.load * candidates.load / capacity
        + w.soft_budget * candidates.soft_penalty
        - w.affinity * candidates.affinity
    )
    return np.where(candidates.eligible, raw, np.inf)


def _argmin_by_id(scores: FloatArray, agent_ids: Sequence[str]) -> int:
    best = float(scores.min())
    tied = np.flatnonzero(scores == best)
    if tied.size == 1:
        return int(tied[0])
    return int(min(tied, key=lambda k: agent_ids[int(k)]))


def select(
    candidates: Candidates,
    complexity: float,
    consumption_ref: float,
    w: SelectionWeights,
    rng: np.random.Generator,
) -> Choice | None:
    """The argmin of the score (ties by agent id); with probability ε one of the best few.

    Returns None when no candidate is eligible.
    """
    scores = score(candidates, complexity, consumption_ref, w)
    eligible_count = int(np.count_nonzero(candidates.eligible))
    if eligible_count == 0:
        return None
    index = _argmin_by_id(scores, candidates.agent_ids)
    explored = False
    if eligible_count > 1 and rng.random() < w.epsilon:
        k = min(w.explore_among, eligible_count)
        best = np.argpartition(scores, k - 1)[:k]
        index = int(best[int(rng.integers(k))])
        explored = True
    return Choice((candidates.agent_ids[index],), (index,), float(scores[index]), explored)


def select_team(
    candidates: Candidates,
    h: FloatArray,
    pair_weights: Mapping[PairKey, float],
    team_size: int,
    complexity: float,
    consumption_ref: float,
    w: SelectionWeights,
    rng: np.random.Generator,
) -> Choice | None:
    """A lead by :func:`select`, then members minimising score − 0.5·Σ w_mj·cos(h_m, h_j).

    Returns None when fewer than ``team_size`` candidates are eligible.
    """
    if int(np.count_nonzero(candidates.eligible)) < team_size:
        return None
    lead = select(candidates, complexity, consumption_ref, w, rng)
    if lead is None or team_size == 1:
        return lead
    base = score(candidates, complexity, consumption_ref, w)
    norms = np.linalg.norm(h, axis=1)
    safe = np.where(norms > 0.0, norms, 1.0)
    unit = h / safe[:, None]
    chosen = [lead.indices[0]]
    bonus = np.zeros(len(candidates))
    ids = candidates.agent_ids
    while len(chosen) < team_size:
        m = chosen[-1]
        cosines = np.where(norms > 0.0, unit @ unit[m], 0.0) if norms[m] > 0.0 else bonus * 0.0
        weights = np.array(
            [
                pair_weights.get(pair_key(ids[m], ids[j]), PAIR_WEIGHT_INITIAL) if j != m else 0.0
                for j in range(len(ids))
            ]
        )
        bonus += weights * cosines
        adjusted = base - w.pair_affinity * bonus
        adjusted[chosen] = np.inf
        chosen.append(_argmin_by_id(adjusted, ids))
    return Choice(
        tuple(ids[k] for k in chosen), tuple(chosen), lead.score, lead.explored
    )


def predicted_delta_energy(
    h: FloatArray,
    task_embedding: FloatArray | None,
    success_probability: float,
    eta_h: float,
    lambda_reg: float,
    pair_gradient: FloatArray | None = None,
) -> float:
    """Expected change of E if the agent succeeds at the task and its embedding moves.

    The reg term changes exactly by λ(‖h'‖² − ‖h‖²); the pair term is taken to first order from
    its gradient at ``h`` when one is known. Failure leaves h, and so E, unchanged.
    """
    if task_embedding is None:
        return 0.0
    moved = (1.0 - eta_h) * h + eta_h * task_embedding
    delta = lambda_reg * (float(moved @ moved) - float(h @ h))
    if pair_gradient is not None:
        delta += float(pair_gradient @ (moved - h))
    return success_probability * delta
