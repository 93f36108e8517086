"""``/runtime/hosts``: where the agents run (organ actors, or the process itself)."""

from __future__ import annotations

from litestar import Controller, get
from msgspec import Struct

from application.ports.agent_runtime import HostStatus
from entrypoints.api.context import ServicesDep
from entrypoints.api.problems import problem_responses

__all__ = ["HostOut", "HostsOut", "RuntimeController"]


class HostOut(Struct):
    """One host: an organ actor (``<namespace>/organ:<organ id>:<shard>``) or ``inprocess``."""

    name: str
    node: str
    pid: int
    started_at: float
    agents: int
    restored: int  # agents restored from a checkpoint when it (re)started
    checkpoints: int  # checkpoints saved since it started
    checkpointed_at: float | None
    rss_bytes: int | None

    @staticmethod
    def of(host: HostStatus) -> HostOut:
        return HostOut(host.name, host.node, host.pid, host.started_at, host.agents,
                       host.restored, host.checkpoints, host.checkpointed_at, host.rss_bytes)


class HostsOut(Struct):
    hosts: list[HostOut]
    agents: int


class RuntimeController(Controller):
    path = "/runtime"
    tags = ("runtime",)

    @get(
        "/hosts",
        sync_to_thread=True,
        summary="Every host of the agent runtime, with its agents, memory and checkpoints",
        responses=problem_responses(503),
    )
    def hosts(self, services: ServicesDep) -> HostsOut:
        hosts = services.tier0.hosts()
        return HostsOut([HostOut.of(h) for h in hosts], sum(h.agents for h in hosts))
