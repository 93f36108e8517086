"""Request and response bodies of the HTTP API, as ``msgspec.Struct``s.

Requests forbid unknown fields and carry their constraints (``msgspec.Meta``), so a body is
validated before a handler runs and the OpenAPI schema states exactly what is accepted.
Responses are built from application values by the ``of`` class methods.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal
from uuid import UUID

from msgspec import Meta, Struct, field

from application.budgets import ScopeUsage
from application.population import Organ
from application.ports.holon_graph import Neighbour
from application.ports.holon_store import SimilarHolon
from application.ports.working_memory import NamespaceStats
from domain.agent import AgentState, Heartbeat
from domain.energy import EnergyTerms
from domain.holon import Holon
from domain.incident import Incident, IncidentStats
from domain.ledger import LedgerTransaction
from domain.task import TaskError, TaskOutcome

__all__ = [
    "AgentBatchIn",
    "AgentBatchOut",
    "AgentEnergyOut",
    "AgentOut",
    "AgentPage",
    "AgentSpecIn",
    "AttributionOut",
    "BudgetIn",
    "BudgetOut",
    "BudgetPage",
    "EdgeIn",
    "EnergyOut",
    "EnergyTermsOut",
    "HeartbeatOut",
    "HolonIn",
    "HolonOut",
    "IncidentIn",
    "IncidentOut",
    "IncidentPage",
    "IncidentStatsOut",
    "ItemIn",
    "ItemOut",
    "LedgerEntryOut",
    "LedgerPage",
    "MemoryStatsOut",
    "MissesOut",
    "NamespaceStatsOut",
    "NeighbourOut",
    "NeighbourPage",
    "OrganEnergyOut",
    "OrganIn",
    "OrganOut",
    "OrganPage",
    "RelationIn",
    "RelationOut",
    "SearchHitOut",
    "SearchIn",
    "SearchOut",
    "TaskErrorOut",
    "TaskIn",
    "TaskOutcomeOut",
]

# -- shared constrained types -------------------------------------------------------------

#: Organ, agent and task ids (the alphabet of ``application.organism``).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
#: Relationship types (``domain.holon.validate_relationship_type``).
REL_PATTERN = r"^[A-Z][A-Z0-9_]{0,63}$"
#: Working-memory namespaces and keys (``domain.memory``).
NAMESPACE_PATTERN = r"^(global|organ:[A-Za-z0-9][A-Za-z0-9_.\-]{0,127})$"
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,255}$"
#: Idempotency keys: 1-128 characters of letters, digits and ``_ . : -``.
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9_.:\-]{1,128}$"

Id = Annotated[str, Meta(pattern=ID_PATTERN, description="letters, digits, `_ . -`; 1-128")]
RelType = Annotated[str, Meta(pattern=REL_PATTERN, description="an upper-case identifier")]
# Litestar drops a zero bound of an optional value from the schema; ``ZERO_MIN`` restates it.
ZERO_MIN: dict[str, Any] = {"extra": {"minimum": 0.0}}
ZERO_GT: dict[str, Any] = {"extra": {"exclusive_minimum": 0.0}}
Unit = Annotated[float, Meta(ge=0.0, le=1.0, extra_json_schema=ZERO_MIN)]
Kind = Annotated[str, Meta(min_length=1, max_length=64)]
JsonObject = dict[str, Any]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


# -- organs and agents --------------------------------------------------------------------


class OrganIn(Struct, forbid_unknown_fields=True):
    organ_id: Id
    organ_type: Annotated[str, Meta(pattern=ID_PATTERN, description="e.g. cognitive, actuator")]


class OrganOut(Struct):
    organ_id: str
    organ_type: str
    created_at: float

    @classmethod
    def of(cls, organ: Organ) -> OrganOut:
        return cls(organ.organ_id, organ.organ_type, organ.created_at)


class OrganPage(Struct):
    items: list[OrganOut]
    next_cursor: str | None


class AgentSpecIn(Struct, forbid_unknown_fields=True):
    organ_id: Id
    agent_id: Id | None = None
    capacity: Annotated[int, Meta(ge=1, le=1024)] | None = None


class AgentBatchIn(Struct, forbid_unknown_fields=True):
    agents: Annotated[list[AgentSpecIn], Meta(min_length=1, max_length=1000)]


class RolesOut(Struct):
    E: float
    S: float
    O: float  # noqa: E741 (the role's name)


class AgentOut(Struct):
    agent_id: str
    organ_id: str
    organ_type: str
    roles: RolesOut
    capability: float
    memory_utility: float
    skills: dict[str, float]
    load: int
    capacity: int
    consumption_ewma_j: dict[str, float]
    tasks_processed: int
    tasks_succeeded: int
    memory_writes: int
    memory_hits: int
    salient_events_logged: int
    recent_quality: list[float]
    created_at: float
    last_task_at: float | None
    archived: bool

    @classmethod
    def of(cls, s: AgentState) -> AgentOut:
        return cls(
            agent_id=s.agent_id,
            organ_id=s.organ_id,
            organ_type=s.organ_type,
            roles=RolesOut(*(float(p) for p in s.roles)),
            capability=s.capability,
            memory_utility=s.memory_utility,
            skills=dict(s.skills),
            load=s.load,
            capacity=s.capacity,
            consumption_ewma_j=dict(s.consumption_ewma),
            tasks_processed=s.tasks_processed,
            tasks_succeeded=s.tasks_succeeded,
            memory_writes=s.memory_writes,
            memory_hits=s.memory_hits,
            salient_events_logged=s.salient_events_logged,
            recent_quality=list(s.recent_quality),
            created_at=s.created_at,
            last_task_at=s.last_task_at,
            archived=s.archived,
        )


class AgentBatchOut(Struct):
    agents: list[AgentOut]


class AgentPage(Struct):
    items: list[AgentOut]
    next_cursor: str | None


class HeartbeatOut(Struct):
    agent: AgentOut
    h: list[float]
    host: str
    taken_at: float
    uptime_s: float
    window_joules: float
    budget_joules: float | None

    @classmethod
    def of(cls, beat: Heartbeat) -> HeartbeatOut:
        return cls(
            agent=AgentOut.of(beat.state),
            h=[float(x) for x in beat.state.h],
            host=beat.host,
            taken_at=beat.taken_at,
            uptime_s=beat.uptime_s,
            window_joules=beat.window_joules,
            budget_joules=beat.budget_joules,
        )


# -- tasks --------------------------------------------------------------------------------


class TaskIn(Struct, forbid_unknown_fields=True):
    type: Annotated[str, Meta(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$",
                              description="the handler: knowledge, high_stakes, general, ...")]
    payload: JsonObject = field(default_factory=dict)
    required_facts: Annotated[list[UUID], Meta(max_length=64)] = field(default_factory=list)
    risk: Unit = 0.5
    severity: Unit = 1.0
    complexity: Unit | None = None
    priority: Annotated[int, Meta(ge=-1000, le=1000)] = 0
    organ_hint: Id | None = None
    agent_hint: Id | None = None
    team_size: Annotated[int, Meta(ge=1, le=16)] = 1
    size: Literal["small", "medium", "large"] = "medium"
    urgent: bool = False
    description: Annotated[str, Meta(max_length=4096)] = ""
    task_id: Id | None = None


class TaskErrorOut(Struct):
    type: str
    message: str
    code: str

    @classmethod
    def of(cls, error: TaskError) -> TaskErrorOut:
        return cls(error.type, error.message, error.code)


class TaskOutcomeOut(Struct):
    task_id: str
    task_type: str
    agent_id: str
    organ_id: str
    success: bool
    quality: float
    latency_ms: float
    joules: float
    cpu_measured: bool
    salience: float
    score: float | None
    predicted_d_e: float | None
    team: list[str]
    error: TaskErrorOut | None
    result: JsonObject
    memory_events: dict[str, int]
    incident_logged: bool
    incident_id: str | None
    incident_reason: str | None
    explored: bool

    @classmethod
    def of(cls, o: TaskOutcome) -> TaskOutcomeOut:
        return cls(
            task_id=o.task_id,
            task_type=o.task_type,
            agent_id=o.agent_id,
            organ_id=o.organ_id,
            success=o.success,
            quality=o.quality,
            latency_ms=o.latency_ms,
            joules=o.joules,
            cpu_measured=o.cpu_measured,
            salience=o.salience,
            score=_finite(o.score),
            predicted_d_e=_finite(o.predicted_d_e),
            team=list(o.team),
            error=None if o.error is None else TaskErrorOut.of(o.error),
            result=dict(o.result),
            memory_events=dict(o.memory_events),
            incident_logged=o.incident_logged,
            incident_id=o.incident_id,
            incident_reason=o.incident_reason,
            explored=o.explored,
        )


# -- energy -------------------------------------------------------------------------------


class EnergyTermsOut(Struct):
    pair: float
    hyper: float
    entropy: float
    reg: float
    mem: float

    @classmethod
    def of(cls, t: EnergyTerms) -> EnergyTermsOut:
        return cls(t.pair, t.hyper, t.entropy, t.reg, t.mem)


class EnergyOut(Struct):
    terms: EnergyTermsOut
    total: float


class AgentEnergyOut(Struct):
    agent_id: str
    energy: float


class OrganEnergyOut(Struct):
    organ_id: str
    energy: float
    hyper: float


class AttributionOut(Struct):
    """Energy per organ (all of them) and per agent (one page of them)."""

    total: float
    organs: list[OrganEnergyOut]
    items: list[AgentEnergyOut]
    next_cursor: str | None


class LedgerEntryOut(Struct):
    seq: int
    tx_id: str
    ts: float
    scope: str
    scope_id: str
    cause: str
    total_before: float
    total_after: float
    d_e: float
    terms_after: dict[str, float]
    joules: float

    @classmethod
    def of(cls, seq: int, tx: LedgerTransaction) -> LedgerEntryOut:
        return cls(seq, tx.tx_id, tx.ts, str(tx.scope), tx.scope_id, tx.cause, tx.total_before,
                   tx.total_after, tx.d_e, dict(tx.terms_after), tx.joules)


class LedgerPage(Struct):
    items: list[LedgerEntryOut]
    next_cursor: str | None


class BudgetIn(Struct, forbid_unknown_fields=True):
    joules: Annotated[float, Meta(gt=0.0, le=1e12, description="joules per rolling window")]


class BudgetOut(Struct):
    scope: str
    scope_id: str
    used_joules: float
    budget_joules: float | None
    level: Literal["ok", "soft", "hard"]
    total_joules: float

    @classmethod
    def of(cls, u: ScopeUsage) -> BudgetOut:
        return cls(u.scope, u.scope_id, u.used_joules, u.budget_joules, u.level.value,
                   u.total_joules)


class BudgetPage(Struct):
    items: list[BudgetOut]
    next_cursor: str | None


# -- working memory -----------------------------------------------------------------------


class ItemIn(Struct, forbid_unknown_fields=True):
    value: Annotated[str, Meta(max_length=1_048_576)]
    ttl_s: Annotated[float, Meta(gt=0.0, le=2_592_000.0, extra_json_schema=ZERO_GT)] | None = None
    durable: bool = False
    surprise: Annotated[float, Meta(ge=0.0, le=1e6)] = 0.0
    source: UUID | None = None


class ItemOut(Struct):
    namespace: str
    key: str
    value: str
    ttl_s: float | None


class NamespaceStatsOut(Struct):
    namespace: str
    hits: int
    misses: int
    hit_rate: float
    items: int
    bytes: int

    @classmethod
    def of(cls, s: NamespaceStats) -> NamespaceStatsOut:
        return cls(s.namespace, s.hits, s.misses, s.hit_rate, s.items, s.bytes)


class MemoryStatsOut(Struct):
    """Per-namespace counters, and this process's memory figures: exact Mlt lookups of the
    read path and of the hot-miss observer, reads that fell through a working memory that was
    down, the configured working-memory TTL and the observer's period."""

    namespaces: list[NamespaceStatsOut]
    mlt_lookups: int
    promotion_reads: int
    degraded_reads: int
    ttl_s: float
    hot_miss_period_s: float


