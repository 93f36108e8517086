"""A seeded workload simulator, FOR BENCHMARKS AND TESTS ONLY.

Never wire this module into the API, the worker or any production path: it invents the
outcome of tasks. It exists so that selection policies can be compared on the same workload
(``seedcore bench selection``, ``seedcore energy tune``, ``tests/energy``).

What it simulates, and what it does not:

* **A hidden world** (:func:`generate_world`): organs and agents with a *hidden* probability of
  success and a *hidden* speed (CPU seconds) per task type. Selection never sees them; only the
  oracle baseline (``application.baselines.OraclePolicy``) reads them through :class:`World`.
* **A task stream**: a mix of ``analysis``, ``execution``, ``knowledge``, ``exploration`` and
  ``monitoring`` tasks with sizes, urgency and risk; knowledge tasks require 1–3 facts drawn
  from a Zipf-like distribution over a fact set; a share of the tasks asks for a team of 2 or 3
  (so the pair and hyperedge terms of the system energy move); Poisson arrivals.
* **The real organism**: :class:`Simulation` submits every task to the real
  :class:`~application.organism.OrganismService` (real selection, real execution and metering,
  real learning, budgets, incidents) and runs the real control loops on simulated time. The
  facts are written to Mlt through the real :class:`~application.memory.MemoryService`, and
  knowledge tasks read them through the real read path, so working-memory affinity is real.
* **The simulated part** is :class:`SimulatedWorkHandler` only: whether a task succeeds is
  decided by the team's hidden proficiency against a uniform number drawn in advance from the
  simulator's seeded generator (the same number for every policy: common random numbers), and
  its cost is charged by advancing the fake clock's CPU counter, which the executor meters like
  any handler's CPU time.
* **Latency** is simulated: every agent is a single server working through its tasks first in,
  first out; a task's latency is its wait plus its service time (the metered CPU seconds of the
  agent's share). In-flight tasks count as the agent's load until they finish in simulated time,
  so the load term of the score and the capacity limit act as they would in a live system.

All randomness comes from the ``np.random.Generator`` passed to :func:`generate_world` (the
organism's own generator drives ε-exploration and the random baseline). Same seed, same run.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from application.errors import InvalidInput, NoEligibleAgent
from application.handlers import HandlerContext, HandlerRegistry, HandlerResult
from application.loops import LoopScheduler
from application.ports.clock import Clock
from application.selection_policy import SelectionContext, SelectionPolicy
from application.services import Services, control_loops
from application.tier0 import AgentSpec
from domain.holon import content_hash, holon_uuid
from domain.selection import Choice
from domain.task import Size, Task, TaskError

__all__ = [
    "TASK_TYPES",
    "AgentProfile",
    "SimTask",
    "SimulatedWorkHandler",
    "Simulation",
    "SimulationClock",
    "SimulationError",
    "SimulationReport",
    "TaskRecord",
    "WorkloadSpec",
    "World",
    "generate_world",
    "simulation_registry",
]

TASK_TYPES: tuple[str, ...] = ("analysis", "execution", "knowledge", "exploration", "monitoring")


class SimulationError(RuntimeError):
    """The simulation's own invariants broke (a policy chose an ineligible agent, ...)."""


class SimulationClock(Clock, Protocol):
    """A clock the simulator can move: wall/monotonic time and the CPU counter."""

    def advance(self, seconds: float) -> None:
        """Move wall and monotonic time forward by ``seconds`` (≥ 0)."""
        ...

    def advance_cpu(self, seconds: float) -> None:
        """Add ``seconds`` (≥ 0) to the CPU counter that ``thread_cpu`` reads."""
        ...


