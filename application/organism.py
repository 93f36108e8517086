"""The organism use cases: organs and agents, and submitting a task
(select → execute through the runtime → learn → salience → incident)."""

from __future__ import annotations

import contextlib
import re
import statistics
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
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
from application.population import Organ, Population
from application.ports.agent_runtime import AgentRuntime
from application.ports.clock import Clock
from application.ports.embedder import Embedder
from application.ports.metrics import Metrics
from application.ports.outcome_store import OutcomeStore
from application.selection_policy import EnergyAwarePolicy, SelectionContext, SelectionPolicy
from domain.agent import AgentState, Heartbeat, new_agent
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

__all__ = ["AgentSpec", "OrganismService"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
MAX_BATCH = 1000


def _check_id(kind: str, value: str) -> str:
    if not _ID.fullmatch(value):
        raise InvalidInput(f"{kind} id {value!r} must match {_ID.pattern}")
    return value


@dataclass(frozen=True, slots=True)
class AgentSpec:
    organ_id: str
    agent_id: str | None = None
    capacity: int | None = None


class OrganismService:
    def __init__(
        self,
        population: Population,
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
        host: str = "seedcore",
        policy: SelectionPolicy | None = None,
    ) -> None:
        self.population = population
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
        self._host = host
        self.policy: SelectionPolicy = policy or EnergyAwarePolicy(config.selection)

    # -- organs and agents ---------------------------------------------------------------

    def create_organ(self, organ_id: str, organ_type: str) -> Organ:
        _check_id("organ", organ_id)
        if not _ID.fullmatch(organ_type):
            raise InvalidInput(f"organ type {organ_type!r} must match {_ID.pattern}")
        pop = self.population
        with pop.lock:
            if organ_id in pop.organs:
                raise Conflict(f"organ {organ_id!r} already exists")
            organ = Organ(organ_id, organ_type, self._clock.now())
            pop.organs[organ_id] = organ
            return organ

    def ensure_organ(self, organ_id: str, organ_type: str) -> Organ:
        """The organ, created if missing (concurrent callers get the same organ)."""
        with self.population.lock:
            existing = self.population.organs.get(organ_id)
            return existing if existing is not None else self.create_organ(organ_id, organ_type)

    def organs(self) -> list[Organ]:
        with self.population.lock:
            return sorted(self.population.organs.values(), key=lambda o: o.organ_id)

    def organ(self, organ_id: str) -> Organ:
        organ = self.population.organs.get(organ_id)
        if organ is None:
            raise NotFound("organ", organ_id)
        return organ

    def create_agents(self, specs: Sequence[AgentSpec]) -> list[AgentState]:
        """Create a batch of agents, all or none."""
        if not 1 <= len(specs) <= MAX_BATCH:
            raise InvalidInput(f"a batch holds 1 to {MAX_BATCH} agents")
        now = self._clock.now()
        pop = self.population
        with pop.lock:
            states: list[AgentState] = []
            seen: set[str] = set()
            for spec in specs:
                organ = pop.organs.get(spec.organ_id)
                if organ is None:
                    raise NotFound("organ", spec.organ_id)
                agent_id = spec.agent_id or f"{organ.organ_id}-{uuid.uuid4().hex[:12]}"
                _check_id("agent", agent_id)
                if agent_id in pop.agents or agent_id in seen:
                    raise Conflict(f"agent {agent_id!r} already exists")
                if spec.capacity is not None and not 1 <= spec.capacity <= 1024:
                    raise InvalidInput("capacity must be within [1, 1024]")
                seen.add(agent_id)
                states.append(
                    new_agent(agent_id, organ.organ_id, organ.organ_type, self._embedder.dim,
                              now, self.config.learning, spec.capacity)
                )
            self._runtime.add_agents(states)
            for state in states:
                pop.agents[state.agent_id] = state
                pop.heartbeat_at[state.agent_id] = now
            return states

    def agents(self, organ_id: str | None = None) -> list[AgentState]:
        with self.population.lock:
            states = self.population.agents.values()
            return sorted(
                (s for s in states if organ_id is None or s.organ_id == organ_id),
                key=lambda s: s.agent_id,
            )

    def agent(self, agent_id: str) -> AgentState:
        state = self.population.agents.get(agent_id)
        if state is None:
            raise NotFound("agent", agent_id)
        return state

    def heartbeat(self, agent_id: str) -> Heartbeat:
        """A fresh heartbeat of one agent, from the runtime that hosts it."""
        state = self._runtime.agent(agent_id)
        now = self._clock.now()
        with self.population.lock:
            if agent_id not in self.population.agents:
                raise NotFound("agent", agent_id)  # deleted while its heartbeat was taken
            self.population.agents[agent_id] = state
            self.population.heartbeat_at[agent_id] = now
        return self._heartbeat_of(state, now)

    def _heartbeat_of(self, state: AgentState, now: float) -> Heartbeat:
        penalty_window = self._budgets.used("agent", state.agent_id, now)
        budget = self._budgets.budgets().get(("agent", state.agent_id))
        return Heartbeat(
            state=state,
            host=self._host,
            taken_at=now,
            uptime_s=max(0.0, now - state.created_at),
            window_joules=penalty_window,
            budget_joules=budget,
        )

    def delete_agent(self, agent_id: str) -> AgentState:
        pop = self.population
        with pop.lock:
            if agent_id not in pop.agents:
                raise NotFound("agent", agent_id)
            if pop.in_flight.get(agent_id, 0):
                raise Conflict(f"agent {agent_id!r} is running a task")
            state = self._runtime.remove_agent(agent_id)
            del pop.agents[agent_id]
            pop.heartbeat_at.pop(agent_id, None)
            pop.in_flight.pop(agent_id, None)
            return state

    def collect_heartbeats(self) -> int:
        """The heartbeat loop: refresh every agent's state and liveness from the runtime."""
        beats = self._runtime.heartbeats()
        with self.population.lock:
            for beat in beats:
                if beat.state.agent_id in self.population.agents:
                    self.population.agents[beat.state.agent_id] = beat.state
                    self.population.heartbeat_at[beat.state.agent_id] = beat.taken_at
        return len(beats)

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
            before = Heartbeat(execution.state_before, self._host, now,
                               max(0.0, now - execution.state_before.created_at))
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
