"""In-process agent runtime: many agents in one dict, tasks run on the caller's thread."""

from __future__ import annotations

import math
import os
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from adapters.process import node_name, resident_bytes
from application.errors import Conflict, InvalidInput, NotFound
from application.execution import Execution, Job, TaskExecutor
from application.ports.agent_runtime import HostStatus
from application.ports.clock import Clock
from domain.agent import AgentState, Heartbeat, Lesson, learn
from domain.config import DomainConfig
from domain.roles import RoleProbabilities

__all__ = ["InProcessRuntime"]

_SIMPLEX_TOLERANCE = 1e-9


@dataclass(slots=True)
class _Hosted:
    """One hosted agent. The record's identity marks one hosting: an agent removed and added
    again gets a new record, so a late execution cannot write into the newcomer."""

    state: AgentState
    added_at: float  # clock.monotonic() when hosted, for the uptime


class InProcessRuntime:
    """Implements :class:`application.ports.agent_runtime.AgentRuntime` in this process.

    Every state change is a replacement under one lock. ``execute`` holds the lock only to
    count the job in the agent's load and to store the result: the handler runs outside it,
    on the calling thread (so its CPU time is measured), and several jobs may run on one agent
    at once. When a job ends, its lesson is applied with ``domain.agent.learn`` to the agent's
    state *as it is then*, so concurrent jobs on one agent compose instead of overwriting each
    other's learning; the returned execution's ``state_after`` is the state stored.
    """

    def __init__(
        self,
        executor: TaskExecutor,
        clock: Clock,
        config: DomainConfig,
        host: str = "inprocess",
    ) -> None:
        self._executor = executor
        self._clock = clock
        self._config = config
        self._host = host
        self._started_at = clock.now()
        self._lock = threading.Lock()
        self._agents: dict[str, _Hosted] = {}

    def add_agents(self, agents: Sequence[AgentState]) -> dict[str, str]:
        given = Counter(agent.agent_id for agent in agents)
        with self._lock:
            taken = sorted(i for i, n in given.items() if n > 1 or i in self._agents)
            if taken:
                raise Conflict(f"agents already hosted or given twice: {', '.join(taken)}")
            now = self._clock.monotonic()
            for agent in agents:
                self._agents[agent.agent_id] = _Hosted(agent, now)
        return {agent.agent_id: self._host for agent in agents}

    def remove_agent(self, agent_id: str) -> AgentState:
        with self._lock:
            hosted = self._agents.pop(agent_id, None)
        if hosted is None:
            raise NotFound("agent", agent_id)
        return hosted.state

    def agent(self, agent_id: str) -> AgentState:
        with self._lock:
            return self._hosted(agent_id).state

    def heartbeats(self) -> list[Heartbeat]:
        """One heartbeat per hosted agent, sorted by agent id."""
        with self._lock:
            hosted = sorted(self._agents.items())
        taken_at = self._clock.now()
        now = self._clock.monotonic()
        return [
            Heartbeat(
                state=record.state,
                host=self._host,
                taken_at=taken_at,
                uptime_s=max(0.0, now - record.added_at),
            )
            for _, record in hosted
        ]

    def hosts(self) -> list[HostStatus]:
        """This process, the one host."""
        with self._lock:
            agents = len(self._agents)
        return [HostStatus(self._host, node_name(), os.getpid(), self._started_at, agents,
                           restored=0, checkpoints=0, checkpointed_at=None,
                           rss_bytes=resident_bytes())]

    def execute(self, agent_id: str, job: Job) -> Execution:
        with self._lock:
            hosted = self._hosted(agent_id)
            running = hosted.state.with_load(hosted.state.load + 1)
            hosted.state = running
        try:
            execution = self._executor.run(running, job)
        except BaseException:
            with self._lock:
                if self._agents.get(agent_id) is hosted:
                    hosted.state = hosted.state.with_load(hosted.state.load - 1)
            raise
        learnt_at = execution.state_after.last_task_at
        now = self._clock.now() if learnt_at is None else learnt_at
        with self._lock:
            if self._agents.get(agent_id) is hosted:
                current = hosted.state
                stored = learn(current, execution.lesson, now, self._config.learning)
                stored = stored.with_load(current.load - 1)
                hosted.state = stored
            else:
                # Removed while running: nothing to store; report what it would have learnt.
                stored = execution.state_after.with_load(running.load - 1)
        return replace(execution, state_after=stored)

    def teach(self, agent_id: str, lesson: Lesson) -> AgentState:
        now = self._clock.now()
        with self._lock:
            hosted = self._hosted(agent_id)
            hosted.state = learn(hosted.state, lesson, now, self._config.learning)
            return hosted.state

    def set_roles(self, roles: Mapping[str, RoleProbabilities]) -> None:
        """All or none: an unknown id or a vector off the simplex changes nothing. Only the
        agents named get new roles and an empty success window."""
        for agent_id, probabilities in roles.items():
            _check_simplex(agent_id, probabilities)
        with self._lock:
            records = {agent_id: self._hosted(agent_id) for agent_id in roles}
            for agent_id, record in records.items():
                p = roles[agent_id]
                record.state = replace(
                    record.state,
                    roles=(float(p[0]), float(p[1]), float(p[2])),
                    successes_since_evolution={},
                )

    def record_salient_event(self, agent_id: str) -> AgentState:
        with self._lock:
            hosted = self._hosted(agent_id)
            hosted.state = replace(
                hosted.state, salient_events_logged=hosted.state.salient_events_logged + 1
            )
            return hosted.state

    def _hosted(self, agent_id: str) -> _Hosted:
        hosted = self._agents.get(agent_id)
        if hosted is None:
            raise NotFound("agent", agent_id)
        return hosted


def _check_simplex(agent_id: str, p: RoleProbabilities) -> None:
    if (
        len(p) != 3
        or not all(math.isfinite(q) and q >= 0.0 for q in p)
        or abs(sum(p) - 1.0) > _SIMPLEX_TOLERANCE
    ):
        raise InvalidInput(
            f"roles of agent {agent_id!r} must be 3 non-negative values summing to 1"
        )
