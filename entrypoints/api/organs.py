"""``/organs``: create, list and get organs."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, Parameter

from entrypoints.api.context import ServicesDep
from entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Pager
from entrypoints.api.problems import problem_responses
from entrypoints.api.schemas import OrganIn, OrganOut, OrganPage

__all__ = ["OrganController"]

PAGER: Pager[str] = Pager("organs", str)
OrganId = Annotated[str, Parameter(max_length=128, description="the organ's id")]


class OrganController(Controller):
    path = "/organs"
    tags = ("organs",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Create an organ",
        responses=problem_responses(400, 409, 422),
    )
    def create(self, services: ServicesDep, data: JSONBody[OrganIn]) -> Response[OrganOut]:
        organ = services.tier0.create_organ(data.organ_id, data.organ_type)
        return Response(OrganOut.of(organ), status_code=201,
                        headers={"Location": f"/api/v1/organs/{organ.organ_id}"})

    @get(
        "/",
        sync_to_thread=True,
        summary="List organs (by organ id)",
        responses=problem_responses(400, 422),
    )
    def list_organs(
        self, services: ServicesDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
    ) -> OrganPage:
        organs, next_cursor = PAGER.page(
            services.tier0.organs(), lambda o: o.organ_id, limit, cursor
        )
        return OrganPage([OrganOut.of(o) for o in organs], next_cursor)

    @get(
        "/{organ_id:str}",
        sync_to_thread=True,
        summary="Get an organ",
        responses=problem_responses(400, 404, 422),
    )
    def get_organ(self, services: ServicesDep, organ_id: OrganId) -> OrganOut:
        return OrganOut.of(services.tier0.organ(organ_id))
