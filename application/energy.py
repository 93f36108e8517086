"""Energy use cases: the system energy now, its attribution, ledger snapshots, role evolution,
budgets and the energy-rising alert."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from application.budgets import BudgetTracker
from application.errors import InvalidInput
from application.memory import MemoryService
from application.population import Population
from application.ports.agent_runtime import AgentRuntime
from application.ports.clock import Clock
from application.ports.ledger_store import LedgerStore
from application.ports.metrics import Metrics
from domain.agent import AgentState
from domain.budget import rising_since, should_alert_rising
from domain.collaboration import PatternKey
from domain.config import DomainConfig
from domain.energy import (
    EnergyGradients,
    EnergyInputs,
    EnergyTerms,
    MemoryCostInputs,
    attribute,
    compute_energy,
    organ_totals,
)
from domain.ledger import Balance, LedgerTransaction, Scope, next_transaction
from domain.roles import RoleProbabilities, evolve_roles, role_distribution

__all__ = ["Attribution", "EnergyService", "RoleEvolutionReport", "SnapshotReport"]

_UNCHANGED = 1e-12


@dataclass(frozen=True, slots=True)
class Attribution:
    per_agent: dict[str, float]
    per_organ: dict[str, float]
    hyper_per_organ: dict[str, float]
    terms: EnergyTerms


@dataclass(frozen=True, slots=True)
class SnapshotReport:
    terms: EnergyTerms
    transactions: int
    d_e: float
    rising_alert: bool


@dataclass(frozen=True, slots=True)
class RoleEvolutionReport:
    agents_evolved: int
    total_before: float
    total_after: float

    @property
    def d_e(self) -> float:
        return self.total_after - self.total_before


class EnergyService:
    def __init__(
        self,
        population: Population,
        runtime: AgentRuntime,
        memory: MemoryService,
        ledger: LedgerStore,
        budgets: BudgetTracker,
        clock: Clock,
        metrics: Metrics,
        config: DomainConfig,
    ) -> None:
        self._population = population
        self._runtime = runtime
        self._memory = memory
        self._ledger = ledger
        self.budgets = budgets
        self._clock = clock
        self._metrics = metrics
        self.config = config
        self._lock = threading.Lock()
        self._rising_since: float | None = None
        self._last_hits_misses: tuple[int, int] = (0, 0)
        self._miss_rate = 0.0

    def _memory_inputs(self, advance_window: bool) -> MemoryCostInputs:
        stats = self._memory.stats()
        hits = sum(s.hits for s in stats)
        misses = sum(s.misses for s in stats)
        if advance_window:
            d_hits = hits - self._last_hits_misses[0]
            d_misses = misses - self._last_hits_misses[1]
            if d_hits + d_misses > 0:
                self._miss_rate = d_misses / (d_hits + d_misses)
            self._last_hits_misses = (hits, misses)
        mw_bytes = sum(s.bytes for s in stats)
        return MemoryCostInputs(
            bytes_used=float(mw_bytes + self._memory.holons.bytes_used()),
            bytes_budget=float(self.config.memory.bytes_budget),
            recon_loss=0.0,  # Mlt stores embeddings uncompressed: no reconstruction loss
            miss_rate=self._miss_rate,
        )

    def inputs(
        self, advance_window: bool = False
    ) -> tuple[EnergyInputs, list[str], list[PatternKey], dict[str, str]]:
        """The organism's state as arrays, its agent ids, pattern keys and agents' organs."""
        memory = self._memory_inputs(advance_window)
        pop = self._population
        now = self._clock.now()
        with pop.lock:
            states = sorted(pop.agents.values(), key=lambda s: s.agent_id)
            ids = [s.agent_id for s in states]
            index = {agent_id: k for k, agent_id in enumerate(ids)}
            pairs = [(index[a], index[b], w) for (a, b), w in pop.pair_weights.items()
                     if a in index and b in index]
            patterns = [(key, stats.decayed(now).score) for key, stats in pop.patterns.items()]
            written = np.array([pop.bytes_written.get(i, 0.0) for i in ids])
        dim = self._memory.embedder.dim
        inputs = EnergyInputs(
            h=np.stack([s.h for s in states]) if states else np.zeros((0, dim)),
            p=np.array([s.roles for s in states], dtype=float).reshape(len(states), 3),
            pairs=np.array([(i, j) for i, j, _ in pairs], dtype=np.int64).reshape(-1, 2),
            pair_weights=np.array([w for _, _, w in pairs], dtype=float),
            pattern_scores=np.array([score for _, score in patterns], dtype=float),
            memory=memory,
            bytes_written=written,
        )
        organ_of = {s.agent_id: s.organ_id for s in states}
        return inputs, ids, [key for key, _ in patterns], organ_of

    def current(self, with_gradients: bool = False) -> tuple[EnergyTerms, EnergyGradients | None]:
        inputs, _, _, _ = self.inputs()
        return compute_energy(inputs, self.config.energy, self.config.memory, with_gradients)

    def attribution(self) -> Attribution:
        inputs, ids, patterns, organ_of = self.inputs()
        terms, _ = compute_energy(inputs, self.config.energy, self.config.memory)
        per_agent, hyper = attribute(
            inputs, ids, [list(p) for p in patterns], self.config.energy, self.config.memory
        )
        per_organ = organ_totals(per_agent, organ_of)
        for organ, value in hyper.items():
            per_organ[organ] = per_organ.get(organ, 0.0) + value
        return Attribution(per_agent, per_organ, hyper, terms)

    def snapshot(self, cause: str = "energy_snapshot") -> SnapshotReport:
        """Compute E, append the cluster, organ and agent transactions (scopes whose balance
        did not move and that spent nothing are skipped), and track the rising alert."""
        with self._lock:
            inputs, ids, patterns, organ_of = self.inputs(advance_window=True)
            terms, _ = compute_energy(inputs, self.config.energy, self.config.memory)
            per_agent, hyper = attribute(
                inputs, ids, [list(p) for p in patterns], self.config.energy, self.config.memory
            )
            per_organ = organ_totals(per_agent, organ_of)
            for organ, value in hyper.items():
                per_organ[organ] = per_organ.get(organ, 0.0) + value
            now = self._clock.now()
            joules = self.budgets.take_joules_since_mark()
            txs = [self._tx(Scope.CLUSTER, "cluster", cause, terms.total,
                            terms.as_dict(), joules, now, force=True)]
            txs += [self._tx(Scope.ORGAN, o, cause, v, {}, 0.0, now) for o, v in per_organ.items()]
            txs += [self._tx(Scope.AGENT, a, cause, v, {}, 0.0, now) for a, v in per_agent.items()]
            written = [tx for tx in txs if tx is not None]
            self._ledger.append(written)
            d_e = written[0].d_e
            self._rising_since = rising_since(self._rising_since, now, d_e)
            alert = should_alert_rising(self._rising_since, now, self.config.budgets)
        self._metrics.energy(terms.as_dict())
        self.budgets.refresh(now)
        return SnapshotReport(terms, len(written), d_e, alert)

    def _tx(
        self,
        scope: Scope,
        scope_id: str,
        cause: str,
        total: float,
        terms: Mapping[str, float],
        joules: float,
        now: float,
        force: bool = False,
    ) -> LedgerTransaction | None:
        previous = self._ledger.balance(scope, scope_id)
        if (not force and previous is not None and abs(previous.total - total) < _UNCHANGED
                and joules == 0.0):
            return None
        return next_transaction(previous, str(uuid.uuid4()), now, scope, scope_id, cause,
                                total, terms, joules)

    def evolve_roles(self) -> RoleEvolutionReport:
        """The slow loop: move each agent with successes towards the ideal roles of its tasks,
        keep the entropy floor, and record the resulting dE in the ledger."""
        with self._lock:
            before, _ = self.current()
            pop = self._population
            with pop.lock:
                updates: dict[str, RoleProbabilities] = {}
                for state in pop.agents.values():
                    if any(n > 0 for n in state.successes_since_evolution.values()):
                        target = role_distribution(state.successes_since_evolution,
                                                   self.config.roles)
                        updates[state.agent_id] = evolve_roles(state.roles, target,
                                                               self.config.roles)
            if updates:
                self._runtime.set_roles(updates)
                with pop.lock:
                    for agent_id, roles in updates.items():
                        current = pop.agents.get(agent_id)
                        if current is not None:
                            pop.agents[agent_id] = _with_roles(current, roles)
            after, _ = self.current()
            previous = self._ledger.balance(Scope.CLUSTER, "cluster")
            tx = next_transaction(previous, str(uuid.uuid4()), self._clock.now(), Scope.CLUSTER,
                                  "cluster", "role_evolution", after.total, after.as_dict(), 0.0)
            self._ledger.append([tx])
        return RoleEvolutionReport(len(updates), before.total, after.total)

    @property
    def rising_since(self) -> float | None:
        return self._rising_since

    def transactions(
        self,
        limit: int,
        after_seq: int = 0,
        scope: Scope | None = None,
        scope_id: str | None = None,
    ) -> list[tuple[int, LedgerTransaction]]:
        """Ledger transactions in append order after a sequence number (a cursor)."""
        if not 1 <= limit <= 500:
            raise InvalidInput("limit must be within [1, 500]")
        return self._ledger.transactions(limit, after_seq, scope, scope_id)

    def balance(self, scope: Scope, scope_id: str) -> Balance | None:
        return self._ledger.balance(scope, scope_id)


def _with_roles(state: AgentState, roles: RoleProbabilities) -> AgentState:
    return replace(state, roles=roles, successes_since_evolution={})
