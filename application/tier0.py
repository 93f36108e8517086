"""The Tier-0 manager: the organism's view of where its agents live and whether they are alive.

It owns organs, the agents' lifecycle (create, list, delete), their placement (which host, an
organ actor or the process itself, runs each agent), heartbeat collection and liveness, on top
of the agent-runtime port. The runtime decides *how* a host is chosen (the Ray runtime's
directory places agents atomically for every client of a namespace); the manager records where
each agent went and is the one place the rest of the application asks.

Several processes may share one runtime (the API and the worker joined to one Ray cluster).
Each keeps its own view, and a heartbeat collection *adopts* the agents another process
created, with their organ, so the worker's loops see the agents the API created.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from application.budgets import BudgetTracker
from application.errors import Conflict, InvalidInput, NotFound
from application.population import Organ, Population
from application.ports.agent_runtime import AgentRuntime, HostStatus
from application.ports.clock import Clock
from application.ports.embedder import Embedder
from domain.agent import AgentState, Heartbeat, new_agent
from domain.config import DomainConfig

__all__ = ["MAX_BATCH", "AgentSpec", "HeartbeatReport", "Tier0Manager", "check_id"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
MAX_BATCH = 1000
#: The host of an agent no heartbeat has placed yet.
UNPLACED = "unplaced"


def check_id(kind: str, value: str) -> str:
    """``value`` if it is a valid organ or agent id, else ``InvalidInput``."""
    if not _ID.fullmatch(value):
        raise InvalidInput(f"{kind} id {value!r} must match {_ID.pattern}")
    return value


@dataclass(frozen=True, slots=True)
class AgentSpec:
    organ_id: str
    agent_id: str | None = None
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatReport:
    """What one heartbeat collection found."""

    agents: int  # heartbeats received
    adopted: int  # agents another process created, now known here
    stale: int  # known agents whose last heartbeat is older than the liveness limit
    hosts: int  # hosts that answered


class Tier0Manager:
    """Organs, agents, placement and liveness (see the module's docstring). Shares
    ``population`` with the organism and energy services; holds its lock to change it."""

    def __init__(
        self,
        population: Population,
        runtime: AgentRuntime,
        budgets: BudgetTracker,
        embedder: Embedder,
        clock: Clock,
        config: DomainConfig,
    ) -> None:
        self.population = population
        self._runtime = runtime
        self._budgets = budgets
        self._embedder = embedder
        self._clock = clock
        self.config = config

    # -- organs ----------------------------------------------------------------------------

    def create_organ(self, organ_id: str, organ_type: str) -> Organ:
        check_id("organ", organ_id)
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

    # -- agents ----------------------------------------------------------------------------

    def create_agents(self, specs: Sequence[AgentSpec]) -> list[AgentState]:
        """Create a batch of agents, all or none, and host them in the runtime."""
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
                check_id("agent", agent_id)
                if agent_id in pop.agents or agent_id in seen:
                    raise Conflict(f"agent {agent_id!r} already exists")
                if spec.capacity is not None and not 1 <= spec.capacity <= 1024:
                    raise InvalidInput("capacity must be within [1, 1024]")
                seen.add(agent_id)
                states.append(
                    new_agent(agent_id, organ.organ_id, organ.organ_type, self._embedder.dim,
                              now, self.config.learning, spec.capacity)
                )
            placed = self._runtime.add_agents(states)
            for state in states:
                pop.agents[state.agent_id] = state
                pop.heartbeat_at[state.agent_id] = now
                pop.hosts[state.agent_id] = placed.get(state.agent_id, UNPLACED)
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
            pop.hosts.pop(agent_id, None)
            return state

    # -- placement ---------------------------------------------------------------------------

    def host_of(self, agent_id: str) -> str:
        """The host the runtime placed the agent on, as its latest heartbeat confirmed."""
        with self.population.lock:
            if agent_id not in self.population.agents:
                raise NotFound("agent", agent_id)
            return self.population.hosts.get(agent_id, UNPLACED)

    def placement(self) -> dict[str, list[str]]:
        """Host -> the ids of the agents it runs, as placed and as the latest heartbeats
        reported."""
        placed: dict[str, list[str]] = {}
        with self.population.lock:
            for agent_id in sorted(self.population.agents):
                host = self.population.hosts.get(agent_id, UNPLACED)
                placed.setdefault(host, []).append(agent_id)
        return placed

    def hosts(self) -> list[HostStatus]:
        """What every host of the runtime reports about itself (a round trip per host)."""
        return self._runtime.hosts()

    # -- heartbeats and liveness -------------------------------------------------------------

    def heartbeat(self, agent_id: str) -> Heartbeat:
        """A fresh heartbeat of one agent, from the runtime that hosts it."""
        state = self._runtime.agent(agent_id)
        now = self._clock.now()
        with self.population.lock:
            if agent_id not in self.population.agents:
                raise NotFound("agent", agent_id)  # deleted while its heartbeat was taken
            self.population.agents[agent_id] = state
            self.population.heartbeat_at[agent_id] = now
        return self.heartbeat_of(state, now)

    def heartbeat_of(self, state: AgentState, now: float) -> Heartbeat:
        """A heartbeat of ``state`` as of ``now``: its host and its energy figures."""
        with self.population.lock:
            host = self.population.hosts.get(state.agent_id, UNPLACED)
        budget = self._budgets.budgets().get(("agent", state.agent_id))
        return Heartbeat(
            state=state,
            host=host,
            taken_at=now,
            uptime_s=max(0.0, now - state.created_at),
            window_joules=self._budgets.used("agent", state.agent_id, now),
            budget_joules=budget,
        )

    def collect_heartbeats(self) -> HeartbeatReport:
        """The heartbeat loop: refresh every agent's state, host and liveness from the runtime,
        and adopt the agents (and organs) that another process of the runtime created."""
        beats = self._runtime.heartbeats()
        now = self._clock.now()
        adopted = 0
        pop = self.population
        with pop.lock:
            for beat in beats:
                state = beat.state
                if state.agent_id not in pop.agents:
                    adopted += 1
                    if state.organ_id not in pop.organs:
                        pop.organs[state.organ_id] = Organ(state.organ_id, state.organ_type, now)
                pop.agents[state.agent_id] = state
                pop.heartbeat_at[state.agent_id] = beat.taken_at
                pop.hosts[state.agent_id] = beat.host
            stale = self.stale_agents(now)
        return HeartbeatReport(len(beats), adopted, stale, len({b.host for b in beats}))

    def is_live(self, agent_id: str, now: float) -> bool:
        """Whether the agent's last heartbeat is recent enough for it to take tasks."""
        with self.population.lock:
            return self._fresh_locked(agent_id, now)

    def stale_agents(self, now: float) -> int:
        with self.population.lock:
            return sum(1 for a in self.population.agents if not self._fresh_locked(a, now))

    def _fresh_locked(self, agent_id: str, now: float) -> bool:
        at = self.population.heartbeat_at.get(agent_id)
        return at is not None and now - at <= self.config.loops.heartbeat_stale_s
