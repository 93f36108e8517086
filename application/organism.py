"""The organism's task use case: submitting a task (select → execute through the runtime →
learn → salience → incident). Organs, agents and their liveness belong to the Tier-0 manager
(:mod:`application.tier0`)."""

from __future__ import annotations

import contextlib
import statistics
import uuid
from collections.abc import Sequence
from itertools import combinations

import numpy as np

from application.budgets import BudgetTracker
from application.errors import (
    BackendUnavailable,
    Conflict,
    InvalidInput,
    NoEligibleAgent,
    NotFound,
)
from application.execution import Execution, Job, task_text
from application.handlers import HandlerRegistry
from application.incidents import IncidentRecord, IncidentService
from application.memory import MemoryService
from application.ports.agent_runtime import AgentRuntime
from application.ports.clock import Clock
from application.ports.embedder import Embedder
from application.ports.metrics import Metrics
from application.ports.outcome_store import OutcomeStore
from application.selection_policy import EnergyAwarePolicy, SelectionContext, SelectionPolicy
from application.tier0 import Tier0Manager
from domain.agent import AgentState
from domain.collaboration import (
    PAIR_WEIGHT_INITIAL,
    pair_key,
    pattern_key,
    update_pair_weight,
    update_pattern,
)
from domain.config import DomainConfig
from domain.consumption import split_joules
from domain.roles import ideal_role
from domain.salience import is_flashbulb, salience
from domain.selection import Candidates, Choice, predicted_delta_energy
from domain.task import Task, TaskOutcome, estimate_complexity

__all__ = ["OrganismService"]

