"""``/energy``: the system energy now, its attribution, the ledger and consumption budgets."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, delete, get, put
from litestar.params import JSONBody, Parameter, QueryParameter

from application.errors import NotFound
from domain.ledger import Scope
from entrypoints.api.context import ServicesDep
from entrypoints.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, Cursor, Limit, Pager
from entrypoints.api.problems import problem_responses
from entrypoints.api.schemas import (
    AgentEnergyOut,
    AttributionOut,
    BudgetIn,
    BudgetOut,
    BudgetPage,
    EnergyOut,
    EnergyTermsOut,
    LedgerEntryOut,
    LedgerPage,
    OrganEnergyOut,
)

__all__ = ["EnergyController"]

AGENTS: Pager[str] = Pager("energy-agents", str)
LEDGER: Pager[int] = Pager("ledger", int)
BUDGETS: Pager[tuple[str, str]] = Pager("budgets", tuple[str, str])

BudgetScope = Annotated[Literal["agent", "organ"], Parameter(description="agent or organ")]
ScopeId = Annotated[str, Parameter(max_length=128, description="the agent's or organ's id")]


class EnergyController(Controller):
    path = "/energy"
    tags = ("energy",)

    @get(
        "/",
        sync_to_thread=True,
        summary="The system energy now: its five terms and their total",
        responses=problem_responses(503),
    )
    def current(self, services: ServicesDep) -> EnergyOut:
        terms, _ = services.energy.current()
        return EnergyOut(EnergyTermsOut.of(terms), terms.total)

    @get(
        "/attribution",
        sync_to_thread=True,
        summary="The energy attributed to each organ (all) and each agent (paginated)",
        responses=problem_responses(400, 422, 503),
    )
    def attribution(
        self, services: ServicesDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> AttributionOut:
        report = services.energy.attribution()
        organs = [
            OrganEnergyOut(organ_id, energy, report.hyper_per_organ.get(organ_id, 0.0))
            for organ_id, energy in sorted(report.per_organ.items())
        ]
        agents, next_cursor = AGENTS.page(
            sorted(report.per_agent.items()), lambda item: item[0], limit, cursor
        )
        return AttributionOut(
            total=report.terms.total,
            organs=organs,
            items=[AgentEnergyOut(agent_id, energy) for agent_id, energy in agents],
            next_cursor=next_cursor,
        )

    @get(
        "/ledger",
        sync_to_thread=True,
        summary="Energy ledger transactions in append order, optionally of one scope",
        description="`d_e` always equals `total_after - total_before`; replaying a scope's "
        "transactions from zero gives its balance.",
        responses=problem_responses(400, 422, 503),
    )
    def ledger_entries(
        self,
        services: ServicesDep,
        scope_filter: Annotated[
            Literal["cluster", "organ", "agent"] | None,
            QueryParameter(name="scope", description="only this scope"),
        ] = None,
        scope_id: Annotated[str | None, Parameter(max_length=128)] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> LedgerPage:
        energy = services.energy
        after = LEDGER.decode(cursor) or 0
        scope = None if scope_filter is None else Scope(scope_filter)
        # One more than the page tells whether a next page exists; the service serves at most
        # MAX_LIMIT, so a full page of MAX_LIMIT asks for one more entry separately.
        fetched = energy.transactions(min(limit + 1, MAX_LIMIT), after, scope, scope_id)
        next_cursor = LEDGER.next_cursor(fetched, lambda entry: entry[0], limit)
        if next_cursor is None and len(fetched) == limit == MAX_LIMIT and energy.transactions(
            1, fetched[-1][0], scope, scope_id
        ):
            next_cursor = LEDGER.encode(fetched[-1][0])
        return LedgerPage([LedgerEntryOut.of(seq, tx) for seq, tx in fetched], next_cursor)

    @get(
        "/budgets",
        sync_to_thread=True,
        summary="Consumption of every agent and organ in the rolling window, with budgets",
        responses=problem_responses(400, 422),
    )
    def budgets(
        self, services: ServicesDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> BudgetPage:
        usage = services.budgets.usage(services.clock.now())
        items, next_cursor = BUDGETS.page(usage, lambda u: (u.scope, u.scope_id), limit, cursor)
        return BudgetPage([BudgetOut.of(u) for u in items], next_cursor)

    @put(
        "/budgets/{scope_type:str}/{scope_id:str}",
        sync_to_thread=True,
        summary="Set the budget of an agent or organ (joules per rolling window)",
        responses=problem_responses(400, 404, 422),
    )
    def set_budget(
        self,
        services: ServicesDep,
        scope_type: BudgetScope,
        scope_id: ScopeId,
        data: JSONBody[BudgetIn],
    ) -> BudgetOut:
        if scope_type == "agent":
            services.tier0.agent(scope_id)
        else:
            services.tier0.organ(scope_id)
        services.budgets.set_budget(scope_type, scope_id, data.joules)
        return _usage(services, scope_type, scope_id)

    @delete(
        "/budgets/{scope_type:str}/{scope_id:str}",
        sync_to_thread=True,
        summary="Remove the budget of an agent or organ",
        responses=problem_responses(400, 404, 422),
    )
    def remove_budget(
        self, services: ServicesDep, scope_type: BudgetScope, scope_id: ScopeId
    ) -> None:
        if (scope_type, scope_id) not in services.budgets.budgets():
            raise NotFound("budget", f"{scope_type}/{scope_id}")
        services.budgets.set_budget(scope_type, scope_id, None)


def _usage(services: ServicesDep, scope: str, scope_id: str) -> BudgetOut:
    for usage in services.budgets.usage(services.clock.now()):
        if (usage.scope, usage.scope_id) == (scope, scope_id):
            return BudgetOut.of(usage)
    raise NotFound("budget", f"{scope}/{scope_id}")  # removed concurrently
