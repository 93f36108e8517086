"""Memory use cases: the fact read path, remembering and forgetting holons, working memory,
consolidation (Mw → Mlt) and hot-miss promotion (Mlt → global Mw)."""

from __future__ import annotations

import contextlib
import threading
import uuid as uuidlib
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from application.errors import BackendUnavailable, InvalidInput, WriteFailed
from application.ports.clock import Clock
from application.ports.consolidation_queue import ConsolidationQueue, PendingItem
from application.ports.embedder import Embedder
from application.ports.holon_graph import HolonGraph, Neighbour
from application.ports.holon_store import HolonStore, SimilarHolon
from application.ports.metrics import Metrics
from application.ports.working_memory import NamespaceStats, WorkingMemory
from domain.config import MemoryPolicy
from domain.consumption import Op
from domain.holon import Edge, Holon, content_hash, holon_uuid
from domain.memory import (
    GLOBAL_NAMESPACE,
    Tier,
    consolidation_priority,
    decide_read,
    promotion_candidates,
    read_path,
    validate_key,
    validate_namespace,
)

__all__ = [
    "ConsolidationReport",
    "FactRead",
    "FactReader",
    "MemoryService",
    "PromotionReport",
]

DERIVED_FROM = "DERIVED_FROM"
_TRACKED_ITEMS = 10_000  # promotion reads are kept for this many recent items


@dataclass(frozen=True, slots=True)
class FactRead:
    """One fact lookup: its content (None when unknown), where it was found, what it cost."""

    fact_id: str
    content: str | None
    found_in: str | None
    ops: Mapping[Op, int]
    degraded: bool = False

    @property
    def from_working_memory(self) -> bool:
        return self.found_in is not None and self.found_in != Tier.MLT.value


class FactReader(Protocol):
    def read_fact(self, fact_id: str, organ_ids: Sequence[str]) -> FactRead:
        """Organ Mw (each given organ) → global Mw → Mlt by exact uuid, with cache-back."""
        ...


@dataclass(frozen=True, slots=True)
class ConsolidationReport:
    consolidated: int
    remaining: int
    priorities: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class PromotionReport:
    promoted: tuple[str, ...]
    skipped: tuple[str, ...]


@dataclass(slots=True)
class _Counters:
    mlt_lookups: int = 0
    promotion_reads: int = 0
    degraded_reads: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuidlib.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(f"{what} {value!r} is not a uuid") from None


