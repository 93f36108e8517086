"""Consumption budgets over a rolling window, their thresholds, and the energy-rising alert."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from domain.config import BudgetPolicy

__all__ = [
    "BudgetCrossing",
    "BudgetLevel",
    "budget_level",
    "crossing",
    "rising_since",
    "should_alert_rising",
    "soft_penalty",
    "window_total",
]


class BudgetLevel(StrEnum):
    OK = "ok"
    SOFT = "soft"
    HARD = "hard"


@dataclass(frozen=True, slots=True)
class BudgetCrossing:
    """An agent or organ moved from one budget level to another."""

    scope: str
    scope_id: str
    previous: BudgetLevel
    current: BudgetLevel
    used_joules: float
    budget_joules: float


def window_total(events: Iterable[tuple[float, float]], now: float, window_s: float) -> float:
    """Joules of the ``(ts, joules)`` events inside the window ``(now − window_s, now]``."""
    start = now - window_s
    return sum(j for ts, j in events if start < ts <= now)


def budget_level(used: float, budget: float | None, policy: BudgetPolicy) -> BudgetLevel:
    """OK below the soft limit, SOFT from it, HARD from the budget itself; no budget is OK."""
    if budget is None:
        return BudgetLevel.OK
    if used >= budget:
        return BudgetLevel.HARD
    if used >= policy.soft_fraction * budget:
        return BudgetLevel.SOFT
    return BudgetLevel.OK


def soft_penalty(used: float, budget: float | None, policy: BudgetPolicy) -> float:
    """0 below the soft limit, rising linearly to 1 at the hard limit, 1 beyond it."""
    if budget is None or budget <= 0:
        return 0.0
    soft = policy.soft_fraction * budget
    if used <= soft:
        return 0.0
    if budget <= soft:
        return 1.0
    return min(1.0, (used - soft) / (budget - soft))


def crossing(
    scope: str,
    scope_id: str,
    previous: BudgetLevel,
    used: float,
    budget: float | None,
    policy: BudgetPolicy,
) -> BudgetCrossing | None:
    """The crossing event when the level changed, else None."""
    current = budget_level(used, budget, policy)
    if current == previous or budget is None:
        return None
    return BudgetCrossing(scope, scope_id, previous, current, used, budget)


def rising_since(since: float | None, ts: float, d_e: float) -> float | None:
    """Start of the current run of rising totals: kept while dE > 0, reset otherwise.

    The run starts at ``ts`` of its first observation with dE > 0 and lasts while every later
    observation has dE > 0; a dE ≤ 0 ends it (None).
    """
    if d_e > 0.0:
        return ts if since is None else since
    return None


def should_alert_rising(
    since: float | None, now: float, policy: BudgetPolicy
) -> bool:
    """The energy alert: the total has risen continuously for more than the policy's span."""
    return since is not None and now - since > policy.rising_alert_s
