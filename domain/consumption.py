"""Consumption metering: the joules one task cost, from measured CPU time and memory operations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from domain.config import ConsumptionCosts

__all__ = ["Metering", "Op", "OpCounts", "joules", "split_joules"]


class Op(StrEnum):
    """Memory operations that carry a nominal cost."""

    MW_READ = "mw_read"
    MW_WRITE = "mw_write"
    MLT_READ = "mlt_read"
    MLT_SEARCH = "mlt_search"
    GRAPH_HOP = "graph_hop"
    MFB_WRITE = "mfb_write"


OpCounts = Mapping[Op, int]


def _op_cost(op: Op, costs: ConsumptionCosts) -> float:
    cost: float = getattr(costs, op.value)
    return cost


@dataclass(frozen=True, slots=True)
class Metering:
    """The measured cost of one task.

    ``cpu_measured`` is False when ``cpu_seconds`` is wall time (the handler did not run on a
    thread of its own), and the outcome says so.
    """

    cpu_seconds: float
    cpu_measured: bool
    ops: Mapping[Op, int] = field(default_factory=dict)
    joules: float = 0.0


def joules(cpu_seconds: float, ops: OpCounts, costs: ConsumptionCosts) -> float:
    """J = P_cpu · cpu_seconds + Σ n_op · cost_op."""
    if cpu_seconds < 0:
        raise ValueError("cpu_seconds must not be negative")
    total = costs.cpu_watts * cpu_seconds
    for op, count in ops.items():
        if count < 0:
            raise ValueError(f"operation count for {op} must not be negative")
        total += count * _op_cost(op, costs)
    return total


def split_joules(total: float, agent_ids: Sequence[str]) -> dict[str, float]:
    """Split a team task's consumption evenly among its agents (the shares sum to the total)."""
    if not agent_ids:
        raise ValueError("a task is executed by at least one agent")
    share = total / len(agent_ids)
    return dict.fromkeys(agent_ids, share)
