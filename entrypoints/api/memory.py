"""``/memory``: working-memory items by namespace and key, and hit/miss statistics."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, put
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, Parameter

from application.errors import NotFound
from entrypoints.api.context import ServicesDep
from entrypoints.api.problems import problem_responses
from entrypoints.api.schemas import (
    KEY_PATTERN,
    NAMESPACE_PATTERN,
    ItemIn,
    ItemOut,
    MemoryStatsOut,
    MissesOut,
    NamespaceStatsOut,
)

__all__ = ["MemoryController"]

Namespace = Annotated[
    str, Parameter(pattern=NAMESPACE_PATTERN, description="`global` or `organ:<organ id>`")
]
Key = Annotated[str, Parameter(pattern=KEY_PATTERN, description="the item's key")]


def _item(services: ServicesDep, namespace: str, key: str, value: bytes) -> ItemOut:
    ttl = services.memory.working.ttl(namespace, key)
    return ItemOut(namespace, key, value.decode("utf-8", errors="replace"), ttl)


class MemoryController(Controller):
    path = "/memory"
    tags = ("working memory",)

    @get(
        "/stats",
        sync_to_thread=True,
        summary="Hits, misses, hit rate, items and bytes of each namespace",
        description="Also the exact Mlt lookups served by this process and the reads that "
        "fell through a working memory that was down. Reading these figures counts nothing.",
        responses=problem_responses(400, 422, 503),
    )
    def stats(
        self,
        services: ServicesDep,
        namespace: Annotated[
            list[str] | None,
            Parameter(description="only these namespaces (repeatable)", max_items=100),
        ] = None,
    ) -> MemoryStatsOut:
        memory = services.memory
        stats = memory.stats(namespace)
        return MemoryStatsOut(
            namespaces=[NamespaceStatsOut.of(s) for s in stats],
            mlt_lookups=memory.mlt_lookups,
            promotion_reads=memory.promotion_reads,
            degraded_reads=memory.degraded_reads,
            ttl_s=memory.policy.mw_ttl_s,
            hot_miss_period_s=services.config.loops.hot_miss_s,
        )

    @get(
        "/misses",
        sync_to_thread=True,
        summary="Miss counts of facts that missed every working-memory namespace",
        description="What the hot-miss observer reads: a fact missed `miss_threshold` times "
        "within the miss window is promoted to the global namespace. Reading counts nothing.",
        responses=problem_responses(400, 422, 503),
    )
    def misses(
        self,
        services: ServicesDep,
        key: Annotated[
            list[str],
            Parameter(description="fact ids (holon uuids), repeatable", min_items=1,
                      max_items=100),
        ],
    ) -> MissesOut:
        memory = services.memory
        return MissesOut(dict(memory.item_misses(key)), memory.promotion_reads_of(key))

    @put(
        "/{namespace:str}/{key:str}",
        sync_to_thread=True,
        summary="Write an item (201 when new, 200 when replaced)",
        description="`ttl_s` defaults to the configured working-memory TTL. A `durable` item is "
        "also queued for consolidation into long-term memory, with its `surprise` and the "
        "holon it derives from (`source`).",
        responses={
            201: ResponseSpec(ItemOut, description="The item was created.",
                              generate_examples=False),
            **problem_responses(400, 422, 503),
        },
    )
    def put_item(
        self, services: ServicesDep, namespace: Namespace, key: Key, data: JSONBody[ItemIn]
    ) -> Response[ItemOut]:
        memory = services.memory
        existed = memory.working.contains_many(namespace, [key])[0]
        value = data.value.encode("utf-8")
        memory.put(namespace, key, value, data.ttl_s, data.durable, data.surprise,
                   None if data.source is None else str(data.source))
        return Response(_item(services, namespace, key, value),
                        status_code=200 if existed else 201)

    @get(
        "/{namespace:str}/{key:str}",
        sync_to_thread=True,
        summary="Read an item (counts one hit or one miss in the namespace)",
        responses=problem_responses(400, 404, 422, 503),
    )
    def get_item(self, services: ServicesDep, namespace: Namespace, key: Key) -> ItemOut:
        value = services.memory.working.get(namespace, key)
        if value is None:
            raise NotFound("item", f"{namespace}/{key}")
        return _item(services, namespace, key, value)

    @delete(
        "/{namespace:str}/{key:str}",
        sync_to_thread=True,
        summary="Delete an item",
        responses=problem_responses(400, 404, 422, 503),
    )
    def delete_item(self, services: ServicesDep, namespace: Namespace, key: Key) -> None:
        if not services.memory.working.delete(namespace, key):
            raise NotFound("item", f"{namespace}/{key}")
