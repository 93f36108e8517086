"""``/incidents``: flashbulb incidents (high-salience failures), kept forever."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, Parameter

from entrypoints.api.context import ServicesDep
from entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Pager
from entrypoints.api.problems import problem_responses
from entrypoints.api.schemas import (
    IncidentIn,
    IncidentOut,
    IncidentPage,
    IncidentStatsOut,
)

__all__ = ["IncidentController"]

PAGER: Pager[tuple[float, str]] = Pager("incidents", tuple[float, str])
#: Unix time in seconds, bounded so that nothing infinite reaches a backend.
Timestamp = Annotated[
    float | None,
    Parameter(ge=0.0, le=1e11, schema_extra={"minimum": 0.0}, description="Unix time, seconds"),
]
IncidentId = Annotated[str, Parameter(max_length=128, description="the incident's id")]


class IncidentController(Controller):
    path = "/incidents"
    tags = ("incidents",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Record an incident reported from outside",
        description="Failed high-salience tasks log their incidents themselves; this is for "
        "operators and other services. `salience` must be within [0, 1].",
        responses=problem_responses(400, 422, 503),
    )
    def create(self, services: ServicesDep, data: JSONBody[IncidentIn]) -> Response[IncidentOut]:
        incident = services.incidents.create(data.agent_id, data.organ_id, data.salience,
                                             data.task, data.error, data.snapshot)
        return Response(IncidentOut.of(incident), status_code=201,
                        headers={"Location": f"/api/v1/incidents/{incident.incident_id}"})

    @get(
        "/",
        sync_to_thread=True,
        summary="Incidents by time, within a time range and above a salience",
        description="`start` and `end` are Unix times in seconds (inclusive; defaults: from "
        "the beginning to now); `min_salience` defaults to the flashbulb threshold (0.7).",
        responses=problem_responses(400, 422, 503),
    )
    def query(
        self,
        services: ServicesDep,
        start: Timestamp = None,
        end: Timestamp = None,
        min_salience: Annotated[
            float | None,
            Parameter(ge=0.0, le=1.0, schema_extra={"minimum": 0.0},
                      description="the least salience (default 0.7)"),
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> IncidentPage:
        page = services.incidents.query(start, end, min_salience, limit, PAGER.decode(cursor))
        next_cursor = None if page.next_cursor is None else PAGER.encode(page.next_cursor)
        return IncidentPage([IncidentOut.of(i) for i in page.items], next_cursor)

    @get(
        "/stats",
        sync_to_thread=True,
        summary="How many incidents, how many in the last 24 h, and their mean salience",
        responses=problem_responses(503),
    )
    def stats(self, services: ServicesDep) -> IncidentStatsOut:
        return IncidentStatsOut.of(services.incidents.stats())

    @get(
        "/{incident_id:str}",
        sync_to_thread=True,
        summary="Get an incident",
        responses=problem_responses(400, 404, 422, 503),
    )
    def get_incident(self, services: ServicesDep, incident_id: IncidentId) -> IncidentOut:
        return IncidentOut.of(services.incidents.get(incident_id))
