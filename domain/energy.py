"""System energy E(s): five terms, total, gradients and per-agent attribution (vectorised).

Lower is better. The organism's state enters as arrays so that 10,000 agents cost a handful of
numpy operations; see ``seedcore bench energy``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from domain.config import EnergyWeights, MemoryPolicy

__all__ = [
    "EnergyGradients",
    "EnergyInputs",
    "EnergyTerms",
    "MemoryCostInputs",
    "attribute",
    "compute_energy",
    "energy_lower_bound",
    "memory_cost",
    "organ_totals",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_Q_MIN = 1e-12


@dataclass(frozen=True, slots=True)
class MemoryCostInputs:
    """The three memory figures behind CostVQ, before clamping to [0, 1]."""

    bytes_used: float = 0.0
    bytes_budget: float = 1.0
    recon_loss: float = 0.0
    miss_rate: float = 0.0


def memory_cost(inputs: MemoryCostInputs, policy: MemoryPolicy) -> float:
    """CostVQ = 0.4·min(1, bytes/budget) + 0.4·recon_loss + 0.2·miss_rate, in [0, 1]."""
    if inputs.bytes_budget <= 0:
        raise ValueError("bytes_budget must be positive")
    fill = min(1.0, max(0.0, inputs.bytes_used / inputs.bytes_budget))
    recon = min(1.0, max(0.0, inputs.recon_loss))
    miss = min(1.0, max(0.0, inputs.miss_rate))
    return policy.bytes_weight * fill + policy.recon_weight * recon + policy.miss_weight * miss


@dataclass(frozen=True, slots=True, eq=False)
class EnergyInputs:
    """The organism's state as arrays.

    ``h`` is (N, d), ``p`` is (N, 3), ``pairs`` is (M, 2) indices into the agents with
    ``pair_weights`` (M,), ``pattern_scores`` are raw pattern scores, ``bytes_written`` (N,) the
    bytes each agent wrote (for attributing E_mem).
    """

    h: FloatArray
    p: FloatArray
    pairs: IntArray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    pair_weights: FloatArray = field(default_factory=lambda: np.zeros(0))
    pattern_scores: FloatArray = field(default_factory=lambda: np.zeros(0))
    memory: MemoryCostInputs = field(default_factory=MemoryCostInputs)
    bytes_written: FloatArray | None = None

    @property
    def agent_count(self) -> int:
        return int(self.h.shape[0])

    @staticmethod
    def empty(dim: int) -> EnergyInputs:
        return EnergyInputs(h=np.zeros((0, dim)), p=np.zeros((0, 3)))


@dataclass(frozen=True, slots=True)
class EnergyTerms:
    """The five terms and their sum."""

    pair: float
    hyper: float
    entropy: float
    reg: float
    mem: float

    @property
    def total(self) -> float:
        return self.pair + self.hyper + self.entropy + self.reg + self.mem

    def as_dict(self) -> dict[str, float]:
        return {
            "pair": self.pair,
            "hyper": self.hyper,
            "entropy": self.entropy,
            "reg": self.reg,
            "mem": self.mem,
            "total": self.total,
        }

    @staticmethod
    def zero() -> EnergyTerms:
        return EnergyTerms(0.0, 0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True, eq=False)
class EnergyGradients:
    """∂E/∂h (N, d) from the pair and reg terms, and ∂E/∂p (N, 3) from the entropy term."""

    dh: FloatArray
    dp: FloatArray


#: Floats gathered per step in the pair loops (1.5 MiB): small enough that the temporaries stay
#: in cache and are recycled by the allocator instead of being mapped afresh, large enough that
#: the Python loop runs only a few dozen times for 10,000 agents of dimension 384.
_CHUNK_FLOATS = 196_608


def _chunk_rows(dim: int) -> int:
    return max(1, _CHUNK_FLOATS // max(1, dim))


def _row_dots(h: FloatArray, i: IntArray, j: IntArray) -> FloatArray:
    """``h[i[m]] · h[j[m]]`` for every m, gathered a chunk at a time in order of ``i``."""
    order = np.argsort(i, kind="stable")
    i, j = i[order], j[order]
    dots = np.empty(i.shape[0])
    rows = _chunk_rows(h.shape[1])
    for start in range(0, i.shape[0], rows):
        stop = start + rows
        dots[order[start:stop]] = np.einsum("md,md->m", h[i[start:stop]], h[j[start:stop]])
    return dots


def _pair_cosines(h: FloatArray, norms: FloatArray, pairs: IntArray) -> FloatArray:
    i, j = pairs[:, 0], pairs[:, 1]
    denom = norms[i] * norms[j]
    dots = _row_dots(h, i, j)
    safe = np.where(denom > 0.0, denom, 1.0)
    # |cos| ≤ 1 exactly; rounding (severe for norms near the subnormal range) could push it
    # past 1 and E below its stated lower bound.
    return np.where(denom > 0.0, np.clip(dots / safe, -1.0, 1.0), 0.0)


def _add_neighbour_sums(
    out: FloatArray, h: FloatArray, src: IntArray, dst: IntArray, coef: FloatArray
) -> None:
    """``out[a] += Σ_{e: src[e] = a} coef[e] · h[dst[e]]``: a sparse-times-dense product.

    Agents are visited by decreasing degree, a block at a time, with each block's neighbour
    rows gathered into a padded (agents, degree, d) array (padding weighs 0), so the sum is
    one batched matrix product per block and no scatter-add is needed.
    """
    if src.size == 0:
        return
    by_src = np.argsort(src, kind="stable")
    dst, coef = dst[by_src], coef[by_src]
    degree = np.bincount(src, minlength=h.shape[0])
    first_edge = np.cumsum(degree) - degree
    agents = np.argsort(-degree, kind="stable")[: np.count_nonzero(degree)]
    rows = _chunk_rows(h.shape[1])
    done = 0
    while done < agents.size:
        width = int(degree[agents[done]])
        block = agents[done : done + max(1, rows // width)]
        done += block.size
        slots = np.arange(width)
        used = slots < degree[block][:, None]
        edges = np.where(used, first_edge[block][:, None] + slots, 0)
        weights = np.where(used, coef[edges], 0.0)
        out[block] += np.matmul(weights[:, None, :], h[dst[edges]])[:, 0, :]


def _entropies(p: FloatArray) -> tuple[FloatArray, FloatArray]:
    q = np.clip(p, _Q_MIN, 1.0)
    q = q / q.sum(axis=1, keepdims=True)
    return -(q * np.log(q)).sum(axis=1), q


def _hyper_term(scores: FloatArray, weights: EnergyWeights) -> float:
    positive = np.sort(scores[scores > 0.0])[::-1][: weights.top_patterns]
    if positive.size == 0:
        return 0.0
    return -weights.w_hyper * float((positive / positive[0]).sum())


def compute_energy(
    inputs: EnergyInputs,
    weights: EnergyWeights,
    policy: MemoryPolicy,
    with_gradients: bool = False,
) -> tuple[EnergyTerms, EnergyGradients | None]:
    """Every term of E, and on request the closed-form gradients.

    An empty organism gives all terms 0. ``cos`` is 0 when either norm is 0.
    """
    w = weights.clamped()
    h, p = inputs.h, inputs.p
    n = h.shape[0]
    squares = np.einsum("nd,nd->n", h, h) if h.size else np.zeros(n)
    norms = np.sqrt(squares)
    pairs = inputs.pairs.astype(np.int64, copy=False)

    cosines = _pair_cosines(h, norms, pairs) if pairs.size else np.zeros(0)
    pair = -w.w_pair * float((inputs.pair_weights * cosines).sum())
    hyper = _hyper_term(inputs.pattern_scores, w)
    entropies, q = _entropies(p) if p.size else (np.zeros(0), p)
    entropy_term = -w.alpha * float(entropies.sum())
    reg = w.lambda_reg * float(squares.sum())
    mem = w.beta_mem * memory_cost(inputs.memory, policy)
    terms = EnergyTerms(pair, hyper, entropy_term, reg, mem)
    if not with_gradients:
        return terms, None

    # With n_i = ‖h_i‖ and ∂cos(h_i, h_j)/∂h_i = h_j/(n_i·n_j) − cos·h_i/n_i², the gradient is
    # ∂E/∂h_i = (2λ + w_pair·Σ_j w_ij·cos_ij/n_i²)·h_i − w_pair·Σ_j w_ij·h_j/(n_i·n_j),
    # summed over the pairs of i in which both norms are positive (cos is 0 otherwise).
    diagonal = np.full(n, 2.0 * w.lambda_reg)
    if pairs.size:
        i, j = pairs[:, 0], pairs[:, 1]
        denom = norms[i] * norms[j]
        valid = denom > 0.0
        i, j, weight, cos, denom = (
            i[valid], j[valid], inputs.pair_weights[valid], cosines[valid], denom[valid]
        )
        pulled = np.bincount(i, weights=weight * cos, minlength=n)
        pulled += np.bincount(j, weights=weight * cos, minlength=n)
        safe_squares = np.where(squares > 0.0, squares, 1.0)
        diagonal += w.w_pair * pulled / safe_squares
        dh = diagonal[:, None] * h
        coef = -w.w_pair * weight / denom
        _add_neighbour_sums(
            dh, h, np.concatenate((i, j)), np.concatenate((j, i)), np.concatenate((coef, coef))
        )
    else:
        dh = diagonal[:, None] * h
    dp = w.alpha * (np.log(q) + 1.0) if p.size else np.zeros_like(p)
    return terms, EnergyGradients(dh=dh, dp=dp)


def energy_lower_bound(pair_count: int, agent_count: int, weights: EnergyWeights) -> float:
    """E ≥ −5·w_pair·|P| − top·w_hyper − α·N·ln 3 (E_reg and E_mem are never negative)."""
    w = weights.clamped()
    return (
        -5.0 * w.w_pair * pair_count
        - w.top_patterns * w.w_hyper
        - w.alpha * agent_count * math.log(3.0)
    )


def attribute(
    inputs: EnergyInputs,
    agent_ids: Sequence[str],
    pattern_organs: Sequence[Sequence[str]],
    weights: EnergyWeights,
    policy: MemoryPolicy,
) -> tuple[dict[str, float], dict[str, float]]:
    """Split E among agents (pair halves, own entropy and reg, E_mem by bytes written) and
    E_hyper among organs (each pattern's share split evenly among its organs).

    ``pattern_organs[k]`` names the organs of the k-th entry of ``inputs.pattern_scores``.
    The agent values sum to ``total − E_hyper``; the organ values sum to ``E_hyper``.
    """
    if len(agent_ids) != inputs.agent_count:
        raise ValueError("agent_ids must have one id per row of h")
    if len(pattern_organs) != inputs.pattern_scores.shape[0]:
        raise ValueError("pattern_organs must have one entry per pattern score")
    w = weights.clamped()
    n = inputs.agent_count
    per_agent = np.zeros(n)
    if n:
        norms = np.linalg.norm(inputs.h, axis=1)
        per_agent += w.lambda_reg * norms**2
        entropies, _ = _entropies(inputs.p)
        per_agent -= w.alpha * entropies
        if inputs.pairs.size:
            cosines = _pair_cosines(inputs.h, norms, inputs.pairs)
            halves = -0.5 * w.w_pair * inputs.pair_weights * cosines
            np.add.at(per_agent, inputs.pairs[:, 0], halves)
            np.add.at(per_agent, inputs.pairs[:, 1], halves)
        mem = w.beta_mem * memory_cost(inputs.memory, policy)
        written = inputs.bytes_written
        if written is not None and float(written.sum()) > 0.0:
            per_agent += mem * written / float(written.sum())
        else:
            per_agent += mem / n
    per_organ: dict[str, float] = {}
    scores = inputs.pattern_scores
    positive = scores[scores > 0.0]
    if positive.size:
        order = np.argsort(-scores, kind="stable")[: w.top_patterns]
        best = float(scores[order[0]])
        for k in order:
            if scores[k] <= 0.0:
                continue
            organs = pattern_organs[k]
            share = -w.w_hyper * float(scores[k]) / best / len(organs)
            for organ in organs:
                per_organ[organ] = per_organ.get(organ, 0.0) + share
    return dict(zip(agent_ids, per_agent.tolist(), strict=True)), per_organ


def organ_totals(per_agent: Mapping[str, float], organ_of: Mapping[str, str]) -> dict[str, float]:
    """Sum an agent attribution by organ."""
    totals: dict[str, float] = {}
    for agent_id, value in per_agent.items():
        organ = organ_of[agent_id]
        totals[organ] = totals.get(organ, 0.0) + value
    return totals