class MissesOut(Struct):
    """Miss counts by fact id (0 for a fact that has not missed in the miss window), and how
    many times the hot-miss observer read each from Mlt."""

    items: dict[str, int]
    promotion_reads: dict[str, int]


# -- holons -------------------------------------------------------------------------------


class EdgeIn(Struct, forbid_unknown_fields=True):
    """An edge of the new holon: ``{"rel", "to"}`` (outgoing) or ``{"rel", "from"}``
    (incoming); exactly one of ``to`` and ``from``."""

    rel: RelType
    to: UUID | None = None
    from_: UUID | None = field(default=None, name="from")


class HolonIn(Struct, forbid_unknown_fields=True):
    content: Annotated[str, Meta(min_length=1, max_length=65_536)]
    kind: Kind
    meta: JsonObject = field(default_factory=dict)
    uuid: UUID | None = None
    edges: Annotated[list[EdgeIn], Meta(max_length=256)] = field(default_factory=list)


class HolonOut(Struct):
    uuid: str
    kind: str
    content: str
    meta: JsonObject
    content_hash: str
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, h: Holon) -> HolonOut:
        return cls(h.uuid, h.kind, h.content, dict(h.meta), h.content_hash, h.created_at,
                   h.updated_at)


class SearchIn(Struct, forbid_unknown_fields=True):
    text: Annotated[str, Meta(max_length=4096)]
    k: Annotated[int, Meta(ge=1, le=1000)] = 10
    kind: Kind | None = None
    meta: dict[Annotated[str, Meta(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")], str] | None = None


class SearchHitOut(Struct):
    holon: HolonOut
    similarity: float

    @classmethod
    def of(cls, hit: SimilarHolon) -> SearchHitOut:
        return cls(HolonOut.of(hit.holon), hit.similarity)


class SearchOut(Struct):
    items: list[SearchHitOut]


class RelationIn(Struct, forbid_unknown_fields=True):
    src: UUID
    rel: RelType
    dst: UUID


class RelationOut(Struct):
    src: str
    rel: str
    dst: str


class NeighbourOut(Struct):
    uuid: str
    rel: str
    depth: int

    @classmethod
    def of(cls, n: Neighbour) -> NeighbourOut:
        return cls(n.uuid, n.rel, n.depth)


class NeighbourPage(Struct):
    items: list[NeighbourOut]
    next_cursor: str | None


# -- incidents ----------------------------------------------------------------------------


class IncidentIn(Struct, forbid_unknown_fields=True):
    agent_id: Id
    organ_id: Id
    salience: Unit
    task: JsonObject = field(default_factory=dict)
    error: JsonObject = field(default_factory=dict)
    snapshot: JsonObject = field(default_factory=dict)


class IncidentOut(Struct):
    incident_id: str
    ts: float
    salience: float
    agent_id: str
    organ_id: str
    task: JsonObject
    error: JsonObject
    snapshot: JsonObject

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        return cls(i.incident_id, i.ts, i.salience, i.agent_id, i.organ_id, dict(i.task),
                   dict(i.error), dict(i.snapshot))


class IncidentPage(Struct):
    items: list[IncidentOut]
    next_cursor: str | None


class IncidentStatsOut(Struct):
    count: int
    last_24h: int
    mean_salience: float

    @classmethod
    def of(cls, s: IncidentStats) -> IncidentStatsOut:
        return cls(s.count, s.last_24h, s.mean_salience)
