"""``seedcore bench selection``: energy-aware selection against baselines on simulated work.

Each seed generates one simulated organism and workload (``application.simulation``: hidden
per-type proficiencies and speeds, a task mix with knowledge tasks over a Zipf-like fact set in
Mlt, risk, and teams of 2–3), and the *same* workload runs under every policy on a fresh,
real ``OrganismService`` with in-memory adapters and a fake clock. For every policy it prints
the mean over the seeds with a 95 % Student-t interval of:

* **J/success** — metered joules of every task divided by the successful tasks;
* **success** — successful tasks over submitted tasks (a task no agent was eligible for counts
  as a failure);
* **p95 latency** — *simulated*: each agent works through its tasks first in, first out, and a
  task's latency is its wait plus its service time (the metered CPU seconds of its share, in
  ms). ``TaskOutcome.latency_ms`` is not used: under the fake clock it measures nothing;
* **Mw hit** — fact lookups of knowledge tasks answered by working memory (organ or global).

Then the goals: energy-aware spends at least 20 % fewer joules per success than random (aim
40 %) with a success rate no lower, and is within 10 % of the oracle. Differences are paired by
seed. The Markdown table goes to ``table_path`` and a PNG plot beside it.

Bias, stated plainly: the simulated world is ours. Specialist agents are both faster and more
proficient at their organ's task types, agent speeds vary log-normally (σ = 0.35), and the
oracle knows all of it. The absolute joules are the nominal 15 W per busy core times simulated
CPU seconds, not a measurement of this machine.
"""

from __future__ import annotations

import math
import os
import platform
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from adapters.memory.clock import FakeClock
from application.baselines import LeastLoadedPolicy, OraclePolicy, RandomPolicy, RoundRobinPolicy
from application.selection_policy import EnergyAwarePolicy, SelectionPolicy
from application.simulation import (
    SimulatedWorkHandler,
    Simulation,
    SimulationReport,
    WorkloadSpec,
    World,
    generate_world,
    simulation_registry,
)
from domain.config import DomainConfig, SelectionWeights
from entrypoints.bootstrap import build_services, in_memory_adapters
from entrypoints.machine import cpu_model

__all__ = [
    "DEFAULT_PLOT",
    "DEFAULT_TABLE",
    "METRICS",
    "POLICIES",
    "policy_for",
    "run",
    "simulate",
    "t_interval",
]

POLICIES: tuple[str, ...] = ("random", "round-robin", "least-loaded", "energy-aware", "oracle")
#: metric key → (column title, format)
METRICS: dict[str, tuple[str, str]] = {
    "joules_per_success": ("J/success", "{:.3f}"),
    "success_rate": ("success", "{:.3f}"),
    "latency_p95_ms": ("p95 latency ms (simulated)", "{:.0f}"),
    "mw_hit_rate": ("Mw hit", "{:.3f}"),
}
DEFAULT_TABLE = Path("docs/img/selection.md")
DEFAULT_PLOT = Path("docs/img/selection.png")
EMBEDDING_DIM = 64
GOAL_VS_RANDOM = 0.20
AIM_VS_RANDOM = 0.40
AIM_VS_ORACLE = 0.10

# Two-sided 95 % Student-t quantiles by degrees of freedom (no scipy needed).
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
        16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 25: 2.060, 30: 2.042,
        40: 2.021, 60: 2.000, 120: 1.980}


def _t95(df: int) -> float:
    if df in _T95:
        return _T95[df]
    larger = [d for d in _T95 if d >= df]
    return _T95[min(larger)] if larger else 1.960


