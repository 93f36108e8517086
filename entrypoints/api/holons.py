"""``/holons``: long-term memory records with their graph edges."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import JSONBody, Parameter, PathParameter
from msgspec import Meta

from application.errors import InvalidInput, NotFound
from domain.holon import Edge
from entrypoints.api.context import ServicesDep
from entrypoints.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Pager
from entrypoints.api.problems import problem_responses
from entrypoints.api.schemas import (
    REL_PATTERN,
    EdgeIn,
    HolonIn,
    HolonOut,
    NeighbourOut,
    NeighbourPage,
    RelationIn,
    RelationOut,
    SearchHitOut,
    SearchIn,
    SearchOut,
)

__all__ = ["HolonController"]

NEIGHBOURS: Pager[tuple[int, str]] = Pager("neighbours", tuple[int, str])
HolonId = Annotated[
    str, PathParameter(max_length=64, format="uuid", description="the holon's uuid")
]


def _edge(holon_id: str, edge: EdgeIn) -> Edge:
    if (edge.to is None) == (edge.from_ is None):
        raise InvalidInput("an edge names exactly one of `to` and `from`")
    try:
        if edge.to is not None:
            return Edge(holon_id, edge.rel, str(edge.to))
        return Edge(str(edge.from_), edge.rel, holon_id)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _holon(services: ServicesDep, holon_id: str) -> HolonOut:
    holon = services.memory.get_holon(holon_id)
    if holon is None:
        raise NotFound("holon", holon_id)
    return HolonOut.of(holon)


class HolonController(Controller):
    path = "/holons"
    tags = ("holons",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Create (or replace) a holon with its edges, all or nothing",
        description="Without `uuid` the holon's id derives from its content, so the same "
        "content written twice is one holon. Each edge is `{rel, to}` (from the new holon) or "
        "`{rel, from}` (to it); the other end must exist. 201 when the holon is new, 200 when "
        "it replaced one; a graph failure rolls everything back (503, nothing written).",
        responses={
            200: ResponseSpec(HolonOut, description="An existing holon was replaced.",
                              generate_examples=False),
            **problem_responses(400, 422, 503),
        },
    )
    def create(self, services: ServicesDep, data: JSONBody[HolonIn]) -> Response[HolonOut]:
        memory = services.memory
        holon = memory.make_holon(data.content, data.kind, data.meta,
                                  None if data.uuid is None else str(data.uuid))
        edges = [_edge(holon.uuid, e) for e in data.edges]
        for edge in edges:
            other = edge.dst if edge.src == holon.uuid else edge.src
            if other != holon.uuid and memory.get_holon(other) is None:
                raise InvalidInput(f"holon {other!r} does not exist")
        existed = memory.get_holon(holon.uuid) is not None
        memory.remember([holon], edges)
        return Response(HolonOut.of(holon), status_code=200 if existed else 201,
                        headers={"Location": f"/api/v1/holons/{holon.uuid}"})

    @get(
        "/{holon_id:str}",
        sync_to_thread=True,
        summary="Get a holon by uuid",
        responses=problem_responses(400, 404, 422, 503),
    )
    def get_holon(self, services: ServicesDep, holon_id: HolonId) -> HolonOut:
        return _holon(services, holon_id)

    @post(
        "/search",
        status_code=200,
        sync_to_thread=True,
        summary="The k holons most similar to a text, optionally of one kind and meta",
        responses=problem_responses(400, 422, 503),
    )
    def search(self, services: ServicesDep, data: JSONBody[SearchIn]) -> SearchOut:
        hits = services.memory.search(data.text, data.k, data.kind, data.meta)
        return SearchOut([SearchHitOut.of(hit) for hit in hits])

    @post(
        "/relations",
        sync_to_thread=True,
        summary="Relate two existing holons (a repeated edge is merged)",
        responses=problem_responses(400, 422, 503),
    )
    def relate(self, services: ServicesDep, data: JSONBody[RelationIn]) -> Response[RelationOut]:
        try:
            edge = Edge(str(data.src), data.rel, str(data.dst))
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        services.memory.relate([edge])
        return Response(RelationOut(edge.src, edge.rel, edge.dst), status_code=201)

    @get(
        "/{holon_id:str}/neighbours",
        sync_to_thread=True,
        summary="Holons within `depth` hops in either direction, by (depth, uuid)",
        description="`rel` (repeatable) keeps only edges of those types; each neighbour "
        "appears once, at its smallest depth, with the type of the edge that reached it.",
        responses=problem_responses(400, 404, 422, 503),
    )
    def neighbours(
        self,
        services: ServicesDep,
        holon_id: HolonId,
        depth: Annotated[int, Parameter(ge=1, le=5, description="hops (1-5)")] = 1,
        rel: Annotated[
            list[Annotated[str, Meta(pattern=REL_PATTERN)]] | None,
            Parameter(description="relationship types to follow (repeatable)", max_items=32,
                      schema_extra={"items": Schema(type=OpenAPIType.STRING,
                                                    pattern=REL_PATTERN)}),
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
        cursor: Cursor = None,
    ) -> NeighbourPage:
        _holon(services, holon_id)
        found = services.memory.neighbours(holon_id, depth, rel or None)
        items, next_cursor = NEIGHBOURS.page(found, lambda n: (n.depth, n.uuid), limit, cursor)
        return NeighbourPage([NeighbourOut.of(n) for n in items], next_cursor)

    @delete(
        "/{holon_id:str}",
        sync_to_thread=True,
        summary="Delete a holon, its node and its edges (and nothing else)",
        responses=problem_responses(400, 404, 422, 503),
    )
    def delete_holon(self, services: ServicesDep, holon_id: HolonId) -> None:
        if not services.memory.forget(holon_id):
            raise NotFound("holon", holon_id)