class OrganismService:
    def __init__(
        self,
        tier0: Tier0Manager,
        runtime: AgentRuntime,
        handlers: HandlerRegistry,
        memory: MemoryService,
        incidents: IncidentService,
        budgets: BudgetTracker,
        outcomes: OutcomeStore,
        embedder: Embedder,
        clock: Clock,
        metrics: Metrics,
        config: DomainConfig,
        rng: np.random.Generator,
        policy: SelectionPolicy | None = None,
    ) -> None:
        self.tier0 = tier0
        self.population = tier0.population
        self._runtime = runtime
        self.handlers = handlers
        self._memory = memory
        self._incidents = incidents
        self._budgets = budgets
        self._outcomes = outcomes
        self._embedder = embedder
        self._clock = clock
        self._metrics = metrics
        self.config = config
        self._rng = rng
        self.policy: SelectionPolicy = policy or EnergyAwarePolicy(config.selection)

    # -- tasks ---------------------------------------------------------------------------

    def validate(self, task: Task) -> None:
        handler = self.handlers.get(task.task_type)
        if handler is None:
            raise InvalidInput(f"no handler for task type {task.task_type!r}")
        handler.validate(task)
        if task.organ_hint is not None and task.organ_hint not in self.population.organs:
            raise NotFound("organ", task.organ_hint)
        if task.agent_hint is not None and task.agent_hint not in self.population.agents:
            raise NotFound("agent", task.agent_hint)
        for fact in task.required_facts:
            try:
                uuid.UUID(fact)
            except ValueError:
                raise InvalidInput(f"required fact {fact!r} is not a holon uuid") from None

    def submit(self, task: Task) -> TaskOutcome:
        """Run a task once. With an idempotency key, a repeat returns the first outcome."""
        return self.submit_once(task)[0]

    def submit_once(self, task: Task) -> tuple[TaskOutcome, bool]:
        """Run a task, or replay it: returns the outcome and whether it is a replay (the key
        was seen before). A task id that was already submitted is a ``Conflict``.

        With the outcome store down, a task with an idempotency key is refused (running it
        could run it twice); a task without one still runs, unrecorded, and the degraded
        store is counted."""
        self.validate(task)
        key = task.idempotency_key
        if key is not None:
            bound = self._outcomes.claim(f"key:{key}", task.task_id)
            if bound is not None:
                earlier = self._outcomes.get(bound)
                if earlier is None:
                    raise Conflict(f"a task with idempotency key {key!r} is still running")
                return earlier, True
        recorded = True
        try:
            taken = self._outcomes.claim(f"task:{task.task_id}", task.task_id)
        except BackendUnavailable:
            if key is not None:
                raise
            recorded, taken = False, None
            self._metrics.degraded_read("outcome_store")
        if taken is not None:
            if key is not None:
                self._outcomes.release(f"key:{key}", task.task_id)
            raise Conflict(f"task {task.task_id!r} was already submitted")
        try:
            outcome = self._run(task)
        except BaseException:
            # Nothing ran to the end: free the id and the key so that a retry may run it.
            if recorded:
                self._release_quietly(f"task:{task.task_id}", task.task_id)
            if key is not None:
                self._release_quietly(f"key:{key}", task.task_id)
            raise
        if recorded or key is not None:
            try:
                self._outcomes.put(outcome)
            except BackendUnavailable:
                # The task ran: its outcome goes back to the caller even if it cannot be kept.
                self._metrics.degraded_read("outcome_store")
        return outcome, False

    def _release_quietly(self, claim: str, task_id: str) -> None:
        with contextlib.suppress(BackendUnavailable):
            self._outcomes.release(claim, task_id)

    def outcome(self, task_id: str) -> TaskOutcome:
        outcome = self._outcomes.get(task_id)
        if outcome is None:
            raise NotFound("task", task_id)
        return outcome

    def _run(self, task: Task) -> TaskOutcome:
        started = self._clock.monotonic()
        embedding = self._embedder.embed(task_text(task))
        choice, candidates_h = self._choose(task)
        self._metrics.selection_latency(self._clock.monotonic() - started)
        pop = self.population
        with pop.lock:
            organs = tuple(pop.organ_of(a) for a in choice.agent_ids)
        try:
            # The chosen agents count this task as in flight until its bookkeeping is done, so
            # an agent cannot be deleted under a task that is still being recorded.
            execution = self._runtime.execute(
                choice.agent_ids[0], Job(task, choice.agent_ids, organs, embedding)
            )
            return self._record(task, choice, organs, execution, candidates_h, embedding,
                                started)
        finally:
            with pop.lock:
                for agent_id in choice.agent_ids:
                    pop.in_flight[agent_id] = max(0, pop.in_flight.get(agent_id, 0) - 1)

    def _record(
        self,
        task: Task,
        choice: Choice,
        organs: tuple[str, ...],
        execution: Execution,
        lead_h: np.ndarray,
        embedding: np.ndarray,
        started: float,
    ) -> TaskOutcome:
        pop = self.population
        lead = choice.agent_ids[0]
        now = self._clock.now()
        self._learn(choice.agent_ids, execution, now, organs)
        shares = split_joules(execution.metering.joules, choice.agent_ids)
        self._budgets.record(now, shares, dict(zip(choice.agent_ids, organs, strict=True)))
        for organ_id, share in zip(organs, shares.values(), strict=True):
            self._metrics.consumption(organ_id, share)
        score = salience(task.risk, task.severity)
        record = IncidentRecord(False)
        if is_flashbulb(execution.success, score, self.config.salience):
            before = self.tier0.heartbeat_of(execution.state_before, now)
            record = self._incidents.record_failure(before, task, execution.error, score)
            if record.logged:
                state = self._runtime.record_salient_event(lead)
                with pop.lock:
                    if lead in pop.agents:
                        pop.agents[lead] = state
        predicted = predicted_delta_energy(
            lead_h, embedding, execution.state_before.capability, self.config.learning.eta_h,
            self.config.energy.lambda_reg,
        )
        latency_s = self._clock.monotonic() - started
        self._metrics.task_finished(
            task.task_type, organs[0], "success" if execution.success else "failure", latency_s
        )
        return TaskOutcome(
            task_id=task.task_id,
            task_type=task.task_type,
            agent_id=lead,
            organ_id=organs[0],
            success=execution.success,
            quality=execution.quality,
            latency_ms=latency_s * 1000.0,
            joules=execution.metering.joules,
            cpu_measured=execution.metering.cpu_measured,
            salience=score,
            score=choice.score,
            predicted_d_e=predicted,
            team=choice.agent_ids,
            error=execution.error,
            result=execution.result,
            memory_events=execution.memory_events,
            incident_logged=record.logged,
            incident_id=record.incident_id,
            incident_reason=record.reason,
            explored=choice.explored,
        )

    def _choose(self, task: Task) -> tuple[Choice, np.ndarray]:
        complexity = estimate_complexity(task)
        pop = self.population
        pinned = pop.agents.get(task.agent_hint) if task.agent_hint is not None else None
        if pinned is not None:
            organ_ids = [pinned.organ_id]
        elif task.organ_hint is not None:
            organ_ids = [task.organ_hint]
        else:
            organ_ids = sorted(pop.organs)
        cached = {
            organ: self._memory.cached_fraction(organ, task.required_facts)
            for organ in organ_ids
        } if task.required_facts else {}
        now = self._clock.now()
        stale_after = self.config.loops.heartbeat_stale_s
        role = ideal_role(task.task_type, self.config.roles)
        with pop.lock:
            states = [
                s for s in pop.agents.values()
                if (task.organ_hint is None or s.organ_id == task.organ_hint)
                and (task.agent_hint is None or s.agent_id == task.agent_hint)
            ]
            if not states:
                raise NoEligibleAgent("no agent exists for this task")
            n = len(states)
            consumption = self._consumption_estimates(states, task.task_type)
            reference = _median_all(states)
            penalties = np.zeros(n)
            over = np.zeros(n, dtype=bool)
            for k, s in enumerate(states):
                penalties[k], over[k] = self._budgets.selection_terms(s.agent_id, s.organ_id, now)
            load = np.array([pop.in_flight.get(s.agent_id, 0) for s in states], dtype=float)
            capacity = np.array([s.capacity for s in states], dtype=float)
            age = np.array([now - pop.heartbeat_at.get(s.agent_id, -np.inf) for s in states])
            # An untried type reads as the skill a first use starts from (domain.md §2).
            untried = self.config.learning.skill_initial
            skill = np.array([s.skills.get(task.task_type, untried) for s in states])
            fact_share = np.array([cached.get(s.organ_id, 0.0) for s in states])
            candidates = Candidates(
                agent_ids=[s.agent_id for s in states],
                capability=np.array([s.capability for s in states]),
                role_fit=np.array([s.roles[role] for s in states]),
                consumption=consumption,
                load=load,
                capacity=capacity,
                soft_penalty=penalties,
                affinity=(skill + fact_share) / 2.0,
                eligible=(load < capacity) & ~over & (age <= stale_after)
                & ~np.array([s.archived for s in states]),
            )
            # Embeddings only matter to team selection; stacking them costs O(N·d) per task.
            h = (np.stack([s.h for s in states]) if task.team_size > 1
                 else np.zeros((0, self._embedder.dim)))
            context = SelectionContext(task, candidates, h, pop.pair_weights, complexity,
                                       reference)
            choice = self.policy.choose(context, self._rng)
            if choice is None:
                raise NoEligibleAgent(
                    f"no {task.team_size} eligible agent(s) for a {task.task_type!r} task now"
                )
            for agent_id in choice.agent_ids:
                pop.in_flight[agent_id] = pop.in_flight.get(agent_id, 0) + 1
            return choice, states[choice.indices[0]].h

    @staticmethod
    def _consumption_estimates(states: Sequence[AgentState], task_type: str) -> np.ndarray:
        own = [s.consumption_ewma.get(task_type) for s in states]
        known = [j for j in own if j is not None]
        fallback = statistics.median(known) if known else 0.0
        return np.array([fallback if j is None else j for j in own])

    def _learn(
        self, team: tuple[str, ...], execution: Execution, now: float, organs: tuple[str, ...]
    ) -> None:
        pop = self.population
        taught = []
        for member in team[1:]:
            try:
                taught.append(self._runtime.teach(member, execution.lesson))
            except NotFound:
                continue  # deleted after the task ran: nothing left to teach

        with pop.lock:
            for state in (execution.state_after, *taught):
                if state.agent_id in pop.agents:
                    pop.agents[state.agent_id] = state
                    pop.heartbeat_at[state.agent_id] = now
            writes = execution.memory_events.get("mw_write", 0)
            if writes:
                pop.bytes_written[team[0]] = pop.bytes_written.get(team[0], 0.0) + writes
            for a, b in combinations(team, 2):
                key = pair_key(a, b)
                pop.pair_weights[key] = update_pair_weight(
                    pop.pair_weights.get(key, PAIR_WEIGHT_INITIAL), execution.success
                )
            pattern = pattern_key(organs)
            if pattern is not None:
                pop.patterns[pattern] = update_pattern(
                    pop.patterns.get(pattern), execution.success, execution.latency_ms, now
                )


def _median_all(states: Sequence[AgentState]) -> float:
    values = [j for s in states for j in s.consumption_ewma.values()]
    return statistics.median(values) if values else 0.0
