"""Agent runtime port: where agents live and run (in-process, or organ actors on Ray)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from application.jobs import Execution, Job
from domain.agent import AgentState, Heartbeat, Lesson
from domain.roles import RoleProbabilities

__all__ = ["AgentRuntime", "HostStatus"]


@dataclass(frozen=True, slots=True)
class HostStatus:
    """What one host (an organ actor, or the process itself) reports about itself. ``name`` is
    what the heartbeats of its agents carry as their host."""

    name: str
    node: str  # the machine it runs on
    pid: int
    started_at: float  # wall-clock time this process began to host it
    agents: int
    restored: int  # agents loaded from a checkpoint when it (re)started
    checkpoints: int  # checkpoints saved since it started
    checkpointed_at: float | None
    rss_bytes: int | None  # resident memory of its process, when it can be read


class AgentRuntime(Protocol):
    """Hosts many agents; every method is safe to call from several threads at once.
    Unknown agent ids raise ``application.errors.NotFound``."""

    def add_agents(self, agents: Sequence[AgentState]) -> dict[str, str]:
        """Host new agents, all or none; an id already hosted raises ``Conflict``. Returns
        each agent's host (the name its heartbeats will carry)."""
        ...

    def remove_agent(self, agent_id: str) -> AgentState:
        """Stop hosting an agent and return its last state."""
        ...

    def agent(self, agent_id: str) -> AgentState:
        ...

    def heartbeats(self) -> list[Heartbeat]:
        """A fresh heartbeat of every hosted agent; its ``host`` names a :meth:`hosts` entry."""
        ...

    def hosts(self) -> list[HostStatus]:
        """Every host of the runtime, sorted by name (placement, liveness, memory)."""
        ...

    def execute(self, agent_id: str, job: Job) -> Execution:
        """Run the job on the agent: its load counts the job while it runs, the agent learns
        from the result, and the execution carries its state before and after."""
        ...

    def teach(self, agent_id: str, lesson: Lesson) -> AgentState:
        """Apply a lesson to an agent that took part in a team task without leading it."""
        ...

    def set_roles(self, roles: Mapping[str, RoleProbabilities]) -> None:
        """Replace role probabilities after role evolution and clear each agent's success
        window."""
        ...

    def record_salient_event(self, agent_id: str) -> AgentState:
        """Add one to the agent's ``salient_events_logged``."""
        ...