@dataclass(frozen=True, slots=True)
class WorkloadSpec:
    """The shape of a simulated organism and its workload. Every figure is a knob.

    ``strengths`` names, per organ type, the task types its agents are specialists at: they
    succeed more often (``proficiency_strong`` instead of ``proficiency_base``) and need
    ``strong_speedup`` times the CPU seconds. Each agent also has a general speed factor
    (log-normal, ``speed_sigma``) and a general quality offset (normal, ``quality_sigma``).
    """

    organs: tuple[tuple[str, str], ...] = (
        ("cog-1", "cognitive"),
        ("cog-2", "cognitive"),
        ("act-1", "actuator"),
        ("act-2", "actuator"),
        ("util-1", "utility"),
    )
    agents_per_organ: int = 5
    capacity: int = 4
    tasks: int = 2000
    mix: tuple[tuple[str, float], ...] = (
        ("analysis", 0.25),
        ("execution", 0.25),
        ("knowledge", 0.25),
        ("exploration", 0.10),
        ("monitoring", 0.15),
    )
    base_seconds: tuple[tuple[str, float], ...] = (
        ("analysis", 0.40),
        ("execution", 0.25),
        ("knowledge", 0.10),
        ("exploration", 0.50),
        ("monitoring", 0.05),
    )
    strengths: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("cognitive", ("analysis", "knowledge")),
        ("actuator", ("execution", "exploration")),
        ("utility", ("monitoring",)),
    )
    proficiency_base: float = 0.72
    proficiency_strong: float = 0.88
    quality_sigma: float = 0.08
    type_noise_sigma: float = 0.05
    speed_sigma: float = 0.35
    type_speed_sigma: float = 0.20
    strong_speedup: float = 0.6
    task_noise_sigma: float = 0.15
    size_seconds: tuple[tuple[str, float], ...] = (("small", 0.6), ("medium", 1.0), ("large", 1.6))
    size_mix: tuple[tuple[str, float], ...] = (("small", 0.3), ("medium", 0.5), ("large", 0.2))
    urgent_share: float = 0.1
    risk_beta: tuple[float, float] = (2.0, 5.0)
    facts: int = 400
    zipf_s: float = 1.1
    facts_per_task: tuple[int, int] = (1, 3)
    team_share: float = 0.2
    team_sizes: tuple[int, ...] = (2, 3)
    utilisation: float = 0.5
    agent_budget_j: float | None = None
    loops: bool = True

    def __post_init__(self) -> None:
        if not self.organs or self.agents_per_organ < 1:
            raise ValueError("a workload needs at least one organ with one agent")
        if self.tasks < 1:
            raise ValueError("a workload needs at least one task")
        if not self.utilisation > 0.0:
            raise ValueError("utilisation must be positive")
        if any(k > len(self.organs) * self.agents_per_organ for k in self.team_sizes):
            raise ValueError("a team cannot be larger than the organism")
        if not 0.0 <= self.team_share <= 1.0:
            raise ValueError("team_share must be within [0, 1]")
        low, high = self.facts_per_task
        if not 1 <= low <= high <= self.facts:
            raise ValueError("facts_per_task must be 1 ≤ low ≤ high ≤ facts")


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """The hidden truth about one agent: success probability and CPU seconds per task type
    (for a medium task, before the per-task noise)."""

    agent_id: str
    organ_id: str
    proficiency: Mapping[str, float]
    seconds: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class SimTask:
    """One task of the stream with what the simulator drew for it in advance."""

    task: Task
    arrival_s: float
    draw: float
    noise: float


@dataclass(frozen=True, slots=True)
class World:
    """A generated organism and workload. The hidden model lives here and only here."""

    spec: WorkloadSpec
    agents: tuple[AgentProfile, ...]
    facts: tuple[str, ...]
    fact_ids: tuple[str, ...]
    tasks: tuple[SimTask, ...]
    _by_agent: Mapping[str, AgentProfile] = field(repr=False)
    _by_task: Mapping[str, SimTask] = field(repr=False)
    _size_seconds: Mapping[str, float] = field(repr=False)

    def profile(self, agent_id: str) -> AgentProfile:
        try:
            return self._by_agent[agent_id]
        except KeyError:
            raise InvalidInput(f"agent {agent_id!r} is not part of the simulated world") from None

    def sim_task(self, task_id: str) -> SimTask:
        try:
            return self._by_task[task_id]
        except KeyError:
            raise InvalidInput(f"task {task_id!r} is not part of the simulated workload") from None

    def success_probability(self, team: Sequence[str], task: Task) -> float:
        """The hidden chance that ``team`` succeeds: the mean proficiency of its members at the
        type, raised to ``1 + risk`` (risky tasks are harder, more so for weak agents)."""
        mean = sum(self.profile(a).proficiency[task.task_type] for a in team) / len(team)
        return float(mean ** (1.0 + task.risk))

    def cpu_seconds(self, team: Sequence[str], task: Task) -> tuple[float, ...]:
        """Expected CPU seconds of each member's share: the work splits evenly, each member
        doing 1/k of it at its own speed (so the team's total is the members' mean)."""
        size = self._size_seconds[task.size.value]
        k = len(team)
        return tuple(self.profile(a).seconds[task.task_type] * size / k for a in team)

    def with_slowed(self, agent_id: str, factor: float) -> World:
        """The same world with one agent ``factor`` times slower at every task type."""
        if factor <= 0:
            raise ValueError("factor must be positive")
        slow = self.profile(agent_id)
        slowed = replace(slow, seconds={t: s * factor for t, s in slow.seconds.items()})
        agents = tuple(slowed if a.agent_id == agent_id else a for a in self.agents)
        return replace(self, agents=agents, _by_agent={a.agent_id: a for a in agents})