class MemoryService:
    """The organism's shared memory across Mw, Mlt (vectors and graph) and the queue."""

    def __init__(
        self,
        working: WorkingMemory,
        holons: HolonStore,
        graph: HolonGraph,
        queue: ConsolidationQueue,
        embedder: Embedder,
        clock: Clock,
        metrics: Metrics,
        policy: MemoryPolicy,
    ) -> None:
        self.working = working
        self.holons = holons
        self.graph = graph
        self.queue = queue
        self.embedder = embedder
        self._clock = clock
        self._metrics = metrics
        self.policy = policy
        self._counters = _Counters()
        self._last_promoted: dict[str, float] = {}
        self._reads_by_item: OrderedDict[str, int] = OrderedDict()
        self._promotion_lock = threading.Lock()

    # -- the read path -------------------------------------------------------------------

    @property
    def mlt_lookups(self) -> int:
        """Exact Mlt lookups the read path made here and, counted by
        :meth:`count_reads_elsewhere`, in the processes that ran this process's tasks."""
        return self._counters.mlt_lookups

    @property
    def promotion_reads(self) -> int:
        """Exact Mlt lookups the hot-miss observer made in this process."""
        return self._counters.promotion_reads

    @property
    def degraded_reads(self) -> int:
        return self._counters.degraded_reads

    def count_reads_elsewhere(self, memory_events: Mapping[str, int]) -> None:
        """Count the Mlt lookups a task made in another process (an organ actor runs the read
        path with a memory service of its own), so that this process's figures are the
        organism's. Hit and miss counts need nothing: the shared working memory keeps them."""
        lookups = memory_events.get(Op.MLT_READ.value, 0)
        if lookups:
            with self._counters.lock:
                self._counters.mlt_lookups += lookups

    def _mlt_get(self, fact_id: str, for_promotion: bool = False) -> Holon | None:
        with self._counters.lock:
            if for_promotion:
                self._counters.promotion_reads += 1
            else:
                self._counters.mlt_lookups += 1
        return self.holons.get(fact_id)

    def read_fact(self, fact_id: str, organ_ids: Sequence[str]) -> FactRead:
        fact_id = _uuid(fact_id, "fact id")
        path = read_path(organ_ids)
        ops: Counter[Op] = Counter()
        ttl = self.policy.mw_ttl_s
        degraded = False
        for namespace in path:
            try:
                value = self.working.get(namespace, fact_id, renew_for=ttl)
            except BackendUnavailable:
                degraded = True
                break
            ops[Op.MW_READ] += 1
            tier = "global" if namespace == GLOBAL_NAMESPACE else "organ"
            self._metrics.memory_access(tier, value is not None)
            if value is not None:
                return FactRead(fact_id, value.decode("utf-8"), namespace, dict(ops))
        if degraded:
            with self._counters.lock:
                self._counters.degraded_reads += 1
            self._metrics.degraded_read("working_memory")
        holon = self._mlt_get(fact_id)
        ops[Op.MLT_READ] += 1
        self._metrics.memory_access("mlt", holon is not None)
        decision = decide_read(path, None, holon is not None)
        if decision.count_item_miss and not degraded:
            self.working.record_item_miss(fact_id)
        if holon is not None and decision.cache_back_to is not None and not degraded:
            try:
                self.working.set(
                    decision.cache_back_to, fact_id, holon.content.encode("utf-8"), ttl
                )
                ops[Op.MW_WRITE] += 1
            except BackendUnavailable:
                self._metrics.degraded_read("working_memory")
        return FactRead(
            fact_id,
            None if holon is None else holon.content,
            decision.found_in,
            dict(ops),
            degraded,
        )

    def cached_fraction(self, organ_id: str, fact_ids: Sequence[str]) -> float:
        """Share of the facts present in one organ's working memory (one round trip; counts
        nothing). 0 when there are no facts or working memory is down."""
        if not fact_ids:
            return 0.0
        try:
            present = self.working.contains_many(f"organ:{organ_id}", list(fact_ids))
        except BackendUnavailable:
            return 0.0
        return sum(present) / len(fact_ids)

    # -- holons --------------------------------------------------------------------------

    def make_holon(
        self,
        content: str,
        kind: str,
        meta: Mapping[str, Any] | None = None,
        holon_id: str | None = None,
        embedding: npt.NDArray[np.float64] | None = None,
    ) -> Holon:
        """A holon value: content-derived uuid unless one is given; embedding from content."""
        digest = content_hash(content)
        now = self._clock.now()
        vector = self.embedder.embed(content) if embedding is None else embedding
        if vector.shape != (self.embedder.dim,):
            raise InvalidInput(f"embedding must have {self.embedder.dim} dimensions")
        try:
            return Holon(
                uuid=holon_uuid(digest) if holon_id is None else _uuid(holon_id, "holon id"),
                kind=kind,
                content=content,
                embedding=vector,
                meta=dict(meta or {}),
                content_hash=digest,
                created_at=now,
                updated_at=now,
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None

    def remember(self, holons: Sequence[Holon], edges: Sequence[Edge] = ()) -> None:
        """Write holons and edges all-or-nothing across the vector store and the graph.

        The graph cannot be trusted to roll back (the Bolt stand-in has no transactions), so a
        graph failure is compensated: rows this call created are deleted, rows it replaced are
        restored, and nodes it created are removed.
        """
        if not holons and not edges:
            return
        previous = {h.uuid: self.holons.get(h.uuid) for h in holons}
        self.holons.upsert(holons)
        ends = {e.src for e in edges} | {e.dst for e in edges}
        node_ids = sorted({h.uuid for h in holons} | ends)
        existed: dict[str, bool] = {}
        try:
            existed = {node: self.graph.has_node(node) for node in node_ids}
            self.graph.merge_nodes(node_ids)
            self.graph.relate(edges)
        except BackendUnavailable as failure:
            self._compensate(previous, existed)
            raise WriteFailed("graph", failure.reason) from failure

    def _compensate(
        self, previous: Mapping[str, Holon | None], existed: Mapping[str, bool]
    ) -> None:
        restore = [h for h in previous.values() if h is not None]
        for holon_id, before in previous.items():
            if before is None:
                self.holons.delete(holon_id)
        if restore:
            self.holons.upsert(restore)
        for node, was_there in existed.items():
            if not was_there:
                # If the graph is down it keeps at most a node without a row, which the next
                # write of the same uuid merges; the vector store is left with no orphan row.
                with contextlib.suppress(BackendUnavailable):
                    self.graph.delete_node(node)

    def get_holon(self, holon_id: str) -> Holon | None:
        return self.holons.get(_uuid(holon_id, "holon id"))

    def search(
        self, text: str, k: int, kind: str | None = None, meta: Mapping[str, str] | None = None
    ) -> list[SimilarHolon]:
        if not 1 <= k <= 1000:
            raise InvalidInput("k must be within [1, 1000]")
        return self.holons.search(self.embedder.embed(text), k, kind, meta)

    def relate(self, edges: Sequence[Edge]) -> None:
        for edge in edges:
            for end in (edge.src, edge.dst):
                if self.holons.get(end) is None:
                    raise InvalidInput(f"holon {end!r} does not exist")
        self.graph.relate(edges)

    def neighbours(
        self, holon_id: str, depth: int, rel_types: Sequence[str] | None = None
    ) -> list[Neighbour]:
        if not 1 <= depth <= 5:
            raise InvalidInput("depth must be within [1, 5]")
        return self.graph.neighbours(_uuid(holon_id, "holon id"), depth, rel_types)

    def forget(self, holon_id: str) -> bool:
        """Remove the holon's row, node and edges, and nothing else."""
        holon_id = _uuid(holon_id, "holon id")
        removed_row = self.holons.delete(holon_id)
        removed_node = self.graph.delete_node(holon_id)
        return removed_row or removed_node

    # -- working memory ------------------------------------------------------------------

    def put(
        self,
        namespace: str,
        key: str,
        value: bytes,
        ttl_s: float | None = None,
        durable: bool = False,
        surprise: float = 0.0,
        source: str | None = None,
    ) -> None:
        """Write an item; a durable one is also queued for consolidation into Mlt."""
        validate_namespace(namespace)
        validate_key(key)
        ttl = self.policy.mw_ttl_s if ttl_s is None else ttl_s
        if ttl <= 0:
            raise InvalidInput("ttl_s must be positive")
        self.working.set(namespace, key, value, ttl)
        if durable:
            try:
                content = value.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput("a durable item must be UTF-8 text") from None
            self.queue.enqueue(
                PendingItem(
                    item_id=f"{namespace}/{key}",
                    content=content,
                    kind="consolidated",
                    surprise=max(0.0, surprise),
                    written_at=self._clock.now(),
                    source=None if source is None else _uuid(source, "source"),
                    meta={"namespace": namespace, "key": key},
                ),
                self.policy.consolidation_kappa,
            )

    def stats(self, namespaces: Sequence[str] | None = None) -> list[NamespaceStats]:
        names = self.working.namespaces() if namespaces is None else list(namespaces)
        return [self.working.stats(validate_namespace(n)) for n in names]

    # -- control loops -------------------------------------------------------------------

    def consolidate(self) -> ConsolidationReport:
        """Write one batch of the queue to Mlt; items leave the queue only once Mlt has them.
        The uuid derives from the content, so a retried batch creates no duplicates."""
        batch = self.queue.peek(self.policy.consolidation_batch)
        if not batch:
            return ConsolidationReport(0, 0)
        now = self._clock.now()
        holons = [
            self.make_holon(item.content, item.kind, {**item.meta, "item_id": item.item_id})
            for item in batch
        ]
        edges = [
            Edge(h.uuid, DERIVED_FROM, item.source)
            for h, item in zip(holons, batch, strict=True)
            if item.source is not None
        ]
        self.remember(holons, edges)
        self.queue.ack([item.item_id for item in batch])
        priorities = tuple(
            consolidation_priority(item.surprise, now - item.written_at,
                                   self.policy.consolidation_kappa)
            for item in batch
        )
        return ConsolidationReport(len(batch), self.queue.size(), priorities)

    def promote_hot_misses(self) -> PromotionReport:
        """Copy items missed at least ``miss_threshold`` times from Mlt into global Mw, each at
        most once per TTL window. Items absent from Mlt are skipped (and retried only in the
        next window, so a missing item costs one Mlt read per window, not one per cycle)."""
        with self._promotion_lock:
            now = self._clock.now()
            ttl = self.policy.mw_ttl_s
            due = promotion_candidates(
                self.working.item_misses(), self._last_promoted, now, ttl,
                self.policy.miss_threshold,
            )
            promoted: list[str] = []
            skipped: list[str] = []
            for item in due:
                self._last_promoted[item] = now
                self._reads_by_item[item] = self._reads_by_item.pop(item, 0) + 1
                while len(self._reads_by_item) > _TRACKED_ITEMS:
                    self._reads_by_item.popitem(last=False)
                holon = self._mlt_get(item, for_promotion=True)
                if holon is None:
                    skipped.append(item)
                    continue
                self.working.set(GLOBAL_NAMESPACE, item, holon.content.encode("utf-8"), ttl)
                promoted.append(item)
            return PromotionReport(tuple(promoted), tuple(skipped))

    def promotion_reads_of(self, fact_ids: Sequence[str]) -> dict[str, int]:
        """How many times the observer read each fact from Mlt (recent items only)."""
        with self._promotion_lock:
            return {f: self._reads_by_item.get(f, 0) for f in fact_ids}

    def item_misses(self, fact_ids: Sequence[str]) -> Mapping[str, int]:
        """Miss counts of the given facts (what the hot-miss observer reads)."""
        return self.working.item_misses([_uuid(f, "fact id") for f in fact_ids])
