"""Scenario 3: pattern recognition and proactive caching of hot misses."""

from __future__ import annotations

import threading
import uuid

from application.tier0 import AgentSpec
from domain.holon import Edge
from domain.task import Task
from tests.scenarios.world import World

FACT_Y = "5ca1ab1e-0000-4000-8000-00000000000f"
GENERAL = "5ca1ab1e-0000-4000-8000-000000000001"
CONTENT = "The sky is blue on a clear day."


def look_up(world: World, agent_id: str, fact: str = FACT_Y) -> str | None:
    task = Task(str(uuid.uuid4()), "knowledge", required_facts=(fact,), agent_hint=agent_id)
    outcome = world.services.organism.submit(task)
    return outcome.result.get("content") if outcome.success else None


def make_agents(world: World, prefix: str, count: int) -> list[str]:
    tier0 = world.services.tier0
    ids = []
    for k in range(count):
        tier0.create_organ(f"{prefix}-organ-{k}", "utility")
        ids.append(f"{prefix}-agent-{k}")
    tier0.create_agents([AgentSpec(f"{prefix}-organ-{k}", a) for k, a in enumerate(ids)])
    return ids


def test_scenario_3(world: World) -> None:
    memory = world.services.memory
    working = memory.working

    # 1. Seed fact_Y under general-knowledge.
    memory.remember(
        [memory.make_holon(CONTENT, "fact", holon_id=FACT_Y),
         memory.make_holon("general-knowledge", "topic", holon_id=GENERAL)],
        [Edge(GENERAL, "CONTAINS", FACT_Y)],
    )

    # 2. Five agents in five organs, three lookups each: one cold miss per organ.
    first = make_agents(world, "first", 5)
    results = [look_up(world, agent) for agent in first for _ in range(3)]
    assert results == [CONTENT] * 15
    assert working.item_misses([FACT_Y])[FACT_Y] == 5

    # 3. Within two observer cycles the global working memory holds it; Mlt read once.
    reads = memory.promotion_reads
    reports = [memory.promote_hot_misses() for _ in range(2)]
    assert reports[0].promoted == (FACT_Y,) and reports[1].promoted == ()
    assert working.ttl("global", FACT_Y) is not None
    assert memory.promotion_reads == reads + 1

    # 4. Five new organs hit the global entry: no Mlt lookup, no new miss.
    second = make_agents(world, "second", 5)
    global_hits, lookups = working.stats("global").hits, memory.mlt_lookups
    assert [look_up(world, agent) for agent in second] == [CONTENT] * 5
    assert working.stats("global").hits == global_hits + 5
    assert memory.mlt_lookups == lookups
    assert working.item_misses([FACT_Y])[FACT_Y] == 5

    # 5. Controls: one miss is below the threshold; an item absent from Mlt is skipped.
    once = memory.make_holon("Water boils at 100 C at sea level.", "fact")
    memory.remember([once])
    assert look_up(world, first[0], once.uuid) is not None
    absent = str(uuid.uuid4())
    assert look_up(world, first[0], absent) is None
    assert look_up(world, first[1], absent) is None
    report = memory.promote_hot_misses()
    assert once.uuid not in report.promoted and working.ttl("global", once.uuid) is None
    assert report.skipped == (absent,)
    assert working.ttl("global", absent) is None

    # 6. Twenty agents created at once: no race on shared state.
    errors: list[BaseException] = []

    def create(k: int) -> None:
        try:
            world.services.tier0.ensure_organ("crowd", "utility")
            world.services.tier0.create_agents([AgentSpec("crowd", f"crowd-{k}")])
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(world.services.tier0.agents("crowd")) == 20
    assert [o.organ_id for o in world.services.tier0.organs()].count("crowd") == 1
