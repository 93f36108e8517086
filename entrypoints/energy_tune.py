"""``seedcore energy tune``: search the selection weights on simulated workloads.

A (μ/μ_w, λ) CMA-ES (covariance matrix adaptation, written with numpy; no new dependency)
searches the :class:`~domain.config.SelectionWeights` fields ``capability``, ``role``,
``consumption``, ``load``, ``soft_budget`` and ``affinity`` within [0, 3] and ``epsilon`` within
[0, 0.5] (the other fields keep their defaults). A candidate's fitness is its mean joules per
successful task over the *training* seeds' simulated workloads (``application.simulation``,
the same as ``seedcore bench selection``), made 10 % worse for every point of success rate it
loses against the defaults, so the search cannot buy joules with failures. The defaults are the
search's starting point and first candidate.

The best candidate is then compared with the defaults on *held-out* seeds (other workloads,
never seen by the search), paired seed by seed. With ``write``, the tuned weights go to a JSON
file (``{"selection": {...}, ...}``) that :func:`load_weights` reads back. The defaults of the
domain are not changed: a deployment opts in to tuned weights.

The simulated world is ours (see ``seedcore bench selection``): tuned weights fit it, and are
only evidence about a real deployment to the extent that the world resembles it.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from application.selection_policy import EnergyAwarePolicy
from application.simulation import WorkloadSpec, World, generate_world
from domain.config import DomainConfig, SelectionWeights
from entrypoints.bench_selection import figures, simulate, t_interval
from entrypoints.weights import load_weights

__all__ = ["BOUNDS", "TUNED", "CmaEs", "evaluate", "load_weights", "run"]

FloatArray = npt.NDArray[np.float64]

#: The tuned fields and their search bounds.
TUNED: tuple[str, ...] = (
    "capability", "role", "consumption", "load", "soft_budget", "affinity", "epsilon",
)
BOUNDS: dict[str, tuple[float, float]] = {
    "capability": (0.0, 3.0),
    "role": (0.0, 3.0),
    "consumption": (0.0, 3.0),
    "load": (0.0, 3.0),
    "soft_budget": (0.0, 3.0),
    "affinity": (0.0, 3.0),
    "epsilon": (0.0, 0.5),
}
SUCCESS_PENALTY = 10.0  # fitness × (1 + 10 · lost success rate)
TRAIN_SEEDS: tuple[int, ...] = (100, 101, 102)
HOLDOUT_SEEDS: tuple[int, ...] = (200, 201, 202, 203, 204)

_LOW = np.array([BOUNDS[name][0] for name in TUNED])
_HIGH = np.array([BOUNDS[name][1] for name in TUNED])


def to_unit(weights: SelectionWeights) -> FloatArray:
    """The tuned fields scaled into the unit box."""
    values = np.array([getattr(weights, name) for name in TUNED], dtype=float)
    return np.asarray((values - _LOW) / (_HIGH - _LOW), dtype=float)


def from_unit(x: FloatArray, base: SelectionWeights | None = None) -> SelectionWeights:
    """Weights from a point of the unit box (clipped into it); untuned fields from ``base``."""
    values = _LOW + np.clip(x, 0.0, 1.0) * (_HIGH - _LOW)
    changes: dict[str, Any] = {
        name: round(float(v), 6) for name, v in zip(TUNED, values, strict=True)
    }
    return replace(base or SelectionWeights(), **changes)


class CmaEs:
    """A (μ/μ_w, λ)-CMA-ES minimising in the unit box (Hansen's tutorial settings); candidates
    outside the box are repaired onto it, and the repaired point is what the update sees."""

    def __init__(self, mean: FloatArray, sigma: float, population: int,
                 rng: np.random.Generator) -> None:
        n = mean.size
        self.n = n
        self.mean = mean.astype(float).copy()
        self.sigma = sigma
        self.lam = max(4, population)
        self.mu = self.lam // 2
        w = math.log(self.mu + 0.5) - np.log(np.arange(1, self.mu + 1))
        self.weights = w / w.sum()
        self.mueff = float(1.0 / np.sum(self.weights**2))
        self.cc = (4 + self.mueff / n) / (n + 4 + 2 * self.mueff / n)
        self.cs = (self.mueff + 2) / (n + self.mueff + 5)
        self.c1 = 2 / ((n + 1.3) ** 2 + self.mueff)
        self.cmu = min(1 - self.c1,
                       2 * (self.mueff - 2 + 1 / self.mueff) / ((n + 2) ** 2 + self.mueff))
        self.damps = 1 + 2 * max(0.0, math.sqrt((self.mueff - 1) / (n + 1)) - 1) + self.cs
        self.chi_n = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n))
        self.pc = np.zeros(n)
        self.ps = np.zeros(n)
        self.cov = np.eye(n)
        self.generation = 0
        self._rng = rng

    def ask(self) -> list[FloatArray]:
        values, vectors = np.linalg.eigh(self.cov)
        scale = vectors * np.sqrt(np.maximum(values, 1e-20))
        z = self._rng.standard_normal((self.lam, self.n))
        return [np.clip(self.mean + self.sigma * (scale @ row), 0.0, 1.0) for row in z]

    def tell(self, points: Sequence[FloatArray], fitness: Sequence[float]) -> None:
        order = np.argsort(np.asarray(fitness), kind="stable")[: self.mu]
        best = np.array([points[int(i)] for i in order])
        old = self.mean
        self.mean = self.weights @ best
        step = (self.mean - old) / self.sigma
        values, vectors = np.linalg.eigh(self.cov)
        inv_sqrt = vectors @ np.diag(1 / np.sqrt(np.maximum(values, 1e-20))) @ vectors.T
        self.ps = (1 - self.cs) * self.ps + math.sqrt(self.cs * (2 - self.cs) * self.mueff) * (
            inv_sqrt @ step
        )
        self.generation += 1
        norm_ps = float(np.linalg.norm(self.ps))
        hsig = norm_ps / math.sqrt(1 - (1 - self.cs) ** (2 * self.generation)) / self.chi_n < (
            1.4 + 2 / (self.n + 1)
        )
        self.pc = (1 - self.cc) * self.pc + (
            math.sqrt(self.cc * (2 - self.cc) * self.mueff) * step if hsig else 0.0
        )
        spread = (best - old) / self.sigma
        rank_mu = (spread.T * self.weights) @ spread
        self.cov = (
            (1 - self.c1 - self.cmu) * self.cov
            + self.c1 * (np.outer(self.pc, self.pc)
                         + (0.0 if hsig else self.cc * (2 - self.cc)) * self.cov)
            + self.cmu * rank_mu
        )
        self.cov = (self.cov + self.cov.T) / 2
        self.sigma *= math.exp((self.cs / self.damps) * (norm_ps / self.chi_n - 1))
        self.sigma = min(self.sigma, 1.0)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Mean figures of one set of weights over some workloads, and the per-seed figures."""

    joules_per_success: float
    success_rate: float
    per_seed: tuple[Mapping[str, float], ...]


def evaluate(weights: SelectionWeights, worlds: Sequence[tuple[int, World]]) -> Evaluation:
    """Run the energy-aware policy with ``weights`` on every (seed, world)."""
    config = replace(DomainConfig(), selection=weights)
    runs = []
    for seed, world in worlds:
        report, _ = simulate(lambda _w, cfg: EnergyAwarePolicy(cfg.selection), seed,
                             config=config, world=world)
        runs.append(figures(report))
    return Evaluation(
        float(np.mean([r["joules_per_success"] for r in runs])),
        float(np.mean([r["success_rate"] for r in runs])),
        tuple(runs),
    )


def _fitness(evaluation: Evaluation, base_rate: float) -> float:
    lost = max(0.0, base_rate - evaluation.success_rate)
    return evaluation.joules_per_success * (1.0 + SUCCESS_PENALTY * lost)


def _worlds(seeds: Sequence[int], spec: WorkloadSpec) -> list[tuple[int, World]]:
    return [(seed, generate_world(spec, np.random.default_rng(seed))) for seed in seeds]


def run(
    generations: int = 12,
    population: int = 8,
    tasks: int = 1000,
    train_seeds: Sequence[int] = TRAIN_SEEDS,
    holdout_seeds: Sequence[int] = HOLDOUT_SEEDS,
    seed: int = 0,
    sigma: float = 0.2,
    write: str | Path | None = None,
    out: TextIO = sys.stdout,
    spec: WorkloadSpec | None = None,
) -> dict[str, Any]:
    """Tune on ``train_seeds``, compare with the defaults on ``holdout_seeds``, print, write.

    Returns ``{"defaults", "tuned": {field: value}, "train": {...}, "holdout": {...},
    "improvement": (mean, low, high), "history": [best fitness per generation], "written"}``;
    ``improvement`` is the held-out relative saving in J/success of tuned over default
    weights (paired by seed, 95 % t-interval; positive means the tuned weights spend less).
    """
    if generations < 1 or population < 2:
        raise ValueError("need at least 1 generation and a population of 2")
    if set(train_seeds) & set(holdout_seeds):
        raise ValueError("training and held-out seeds must differ")
    spec = replace(spec or WorkloadSpec(), tasks=tasks)
    defaults = SelectionWeights()
    train = _worlds(train_seeds, spec)
    base = evaluate(defaults, train)
    base_fit = _fitness(base, base.success_rate)
    best_x, best_fit, best_eval = to_unit(defaults), base_fit, base
    strategy = CmaEs(to_unit(defaults), sigma, population, np.random.default_rng(seed))
    history: list[float] = []
    print(f"CMA-ES: {generations} generations × {population} candidates, {tasks} tasks,"
          f" training seeds {list(train_seeds)}; defaults: {base.joules_per_success:.3f}"
          f" J/success, success {base.success_rate:.3f}", file=out)
    for generation in range(generations):
        points = strategy.ask()
        scores = []
        for x in points:
            evaluation = evaluate(from_unit(x), train)
            fit = _fitness(evaluation, base.success_rate)
            scores.append(fit)
            if fit < best_fit:
                best_x, best_fit, best_eval = x, fit, evaluation
        strategy.tell(points, scores)
        history.append(best_fit)
        print(f"  generation {generation + 1:2d}: best fitness {best_fit:.3f}"
              f" (this generation {min(scores):.3f}), σ {strategy.sigma:.3f}", file=out)
    tuned = from_unit(best_x)
    held = _worlds(holdout_seeds, spec)
    held_default = evaluate(defaults, held)
    held_tuned = evaluate(tuned, held) if tuned != defaults else held_default
    improvement = t_interval([
        1.0 - t["joules_per_success"] / d["joules_per_success"]
        for t, d in zip(held_tuned.per_seed, held_default.per_seed, strict=True)
    ])
    rate_diff = t_interval([
        t["success_rate"] - d["success_rate"]
        for t, d in zip(held_tuned.per_seed, held_default.per_seed, strict=True)
    ])
    tuned_values = {name: getattr(tuned, name) for name in TUNED}
    default_values = {name: getattr(defaults, name) for name in TUNED}
    print("field        default    tuned", file=out)
    for name in TUNED:
        print(f"{name:<12} {default_values[name]:7.3f}  {tuned_values[name]:7.3f}", file=out)
    print(f"training seeds: {base.joules_per_success:.3f} → {best_eval.joules_per_success:.3f}"
          f" J/success, success {base.success_rate:.3f} → {best_eval.success_rate:.3f}",
          file=out)
    print(f"held-out seeds {list(holdout_seeds)}: {held_default.joules_per_success:.3f} →"
          f" {held_tuned.joules_per_success:.3f} J/success"
          f" ({improvement[0]:+.1%} saved [{improvement[1]:+.1%}, {improvement[2]:+.1%}]),"
          f" success {held_default.success_rate:.3f} → {held_tuned.success_rate:.3f}"
          f" ({rate_diff[0]:+.3f} [{rate_diff[1]:+.3f}, {rate_diff[2]:+.3f}])", file=out)
    # "Beat" means a saving whose whole 95 % interval is above zero, at no lower success.
    beats = improvement[1] > 0.0 and rate_diff[0] >= 0.0
    if beats:
        verdict = "tuned weights beat the defaults on the held-out workloads"
    elif improvement[0] > 0.0:
        verdict = ("tuned weights do NOT clearly beat the defaults on the held-out workloads:"
                   " the saving's interval includes zero" if improvement[1] <= 0.0 else
                   "tuned weights save joules on the held-out workloads but lose success rate")
    else:
        verdict = "tuned weights do NOT beat the defaults on the held-out workloads"
    print(verdict, file=out)
    written = None
    if write is not None:
        path = Path(write)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "selection": asdict(tuned),
            "tuned_fields": list(TUNED),
            "train_seeds": list(train_seeds),
            "holdout_seeds": list(holdout_seeds),
            "tasks": tasks,
            "holdout_joules_per_success": {"default": held_default.joules_per_success,
                                           "tuned": held_tuned.joules_per_success},
            "holdout_success_rate": {"default": held_default.success_rate,
                                     "tuned": held_tuned.success_rate},
        }
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        written = str(path)
        print(f"wrote {path}", file=out)
    return {
        "defaults": default_values,
        "tuned": tuned_values,
        "weights": tuned,
        "train": {"default": base, "tuned": best_eval},
        "holdout": {"default": held_default, "tuned": held_tuned},
        "improvement": improvement,
        "success_diff": rate_diff,
        "beats_defaults": beats,
        "verdict": verdict,
        "history": history,
        "written": written,
    }


if __name__ == "__main__":
    run()
