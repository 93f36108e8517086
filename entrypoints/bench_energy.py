"""``seedcore bench energy``: the domain's energy calculator and selection, timed.

Builds random but realistic organisms with numpy (embedding dimension 384, about two
collaboration pairs per agent with weights in [0.1, 5], 200 hyperedge patterns, role vectors on
the simplex) and times, after a warm-up, with ``time.perf_counter`` around single calls:

* ``compute_energy(..., with_gradients=True)`` for 1,000 and 10,000 agents;
* one ``select`` among 1,000 agents (candidates built once, a seeded generator).

It prints the machine first, then the median and the 10th and 90th percentiles of each figure in
milliseconds, and the goals with PASS or MISS. Bias, stated plainly: one process, wall-clock
time, the garbage collector left on, inputs already in memory as arrays (building them from the
population is not timed), and numpy free to use as many BLAS threads as it likes.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from typing import TextIO

import numpy as np
import numpy.typing as npt

from domain.config import DomainConfig
from domain.energy import EnergyInputs, MemoryCostInputs, compute_energy
from domain.roles import Role
from domain.selection import Candidates, eligibility, select
from entrypoints.machine import cpu_model

__all__ = ["DIM", "GOALS_MS", "build_candidates", "build_organism", "run"]

DIM = 384
PAIRS_PER_AGENT = 2
PATTERNS = 200
WARMUP = 3
#: Median goals in milliseconds, from the domain specification (§3.1 and §4).
GOALS_MS: dict[str, float] = {"energy_10000": 50.0, "select_1000": 1.0}

FloatArray = npt.NDArray[np.float64]


def build_organism(agents: int, rng: np.random.Generator, dim: int = DIM) -> EnergyInputs:
    """A random organism shaped like a live one: ‖h‖ ≤ 1, roles on the simplex, ~2 pairs each."""
    h = rng.standard_normal((agents, dim))
    h *= rng.uniform(0.5, 1.0, (agents, 1)) / np.linalg.norm(h, axis=1, keepdims=True)
    wanted = PAIRS_PER_AGENT * agents
    first = rng.integers(0, agents, wanted)
    second = (first + rng.integers(1, agents, wanted)) % agents
    pairs = np.unique(np.sort(np.stack([first, second], axis=1), axis=1), axis=0)
    return EnergyInputs(
        h=h,
        p=rng.dirichlet(np.ones(3), agents),
        pairs=pairs.astype(np.int64),
        pair_weights=np.asarray(rng.uniform(0.1, 5.0, pairs.shape[0]), dtype=np.float64),
        pattern_scores=np.asarray(rng.exponential(2.0, PATTERNS), dtype=np.float64),
        memory=MemoryCostInputs(
            bytes_used=float(rng.uniform(0, 2**29)),
            bytes_budget=float(2**29),
            recon_loss=float(rng.uniform(0, 0.2)),
            miss_rate=float(rng.uniform(0, 0.5)),
        ),
        bytes_written=np.asarray(rng.uniform(0, 1e6, agents), dtype=np.float64),
    )


def build_candidates(agents: int, rng: np.random.Generator) -> tuple[Candidates, float]:
    """Selection features of a random population for one ``analysis`` task, and J_ref."""
    cfg = DomainConfig()
    capacity = np.full(agents, float(cfg.learning.default_capacity))
    load = rng.integers(0, cfg.learning.default_capacity + 1, agents).astype(np.float64)
    used = rng.uniform(0.0, 1.1, agents)  # window joules as a fraction of the budget
    roles = rng.dirichlet(np.ones(3), agents)
    consumption = rng.lognormal(0.0, 0.5, agents)
    eligible = eligibility(
        load,
        capacity,
        over_hard_budget=used >= 1.0,
        heartbeat_age_s=rng.uniform(0.0, 35.0, agents),
        stale_after_s=cfg.loops.heartbeat_stale_s,
        archived=rng.random(agents) < 0.01,
        in_hinted_organ=np.ones(agents, dtype=bool),
    )
    soft = np.clip((used - cfg.budgets.soft_fraction) / (1 - cfg.budgets.soft_fraction), 0, 1)
    candidates = Candidates(
        agent_ids=[f"agent-{k:05d}" for k in range(agents)],
        capability=rng.uniform(0.0, 1.0, agents),
        role_fit=roles[:, Role.S],
        consumption=consumption,
        load=load,
        capacity=capacity,
        soft_penalty=soft,
        affinity=rng.uniform(0.0, 1.0, agents),
        eligible=eligible,
    )
    return candidates, float(np.median(consumption))


def _time_ms(call: Callable[[], object], repeats: int) -> dict[str, float]:
    for _ in range(WARMUP):
        call()
    samples = np.empty(repeats)
    for k in range(repeats):
        start = time.perf_counter()
        call()
        samples[k] = (time.perf_counter() - start) * 1e3
    p10, median, p90 = np.percentile(samples, [10, 50, 90])
    return {"median_ms": float(median), "p10_ms": float(p10), "p90_ms": float(p90)}


def _machine() -> str:
    return (
        f"machine: {platform.platform()} ({platform.machine()}), {cpu_model()},"
        f" {os.cpu_count()} CPUs; Python {platform.python_version()}"
        f" ({platform.python_implementation()}); numpy {np.__version__}"
    )


def _line(label: str, figures: dict[str, float], goal_ms: float | None) -> str:
    text = (
        f"{label:<62} median {figures['median_ms']:9.3f} ms"
        f"   p10 {figures['p10_ms']:9.3f}   p90 {figures['p90_ms']:9.3f}"
    )
    if goal_ms is not None:
        verdict = "PASS" if figures["median_ms"] < goal_ms else "MISS"
        text += f"   goal median < {goal_ms:g} ms: {verdict}"
    return text


def run(repeats: int = 50, seed: int = 0, out: TextIO = sys.stdout) -> dict[str, dict[str, float]]:
    """Time the figures, print them with the machine and the goals, and return them.

    The result maps ``energy_1000``, ``energy_10000`` and ``select_1000`` to their
    ``median_ms``, ``p10_ms`` and ``p90_ms``.
    """
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    cfg = DomainConfig()
    rng = np.random.default_rng(seed)
    print(_machine(), file=out)
    print(f"repeats {repeats} after {WARMUP} warm-up runs, seed {seed}, dimension {DIM}", file=out)
    results: dict[str, dict[str, float]] = {}

    for agents in (1_000, 10_000):
        inputs = build_organism(agents, rng)
        name = f"energy_{agents}"

        def energy(inputs: EnergyInputs = inputs) -> object:
            return compute_energy(inputs, cfg.energy, cfg.memory, with_gradients=True)

        results[name] = _time_ms(energy, repeats)
        label = (
            f"energy+gradients, {agents:,} agents"
            f" ({inputs.pairs.shape[0]:,} pairs, {PATTERNS} patterns)"
        )
        print(_line(label, results[name], GOALS_MS.get(name)), file=out)

    candidates, reference = build_candidates(1_000, rng)
    select_rng = np.random.default_rng(seed)

    def selection() -> object:
        return select(candidates, 0.8, reference, cfg.selection, select_rng)

    results["select_1000"] = _time_ms(selection, repeats)
    label = f"select among 1,000 agents ({int(candidates.eligible.sum())} eligible)"
    print(_line(label, results["select_1000"], GOALS_MS["select_1000"]), file=out)
    return results


if __name__ == "__main__":
    run()