def t_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and the 95 % Student-t interval (mean ± t·s/√n); a single value has no width."""
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if data.size < 2:
        return mean, mean, mean
    half = _t95(data.size - 1) * float(data.std(ddof=1)) / math.sqrt(data.size)
    return mean, mean - half, mean + half


def policy_for(name: str, world: World, config: DomainConfig) -> SelectionPolicy:
    """A fresh policy by name (the oracle reads the world's hidden model)."""
    if name == "random":
        return RandomPolicy()
    if name == "round-robin":
        return RoundRobinPolicy()
    if name == "least-loaded":
        return LeastLoadedPolicy()
    if name == "energy-aware":
        return EnergyAwarePolicy(config.selection)
    if name == "oracle":
        return OraclePolicy(world, config.costs)
    raise ValueError(f"unknown policy {name!r}; one of {', '.join(POLICIES)}")


@dataclass(frozen=True, slots=True)
class _Run:
    simulation: Simulation
    report: SimulationReport


def simulate(
    policy: str | Callable[[World, DomainConfig], SelectionPolicy],
    seed: int,
    spec: WorkloadSpec | None = None,
    config: DomainConfig | None = None,
    world: World | None = None,
) -> tuple[SimulationReport, Simulation]:
    """One seeded workload under one policy on a fresh organism; the report and the simulation
    (whose ``services`` can be inspected afterwards). ``world`` overrides the generated one."""
    config = config or DomainConfig()
    world = world or generate_world(spec or WorkloadSpec(), np.random.default_rng(seed))
    clock = FakeClock()
    handler = SimulatedWorkHandler(world, clock)
    adapters = in_memory_adapters(clock=clock, dim=EMBEDDING_DIM, config=config)
    services = build_services(adapters, config, seed=seed,
                              handlers=simulation_registry(handler))
    simulation = Simulation(services, clock, world, handler)
    chosen = policy_for(policy, world, config) if isinstance(policy, str) else policy(world, config)
    return simulation.run(chosen), simulation


def figures(report: SimulationReport) -> dict[str, float]:
    """The benchmark's four figures of one run."""
    return {
        "joules_per_success": report.joules_per_success,
        "success_rate": report.success_rate,
        "latency_p95_ms": report.latency_p95_ms(),
        "mw_hit_rate": report.mw_hit_rate,
    }


def machine() -> str:
    return (
        f"{platform.platform()} ({platform.machine()}), {cpu_model()}, {os.cpu_count()} CPUs;"
        f" Python {platform.python_version()}; numpy {np.__version__}"
    )


def _cell(stats: Mapping[str, float], fmt: str) -> str:
    return f"{fmt.format(stats['mean'])} [{fmt.format(stats['low'])}, {fmt.format(stats['high'])}]"


def markdown_table(summary: Mapping[str, Mapping[str, Mapping[str, float]]]) -> str:
    """The policies × figures table: mean [95 % interval]."""
    titles = [title for title, _ in METRICS.values()]
    lines = [
        "| policy | " + " | ".join(titles) + " |",
        "|---|" + "---:|" * len(titles),
    ]
    for name, stats in summary.items():
        cells = [_cell(stats[key], fmt) for key, (_, fmt) in METRICS.items()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _plot(summary: Mapping[str, Mapping[str, Mapping[str, float]]], path: Path,
          title: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise RuntimeError(
            "the selection plot needs matplotlib: pip install matplotlib"
        ) from error
    names = list(summary)
    shown = ["joules_per_success", "success_rate", "latency_p95_ms", "mw_hit_rate"]
    fig, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 3.6))
    colours = ["#9e9e9e", "#bdbdbd", "#757575", "#2e7d32", "#1565c0"]
    for axis, key in zip(axes, shown, strict=True):
        means = [summary[n][key]["mean"] for n in names]
        errors = np.array([[summary[n][key]["mean"] - summary[n][key]["low"] for n in names],
                           [summary[n][key]["high"] - summary[n][key]["mean"] for n in names]])
        axis.bar(range(len(names)), means, yerr=errors, capsize=3,
                 color=colours[: len(names)])
        axis.set_xticks(range(len(names)), names, rotation=35, ha="right", fontsize=8)
        axis.set_title(METRICS[key][0], fontsize=9)
        axis.tick_params(axis="y", labelsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def _paired(a: Sequence[float], b: Sequence[float]) -> tuple[float, float, float]:
    """Relative saving of ``a`` over ``b`` per seed (1 − a/b), mean and 95 % interval."""
    return t_interval([1.0 - x / y for x, y in zip(a, b, strict=True)])


def goals(per_seed: Mapping[str, Mapping[str, Sequence[float]]]) -> dict[str, Any]:
    """The goals, from paired per-seed figures."""
    jps = {name: per_seed[name]["joules_per_success"] for name in per_seed}
    rate = {name: per_seed[name]["success_rate"] for name in per_seed}
    saving = _paired(jps["energy-aware"], jps["random"])
    gap = t_interval([x / y - 1.0 for x, y in
                      zip(jps["energy-aware"], jps["oracle"], strict=True)])
    rate_diff = t_interval([x - y for x, y in
                            zip(rate["energy-aware"], rate["random"], strict=True)])
    return {
        "saving_vs_random": saving,
        "gap_vs_oracle": gap,
        "success_diff_vs_random": rate_diff,
        "goal_20pct_vs_random": saving[0] >= GOAL_VS_RANDOM and rate_diff[0] >= 0.0,
        "aim_40pct_vs_random": saving[0] >= AIM_VS_RANDOM,
        "aim_within_10pct_of_oracle": gap[0] <= AIM_VS_ORACLE,
    }


def run(
    seeds: int = 5,
    tasks: int = 2000,
    out: TextIO = sys.stdout,
    table_path: str | Path | None = DEFAULT_TABLE,
    plot_path: str | Path | None = None,
    first_seed: int = 0,
    policies: Sequence[str] = POLICIES,
    weights: SelectionWeights | None = None,
    spec: WorkloadSpec | None = None,
) -> dict[str, Any]:
    """Run every policy on the same ``seeds`` workloads of ``tasks`` tasks; print and write.

    ``plot_path`` defaults to the table's path with ``.png``; with ``table_path=None`` nothing
    is written. ``weights`` replaces the energy-aware policy's selection weights. Returns
    ``{"summary": {policy: {metric: {mean, low, high}}}, "per_seed": {policy: {metric:
    [values]}}, "goals": {...}, "table": str, "seeds": [...], "machine": str}``.
    """
    if seeds < 2:
        raise ValueError("an interval needs at least 2 seeds")
    needed = {"random", "energy-aware", "oracle"}
    if not needed <= set(policies):
        raise ValueError(f"the goals need the policies {', '.join(sorted(needed))}")
    base = spec or WorkloadSpec()
    spec = replace(base, tasks=tasks)
    config = DomainConfig()
    if weights is not None:
        config = replace(config, selection=weights)
    seed_list = list(range(first_seed, first_seed + seeds))
    per_seed: dict[str, dict[str, list[float]]] = {
        name: {key: [] for key in METRICS} for name in policies
    }
    for seed in seed_list:
        world = generate_world(spec, np.random.default_rng(seed))
        for name in policies:
            report, _ = simulate(name, seed, config=config, world=world)
            for key, value in figures(report).items():
                per_seed[name][key].append(value)
    summary = {
        name: {
            key: dict(zip(("mean", "low", "high"), t_interval(values), strict=True))
            for key, values in per_seed[name].items()
        }
        for name in policies
    }
    table = markdown_table(summary)
    outcome = goals(per_seed)
    agents = len(spec.organs) * spec.agents_per_organ
    header = (
        f"seeds {seed_list[0]}..{seed_list[-1]} ({seeds}), {tasks} tasks each, {agents} agents"
        f" in {len(spec.organs)} organs, utilisation {spec.utilisation:g},"
        f" team share {spec.team_share:g}; mean [95 % t-interval]"
    )
    lines = [f"machine: {machine()}", header, "", table, "", *_goal_lines(outcome)]
    print("\n".join(lines), file=out)
    if table_path is not None:
        table_file = Path(table_path)
        table_file.parent.mkdir(parents=True, exist_ok=True)
        command = f"seedcore bench selection --seeds {seeds} --tasks {tasks}"
        table_file.write_text(
            f"<!-- generated by `{command}` (entrypoints.bench_selection.run) -->\n\n"
            f"machine: {machine()}\n\n{header}\n\n{table}\n\n"
            + "\n".join(f"- {line}" for line in _goal_lines(outcome)) + "\n",
            encoding="utf-8",
        )
        plot_file = Path(plot_path) if plot_path is not None else table_file.with_suffix(".png")
        _plot(summary, plot_file, header)
    return {
        "summary": summary,
        "per_seed": per_seed,
        "goals": outcome,
        "table": table,
        "seeds": seed_list,
        "machine": machine(),
    }


def _goal_lines(outcome: Mapping[str, Any]) -> list[str]:
    saving = outcome["saving_vs_random"]
    gap = outcome["gap_vs_oracle"]
    diff = outcome["success_diff_vs_random"]

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    return [
        f"energy-aware vs random: {saving[0]:.1%} fewer J/success"
        f" [{saving[1]:.1%}, {saving[2]:.1%}],"
        f" success rate {diff[0]:+.3f} [{diff[1]:+.3f}, {diff[2]:+.3f}]"
        f"  goal ≥ 20 % and no lower success: {verdict(outcome['goal_20pct_vs_random'])};"
        f" aim ≥ 40 %: {verdict(outcome['aim_40pct_vs_random'])}",
        f"energy-aware vs oracle: {gap[0]:+.1%} J/success [{gap[1]:+.1%}, {gap[2]:+.1%}]"
        f"  aim within 10 %: {verdict(outcome['aim_within_10pct_of_oracle'])}",
    ]


if __name__ == "__main__":
    run()
