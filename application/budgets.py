"""Consumption accounting: rolling windows per agent and organ, budgets and their crossings."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from application.errors import InvalidInput
from application.ports.metrics import Metrics
from domain.budget import BudgetCrossing, BudgetLevel, budget_level, crossing, soft_penalty
from domain.config import BudgetPolicy

__all__ = ["BudgetTracker", "ScopeUsage"]

_SCOPES = ("agent", "organ")
_MAX_EVENTS = 1000


@dataclass(slots=True)
class _Window:
    events: deque[tuple[float, float]] = field(default_factory=deque)
    total: float = 0.0

    def add(self, ts: float, joules: float) -> None:
        self.events.append((ts, joules))
        self.total += joules

    def prune(self, now: float, window_s: float) -> float:
        start = now - window_s
        while self.events and self.events[0][0] <= start:
            self.total -= self.events.popleft()[1]
        if not self.events:
            self.total = 0.0  # drop float residue once the window is empty
        return self.total


@dataclass(frozen=True, slots=True)
class ScopeUsage:
    scope: str
    scope_id: str
    used_joules: float
    budget_joules: float | None
    level: BudgetLevel
    total_joules: float


class BudgetTracker:
    """Thread-safe rolling consumption per agent and organ, with cumulative totals."""

    def __init__(self, policy: BudgetPolicy, metrics: Metrics) -> None:
        self.policy = policy
        self._metrics = metrics
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}
        self._budgets: dict[tuple[str, str], float] = {}
        self._levels: dict[tuple[str, str], BudgetLevel] = {}
        self._totals: dict[tuple[str, str], float] = {}
        self.cluster_total = 0.0
        self._joules_since_mark = 0.0
        self.events: deque[BudgetCrossing] = deque(maxlen=_MAX_EVENTS)

    def set_budget(self, scope: str, scope_id: str, joules: float | None) -> None:
        """Set (or with None remove) a budget in joules per window."""
        if scope not in _SCOPES:
            raise InvalidInput(f"scope must be one of {', '.join(_SCOPES)}")
        if joules is not None and not joules > 0:
            raise InvalidInput("a budget must be a positive number of joules")
        with self._lock:
            if joules is None:
                self._budgets.pop((scope, scope_id), None)
            else:
                self._budgets[(scope, scope_id)] = joules

    def budgets(self) -> dict[tuple[str, str], float]:
        with self._lock:
            return dict(self._budgets)

    def record(
        self, now: float, agent_joules: Mapping[str, float], organ_of: Mapping[str, str]
    ) -> list[BudgetCrossing]:
        """Charge each agent its share and its organ the sum; return the level crossings."""
        crossings: list[BudgetCrossing] = []
        with self._lock:
            organ_joules: dict[str, float] = {}
            for agent_id, joules in agent_joules.items():
                organ = organ_of[agent_id]
                organ_joules[organ] = organ_joules.get(organ, 0.0) + joules
                crossings.extend(self._charge(("agent", agent_id), now, joules))
            for organ, joules in organ_joules.items():
                crossings.extend(self._charge(("organ", organ), now, joules))
            spent = sum(agent_joules.values())
            self.cluster_total += spent
            self._joules_since_mark += spent
            self.events.extend(crossings)
        for event in crossings:
            self._metrics.budget_crossing(event.scope, event.current.value)
        return crossings

    def _charge(self, key: tuple[str, str], now: float, joules: float) -> list[BudgetCrossing]:
        window = self._windows.setdefault(key, _Window())
        window.add(now, joules)
        self._totals[key] = self._totals.get(key, 0.0) + joules
        return self._update_level(key, now)

    def _update_level(self, key: tuple[str, str], now: float) -> list[BudgetCrossing]:
        window = self._windows.get(key)
        used = window.prune(now, self.policy.window_s) if window else 0.0
        previous = self._levels.get(key, BudgetLevel.OK)
        event = crossing(key[0], key[1], previous, used, self._budgets.get(key), self.policy)
        self._levels[key] = budget_level(used, self._budgets.get(key), self.policy)
        return [] if event is None else [event]

    def refresh(self, now: float) -> list[BudgetCrossing]:
        """Age every window (a scope dropping back below a limit is a crossing too)."""
        with self._lock:
            crossings = [c for key in list(self._windows) for c in self._update_level(key, now)]
            self.events.extend(crossings)
        for event in crossings:
            self._metrics.budget_crossing(event.scope, event.current.value)
        return crossings

    def take_joules_since_mark(self) -> float:
        """Joules spent since the previous call (what the next ledger snapshot carries)."""
        with self._lock:
            spent, self._joules_since_mark = self._joules_since_mark, 0.0
            return spent

    def used(self, scope: str, scope_id: str, now: float) -> float:
        with self._lock:
            window = self._windows.get((scope, scope_id))
            return window.prune(now, self.policy.window_s) if window else 0.0

    def selection_terms(
        self, agent_id: str, organ_id: str, now: float
    ) -> tuple[float, bool]:
        """(soft penalty of the agent, whether the agent or its organ is over the hard limit)."""
        with self._lock:
            penalty = 0.0
            over = False
            for key in (("agent", agent_id), ("organ", organ_id)):
                budget = self._budgets.get(key)
                if budget is None:
                    continue
                window = self._windows.get(key)
                used = window.prune(now, self.policy.window_s) if window else 0.0
                penalty = max(penalty, soft_penalty(used, budget, self.policy))
                over = over or budget_level(used, budget, self.policy) is BudgetLevel.HARD
            return penalty, over

    def usage(self, now: float) -> list[ScopeUsage]:
        with self._lock:
            keys = sorted(set(self._windows) | set(self._budgets))
            result = []
            for key in keys:
                window = self._windows.get(key)
                used = window.prune(now, self.policy.window_s) if window else 0.0
                budget = self._budgets.get(key)
                result.append(
                    ScopeUsage(key[0], key[1], used, budget,
                               budget_level(used, budget, self.policy),
                               self._totals.get(key, 0.0))
                )
            return result