def _pairs(items: Sequence[tuple[str, float]]) -> tuple[list[str], np.ndarray]:
    names = [name for name, _ in items]
    weights = np.array([w for _, w in items], dtype=float)
    return names, weights / weights.sum()


def generate_world(spec: WorkloadSpec, rng: np.random.Generator) -> World:
    """Draw the hidden agents, the fact set and the task stream from ``rng`` (and nothing else)."""
    base = dict(spec.base_seconds)
    strengths = {organ_type: set(types) for organ_type, types in spec.strengths}
    agents: list[AgentProfile] = []
    for organ_id, organ_type in spec.organs:
        strong = strengths.get(organ_type, set())
        for k in range(spec.agents_per_organ):
            quality = rng.normal(0.0, spec.quality_sigma)
            speed = rng.lognormal(0.0, spec.speed_sigma)
            proficiency: dict[str, float] = {}
            seconds: dict[str, float] = {}
            for task_type in TASK_TYPES:
                is_strong = task_type in strong
                p = (spec.proficiency_strong if is_strong else spec.proficiency_base)
                p += quality + rng.normal(0.0, spec.type_noise_sigma)
                proficiency[task_type] = float(min(0.99, max(0.2, p)))
                factor = spec.strong_speedup if is_strong else 1.0
                seconds[task_type] = float(
                    base[task_type] * speed * factor * rng.lognormal(0.0, spec.type_speed_sigma)
                )
            agents.append(AgentProfile(f"{organ_id}-a{k:02d}", organ_id, proficiency, seconds))

    facts = tuple(f"simulated fact {i:05d}" for i in range(spec.facts))
    fact_ids = tuple(holon_uuid(content_hash(content)) for content in facts)
    ranks = np.arange(1, spec.facts + 1, dtype=float)
    fact_p = ranks ** -spec.zipf_s
    fact_p /= fact_p.sum()

    types, type_p = _pairs(spec.mix)
    sizes, size_p = _pairs(spec.size_mix)
    size_seconds = dict(spec.size_seconds)
    # Arrival rate: the target utilisation of the whole organism if work were spread evenly.
    mean_size = float(sum(size_seconds[s] * p for s, p in zip(sizes, size_p, strict=True)))
    mean_seconds = float(np.mean([
        sum(a.seconds[t] * p for t, p in zip(types, type_p, strict=True)) for a in agents
    ])) * mean_size
    rate = spec.utilisation * len(agents) / mean_seconds

    tasks: list[SimTask] = []
    clock = 0.0
    for k in range(spec.tasks):
        clock += float(rng.exponential(1.0 / rate))
        task_type = types[int(rng.choice(len(types), p=type_p))]
        size = Size(sizes[int(rng.choice(len(sizes), p=size_p))])
        risk = float(rng.beta(*spec.risk_beta))
        urgent = bool(rng.random() < spec.urgent_share)
        team_size = 1
        if rng.random() < spec.team_share:
            team_size = int(spec.team_sizes[int(rng.integers(len(spec.team_sizes)))])
        required: tuple[str, ...] = ()
        if task_type == "knowledge":
            low, high = spec.facts_per_task
            count = int(rng.integers(low, high + 1))
            chosen = rng.choice(spec.facts, size=count, replace=False, p=fact_p)
            required = tuple(fact_ids[int(i)] for i in chosen)
        draw = float(rng.random())
        noise = float(rng.lognormal(0.0, spec.task_noise_sigma))
        task = Task(
            task_id=f"sim-{k:06d}",
            task_type=task_type,
            required_facts=required,
            risk=risk,
            team_size=team_size,
            size=size,
            urgent=urgent,
        )
        tasks.append(SimTask(task, clock, draw, noise))

    return World(
        spec=spec,
        agents=tuple(agents),
        facts=facts,
        fact_ids=fact_ids,
        tasks=tuple(tasks),
        _by_agent={a.agent_id: a for a in agents},
        _by_task={t.task.task_id: t for t in tasks},
        _size_seconds=size_seconds,
    )


@dataclass(frozen=True, slots=True)
class _Executed:
    team: tuple[str, ...]
    shares: tuple[float, ...]
    fact_reads: int
    fact_hits: int


