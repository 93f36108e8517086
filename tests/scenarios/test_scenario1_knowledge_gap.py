"""Scenario 1: a collaborative task with a knowledge gap (Mw → Mlt escalation and caching)."""

from __future__ import annotations

import uuid

from application.tier0 import AgentSpec
from domain.holon import Edge
from domain.task import Task
from tests.scenarios.world import SCENARIO_TTL_S, World

FACT_X = "0b7e3f55-6d8b-4c39-9a43-1c1e3a5f0a01"
TASK_ALPHA = "0b7e3f55-6d8b-4c39-9a43-1c1e3a5f0a02"
CONTENT = "The launch code is 1234."


def seed(world: World) -> None:
    memory = world.services.memory
    fact = memory.make_holon(CONTENT, "fact", {"name": "fact_X"}, holon_id=FACT_X)
    task = memory.make_holon("task-alpha", "task", {"name": "task-alpha"}, holon_id=TASK_ALPHA)
    memory.remember([fact, task], [Edge(TASK_ALPHA, "REQUIRES", FACT_X)])


def knowledge(agent_id: str, fact: str = FACT_X) -> Task:
    return Task(str(uuid.uuid4()), "knowledge", required_facts=(fact,), agent_hint=agent_id)


def test_scenario_1(world: World) -> None:
    services = world.services
    tier0, organism, memory = services.tier0, services.organism, services.memory
    tier0.create_organ("organ-a", "cognitive")
    tier0.create_organ("organ-b", "cognitive")
    tier0.create_agents([AgentSpec("organ-a", "agent-B"), AgentSpec("organ-a", "agent-B2"),
                            AgentSpec("organ-b", "agent-C")])

    seed(world)
    counts = (memory.holons.count(), memory.graph.counts())
    seed(world)
    assert (memory.holons.count(), memory.graph.counts()) == counts == (2, (2, 1))

    working = memory.working
    organ_a = "organ:organ-a"

    # 1. Cold: nothing cached; the task escalates to Mlt exactly once.
    assert working.ttl(organ_a, FACT_X) is None
    before = working.stats(organ_a)
    lookups = memory.mlt_lookups
    outcome = organism.submit(knowledge("agent-B"))
    assert outcome.agent_id == "agent-B"
    assert outcome.success and outcome.quality == 0.9
    assert outcome.result["content"] == CONTENT
    after = working.stats(organ_a)
    assert after.misses == before.misses + 1
    assert after.hits == before.hits
    assert memory.mlt_lookups == lookups + 1

    # 2. Cached with a TTL in (0, configured TTL].
    ttl = working.ttl(organ_a, FACT_X)
    assert ttl is not None and 0 < ttl <= SCENARIO_TTL_S

    # 3. Warm: with the Mlt row gone the task still succeeds from working memory.
    assert memory.holons.delete(FACT_X)
    lookups = memory.mlt_lookups
    outcome = organism.submit(knowledge("agent-B"))
    assert outcome.success and outcome.result["content"] == CONTENT
    assert working.stats(organ_a).hits == after.hits + 1
    assert memory.mlt_lookups == lookups

    # 4. Expiry: after the TTL, with the row restored, the next run misses and reads Mlt.
    seed(world)
    world.advance(SCENARIO_TTL_S + 0.5)
    services.tier0.collect_heartbeats()
    assert working.ttl(organ_a, FACT_X) is None
    misses, lookups = working.stats(organ_a).misses, memory.mlt_lookups
    assert organism.submit(knowledge("agent-B")).success
    assert working.stats(organ_a).misses == misses + 1
    assert memory.mlt_lookups == lookups + 1
    # ... and the same after an explicit delete.
    assert working.delete(organ_a, FACT_X)
    misses, lookups = working.stats(organ_a).misses, memory.mlt_lookups
    assert organism.submit(knowledge("agent-B")).success
    assert working.stats(organ_a).misses == misses + 1
    assert memory.mlt_lookups == lookups + 1

    # 5. Sharing: the same organ hits the cached entry, another organ misses.
    hits, lookups = working.stats(organ_a).hits, memory.mlt_lookups
    outcome = organism.submit(knowledge("agent-B2"))
    assert outcome.success and outcome.agent_id == "agent-B2"
    assert working.stats(organ_a).hits == hits + 1
    assert memory.mlt_lookups == lookups
    organ_b = working.stats("organ:organ-b")
    outcome = organism.submit(knowledge("agent-C"))
    assert outcome.success
    assert working.stats("organ:organ-b").misses == organ_b.misses + 1
    assert working.stats("organ:organ-b").hits == organ_b.hits
    assert memory.mlt_lookups == lookups + 1

    # 6. Unknown fact: a failure that writes nothing to working memory.
    unknown = str(uuid.uuid4())
    outcome = organism.submit(knowledge("agent-B", unknown))
    assert not outcome.success and outcome.quality == 0.1
    assert outcome.result["knowledge_found"] is False
    for namespace in (organ_a, "organ:organ-b", "global"):
        assert working.ttl(namespace, unknown) is None

    # 7. The figures match steps 1-6 exactly: organ-a saw misses in steps 1, 4 (twice) and 6,
    # hits in steps 3 and 5; organ-b one miss.
    stats = {s.namespace: s for s in memory.stats()}
    assert (stats[organ_a].hits, stats[organ_a].misses) == (2, 4)
    assert (stats["organ:organ-b"].hits, stats["organ:organ-b"].misses) == (0, 1)
    assert stats[organ_a].hit_rate == 2 / 6
