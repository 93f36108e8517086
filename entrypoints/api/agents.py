"""``/agents``: create in batches, list (optionally by organ), get, heartbeat, delete."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.params import JSONBody, Parameter

from application.tier0 import AgentSpec
from entrypoints.api.context import ServicesDep
from entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Pager
from entrypoints.api.problems import problem_responses
from entrypoints.api.schemas import (
    AgentBatchIn,
    AgentBatchOut,
    AgentOut,
    AgentPage,
    HeartbeatOut,
)

__all__ = ["AgentController"]

PAGER: Pager[str] = Pager("agents", str)
AgentId = Annotated[str, Parameter(max_length=128, description="the agent's id")]


class AgentController(Controller):
    path = "/agents"
    tags = ("agents",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Create a batch of agents, all or none",
        description="Each agent joins an existing organ; without `agent_id` the server names "
        "it `<organ id>-<12 hex digits>`. A batch holds 1 to 1000 agents.",
        responses=problem_responses(400, 404, 409, 422, 503),
    )
    def create(
        self, services: ServicesDep, data: JSONBody[AgentBatchIn]
    ) -> Response[AgentBatchOut]:
        specs = [AgentSpec(a.organ_id, a.agent_id, a.capacity) for a in data.agents]
        states = services.tier0.create_agents(specs)
        return Response(AgentBatchOut([AgentOut.of(s) for s in states]), status_code=201)

    @get(
        "/",
        sync_to_thread=True,
        summary="List agents (by agent id), optionally of one organ",
        responses=problem_responses(400, 404, 422),
    )
    def list_agents(
        self,
        services: ServicesDep,
        organ_id: Annotated[str | None, Parameter(max_length=128)] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> AgentPage:
        tier0 = services.tier0
        if organ_id is not None:
            tier0.organ(organ_id)  # 404 for an unknown organ rather than an empty list
        agents, next_cursor = PAGER.page(
            tier0.agents(organ_id), lambda a: a.agent_id, limit, cursor
        )
        return AgentPage([AgentOut.of(a) for a in agents], next_cursor)

    @get(
        "/{agent_id:str}",
        sync_to_thread=True,
        summary="Get an agent's last known state",
        responses=problem_responses(400, 404, 422),
    )
    def get_agent(self, services: ServicesDep, agent_id: AgentId) -> AgentOut:
        return AgentOut.of(services.tier0.agent(agent_id))

    @get(
        "/{agent_id:str}/heartbeat",
        sync_to_thread=True,
        summary="A fresh heartbeat of an agent, from the runtime that hosts it",
        description="The full state, the state embedding `h` included, with the host, the "
        "uptime and the agent's consumption in the current budget window.",
        responses=problem_responses(400, 404, 422, 503),
    )
    def heartbeat(self, services: ServicesDep, agent_id: AgentId) -> HeartbeatOut:
        services.tier0.agent(agent_id)
        return HeartbeatOut.of(services.tier0.heartbeat(agent_id))

    @delete(
        "/{agent_id:str}",
        sync_to_thread=True,
        summary="Delete an agent",
        description="409 while the agent is running a task.",
        responses=problem_responses(400, 404, 409, 422, 503),
    )
    def delete_agent(self, services: ServicesDep, agent_id: AgentId) -> None:
        services.tier0.delete_agent(agent_id)