class SimulatedWorkHandler:
    """The only simulated part of a run (benchmarks and tests only): succeeds when the task's
    pre-drawn uniform number is below the team's hidden success probability, and charges the
    team's hidden CPU seconds to the fake clock's CPU counter so that the executor meters them.
    Knowledge tasks first read every required fact through the real read path (metered)."""

    def __init__(self, world: World, clock: SimulationClock) -> None:
        self.world = world
        self._clock = clock
        self._team: tuple[str, ...] | None = None
        self.executed: dict[str, _Executed] = {}

    def expect_team(self, team: tuple[str, ...]) -> None:
        """Called by the recording policy: the agents selection chose for the next task."""
        self._team = team

    def validate(self, task: Task) -> None:
        self.world.sim_task(task.task_id)
        if task.task_type == "knowledge" and not task.required_facts:
            raise InvalidInput("a knowledge task needs at least one required fact")

    def handle(self, context: HandlerContext) -> HandlerResult:
        task = context.task
        drawn = self.world.sim_task(task.task_id)
        team = self._team or (context.agent.agent_id,)
        self._team = None
        reads = hits = 0
        missing: list[str] = []
        for fact_id in task.required_facts:
            read = context.facts.read_fact(fact_id, context.team_organs)
            context.ops.update(read.ops)
            reads += 1
            hits += 1 if read.from_working_memory else 0
            if read.content is None:
                missing.append(fact_id)
        shares = tuple(s * drawn.noise for s in self.world.cpu_seconds(team, task))
        self._clock.advance_cpu(sum(shares))
        p = self.world.success_probability(team, task)
        success = not missing and drawn.draw < p
        self.executed[task.task_id] = _Executed(team, shares, reads, hits)
        error = None
        if not success:
            error = (
                TaskError("KnowledgeGap", "facts not found", "E_FACT") if missing
                else TaskError("SimulatedFailure", "the simulated work failed", "E_SIM")
            )
        return HandlerResult(
            success=success,
            quality=0.6 + 0.4 * p if success else 0.2 * p,
            error=error,
            memory_hit=hits / reads if reads else 0.0,
            memory_hits=hits,
        )


def simulation_registry(handler: SimulatedWorkHandler) -> HandlerRegistry:
    """A registry that runs every simulated task type with the simulated handler."""
    registry = HandlerRegistry(fallback=None)
    for task_type in TASK_TYPES:
        registry.register(task_type, handler)
    return registry


class _Recording:
    """Wraps the policy under test and tells the handler which team it chose."""

    def __init__(self, inner: SelectionPolicy, handler: SimulatedWorkHandler) -> None:
        self.inner = inner
        self._handler = handler

    def choose(self, context: SelectionContext, rng: np.random.Generator) -> Choice | None:
        choice = self.inner.choose(context, rng)
        if choice is not None:
            if any(not context.candidates.eligible[i] for i in choice.indices):
                raise SimulationError("a policy chose an ineligible agent")
            self._handler.expect_team(choice.agent_ids)
        return choice


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """What happened to one task of the stream (``rejected``: no eligible agent)."""

    task_id: str
    task_type: str
    team: tuple[str, ...]
    success: bool
    joules: float
    cpu_seconds: float
    latency_s: float
    arrival_s: float
    fact_reads: int
    fact_hits: int
    rejected: bool = False
    explored: bool = False


@dataclass(frozen=True, slots=True)
class SimulationReport:
    """The records of one run and the figures the benchmark compares."""

    records: tuple[TaskRecord, ...]
    cluster_joules: float

    @property
    def successes(self) -> int:
        return sum(1 for r in self.records if r.success)

    @property
    def joules(self) -> float:
        return sum(r.joules for r in self.records)

    @property
    def joules_per_success(self) -> float:
        return self.joules / self.successes if self.successes else math.inf

    @property
    def success_rate(self) -> float:
        """Successes over submitted tasks (a rejected task is not a success)."""
        return self.successes / len(self.records) if self.records else 0.0

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.records if r.rejected)

    def latency_p95_ms(self) -> float:
        done = [r.latency_s for r in self.records if not r.rejected]
        return float(np.percentile(done, 95)) * 1000.0 if done else 0.0

    @property
    def mw_hit_rate(self) -> float:
        """Fact lookups of knowledge tasks served by working memory (organ or global)."""
        reads = sum(r.fact_reads for r in self.records)
        return sum(r.fact_hits for r in self.records) / reads if reads else 0.0

    def share_of(self, agent_id: str) -> float:
        """Share of the executed tasks in which the agent took part."""
        done = [r for r in self.records if not r.rejected]
        return sum(1 for r in done if agent_id in r.team) / len(done) if done else 0.0


class Simulation:
    """Drives the real organism through a simulated world on simulated time.

    Build the services with the world's :class:`SimulatedWorkHandler` registered (see
    :func:`simulation_registry`) and the same clock, then :meth:`populate` and :meth:`run`.
    """

    def __init__(
        self,
        services: Services,
        clock: SimulationClock,
        world: World,
        handler: SimulatedWorkHandler,
    ) -> None:
        self.services = services
        self.clock = clock
        self.world = world
        self.handler = handler
        self._populated = False

    def populate(self) -> None:
        """Create the organs and agents, set the budgets, and write the fact set to Mlt."""
        tier0 = self.services.tier0
        for organ_id, organ_type in self.world.spec.organs:
            tier0.create_organ(organ_id, organ_type)
        tier0.create_agents([
            AgentSpec(a.organ_id, a.agent_id, self.world.spec.capacity) for a in self.world.agents
        ])
        budget = self.world.spec.agent_budget_j
        if budget is not None:
            for agent in self.world.agents:
                self.services.budgets.set_budget("agent", agent.agent_id, budget)
        memory = self.services.memory
        holons = [memory.make_holon(content, "fact") for content in self.world.facts]
        if [h.uuid for h in holons] != list(self.world.fact_ids):
            raise SimulationError("fact ids of the world and of Mlt disagree")
        memory.remember(holons)
        self._populated = True

    def run(self, policy: SelectionPolicy, tasks: int | None = None) -> SimulationReport:
        """Submit the first ``tasks`` tasks of the stream (all by default) under ``policy``."""
        if not self._populated:
            self.populate()
        organism = self.services.organism
        organism.policy = _Recording(policy, self.handler)
        try:
            stream = self.world.tasks if tasks is None else self.world.tasks[:tasks]
            records = self._submit_stream(stream)
        finally:
            organism.policy = policy
        return SimulationReport(tuple(records), self.services.budgets.cluster_total)

    def _submit_stream(self, stream: Sequence[SimTask]) -> list[TaskRecord]:
        services = self.services
        organism = services.organism
        scheduler = (
            LoopScheduler(control_loops(services), self.clock, services.lock, services.metrics,
                          "simulation")
            if self.world.spec.loops else None
        )
        pop = organism.population
        start = self.clock.now()
        free_at: dict[str, float] = {}
        finishing: list[tuple[float, str]] = []
        records: list[TaskRecord] = []
        try:
            for sim_task in stream:
                # Queues run on the stream's own time axis (seconds since the start), which
                # keeps full precision; the clock follows it.
                now = sim_task.arrival_s
                self.clock.advance(max(0.0, start + now - self.clock.now()))
                while finishing and finishing[0][0] <= now:
                    _, agent_id = heapq.heappop(finishing)
                    with pop.lock:
                        pop.in_flight[agent_id] = max(0, pop.in_flight.get(agent_id, 0) - 1)
                if scheduler is not None:
                    scheduler.run_due()
                task = sim_task.task
                try:
                    outcome = organism.submit(task)
                except NoEligibleAgent:
                    records.append(TaskRecord(task.task_id, task.task_type, (), False, 0.0, 0.0,
                                              0.0, now, 0, 0, rejected=True))
                    continue
                executed = self.handler.executed.pop(task.task_id)
                if executed.team != outcome.team:
                    raise SimulationError("the handler ran for another team than selection chose")
                finish = now
                for agent_id, share in zip(executed.team, executed.shares, strict=True):
                    done = max(now, free_at.get(agent_id, now)) + share
                    free_at[agent_id] = done
                    finish = max(finish, done)
                    heapq.heappush(finishing, (done, agent_id))
                    # The task stays in flight (the load selection reads, and the capacity
                    # limit) until it finishes in simulated time, not when submit returns.
                    with pop.lock:
                        pop.in_flight[agent_id] = pop.in_flight.get(agent_id, 0) + 1
                records.append(TaskRecord(
                    task.task_id, task.task_type, outcome.team, outcome.success, outcome.joules,
                    sum(executed.shares), finish - now, now, executed.fact_reads,
                    executed.fact_hits, explored=outcome.explored,
                ))
        finally:
            # The run is over: whatever was still queued is done.
            with pop.lock:
                for _, agent_id in finishing:
                    pop.in_flight[agent_id] = max(0, pop.in_flight.get(agent_id, 0) - 1)
        return records
