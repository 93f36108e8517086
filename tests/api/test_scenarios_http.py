"""The three validation scenarios (docs: scenarios.md), driven through the HTTP API.

The app runs inside the test on the in-memory adapters and a fake clock (working-memory TTL
5 s, no exploration). The hot-miss observer is the worker's loop, not an endpoint: scenario 3
runs that loop's function where a deployment would wait for its period.

Reads of ``GET /memory/{namespace}/{key}`` count a hit or a miss like any read; the tallies
below include the reads the test makes to observe, so step 7's figures are exact.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.memory.incident_store import InMemoryIncidentStore
from adapters.operations import HttpOperations
from tests.api.conftest import API, TTL_S, Api, assert_problem, start_api


@pytest.fixture
def http_api() -> Iterator[Api]:
    """The API with the real HTTP operation executor (scenario 2 needs a real failure)."""
    operations = HttpOperations()
    try:
        yield from start_api(operations=operations)
    finally:
        operations.close()


def stats(api: Api, namespace: str) -> dict[str, Any]:
    """One namespace's counters (reading them counts nothing)."""
    body = api.client.get(f"{API}/memory/stats", params={"namespace": namespace}).json()
    (only,) = body["namespaces"]
    return dict(only)


def mlt_lookups(api: Api) -> int:
    return int(api.client.get(f"{API}/memory/stats").json()["mlt_lookups"])


def knowledge(api: Api, agent_id: str, fact: str) -> dict[str, Any]:
    return api.task({"type": "knowledge", "required_facts": [fact], "agent_hint": agent_id})


def post_holon(api: Api, body: dict[str, Any]) -> None:
    response = api.client.post(f"{API}/holons", json=body)
    assert response.status_code in (200, 201), response.text


# -- scenario 1 ---------------------------------------------------------------------------

FACT_X = "0b7e3f55-6d8b-4c39-9a43-1c1e3a5f0a01"
TASK_ALPHA = "0b7e3f55-6d8b-4c39-9a43-1c1e3a5f0a02"
LAUNCH_CODE = "The launch code is 1234."


def seed_fact_x(api: Api) -> None:
    post_holon(api, {"uuid": FACT_X, "content": LAUNCH_CODE, "kind": "fact",
                     "meta": {"name": "fact_X"}})
    post_holon(api, {"uuid": TASK_ALPHA, "content": "task-alpha", "kind": "task",
                     "meta": {"name": "task-alpha"},
                     "edges": [{"rel": "REQUIRES", "to": FACT_X}]})


def mlt_shape(api: Api) -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
    everything = api.client.post(f"{API}/holons/search", json={"text": "x", "k": 1000}).json()
    return (
        len(everything["items"]),
        api.client.get(f"{API}/holons/{TASK_ALPHA}/neighbours").json()["items"],
        api.client.get(f"{API}/holons/{FACT_X}/neighbours").json()["items"],
    )


def test_scenario_1_knowledge_gap(api: Api) -> None:
    organ_a, organ_b = "organ:organ-a", "organ:organ-b"
    api.organ("organ-a", "cognitive")
    api.organ("organ-b", "cognitive")
    api.agents("organ-a", "agent-B", "agent-B2")
    api.agents("organ-b", "agent-C")

    # Set-up, twice: the same rows and edges.
    seed_fact_x(api)
    shape = mlt_shape(api)
    seed_fact_x(api)
    assert mlt_shape(api) == shape
    assert shape == (2, [{"uuid": FACT_X, "rel": "REQUIRES", "depth": 1}],
                     [{"uuid": TASK_ALPHA, "rel": "REQUIRES", "depth": 1}])
    assert api.services.memory.graph.counts() == (2, 1)

    hits = misses = 0  # organ-a's counters, as the steps below move them

    # 1. Cold: no entry; the task escalates to Mlt exactly once.
    assert stats(api, organ_a)["items"] == 0
    lookups = mlt_lookups(api)
    outcome = knowledge(api, "agent-B", FACT_X)
    misses += 1
    assert outcome["agent_id"] == "agent-B"
    assert outcome["success"] is True and outcome["quality"] == 0.9
    assert outcome["result"]["content"] == LAUNCH_CODE
    assert (stats(api, organ_a)["hits"], stats(api, organ_a)["misses"]) == (hits, misses)
    assert mlt_lookups(api) == lookups + 1

    # 2. Cached, with a TTL in (0, configured TTL] (this read counts a hit).
    cached = api.client.get(f"{API}/memory/{organ_a}/{FACT_X}")
    hits += 1
    assert cached.status_code == 200 and cached.json()["value"] == LAUNCH_CODE
    assert 0 < cached.json()["ttl_s"] <= TTL_S

    # 3. Warm: with the Mlt row gone the task still succeeds from working memory.
    assert api.client.delete(f"{API}/holons/{FACT_X}").status_code == 204
    assert_problem(api.client.get(f"{API}/holons/{FACT_X}"), 404)
    lookups = mlt_lookups(api)
    outcome = knowledge(api, "agent-B", FACT_X)
    hits += 1
    assert outcome["success"] is True and outcome["result"]["content"] == LAUNCH_CODE
    assert stats(api, organ_a)["hits"] == hits
    assert mlt_lookups(api) == lookups

    # 4. Expiry: past the TTL, with the row restored, the next run misses and reads Mlt ...
    seed_fact_x(api)
    api.clock.advance(TTL_S + 0.5)
    assert stats(api, organ_a)["items"] == 0
    lookups = mlt_lookups(api)
    assert knowledge(api, "agent-B", FACT_X)["success"] is True
    misses += 1
    assert stats(api, organ_a)["misses"] == misses
    assert mlt_lookups(api) == lookups + 1
    # ... and the same after an explicit delete.
    assert api.client.delete(f"{API}/memory/{organ_a}/{FACT_X}").status_code == 204
    lookups = mlt_lookups(api)
    assert knowledge(api, "agent-B", FACT_X)["success"] is True
    misses += 1
    assert stats(api, organ_a)["misses"] == misses
    assert mlt_lookups(api) == lookups + 1

    # 5. Sharing: the same organ hits the cached entry; another organ misses.
    lookups = mlt_lookups(api)
    outcome = knowledge(api, "agent-B2", FACT_X)
    hits += 1
    assert outcome["success"] is True and outcome["agent_id"] == "agent-B2"
    assert stats(api, organ_a)["hits"] == hits
    assert mlt_lookups(api) == lookups
    outcome = knowledge(api, "agent-C", FACT_X)
    assert outcome["success"] is True and outcome["organ_id"] == "organ-b"
    assert (stats(api, organ_b)["hits"], stats(api, organ_b)["misses"]) == (0, 1)
    assert mlt_lookups(api) == lookups + 1

    # 6. Unknown fact: a failure that writes nothing to working memory.
    items = {ns: stats(api, ns)["items"] for ns in (organ_a, organ_b, "global")}
    unknown = str(uuid.uuid4())
    outcome = knowledge(api, "agent-B", unknown)
    misses += 1
    assert outcome["success"] is False and outcome["quality"] == 0.1
    assert outcome["result"]["knowledge_found"] is False
    assert {ns: stats(api, ns)["items"] for ns in items} == items

    # 7. The figures the API returns match the steps exactly.
    figures = {s["namespace"]: s for s in api.client.get(f"{API}/memory/stats").json()
               ["namespaces"]}
    assert (figures[organ_a]["hits"], figures[organ_a]["misses"]) == (hits, misses) == (3, 4)
    assert figures[organ_a]["hit_rate"] == pytest.approx(3 / 7)
    assert (figures[organ_b]["hits"], figures[organ_b]["misses"]) == (0, 1)
    assert figures[organ_b]["hit_rate"] == 0.0
    for namespace in items:  # the unknown fact was cached nowhere
        assert_problem(api.client.get(f"{API}/memory/{namespace}/{unknown}"), 404)


# -- scenario 2 ---------------------------------------------------------------------------

CRITICAL = "Agent-Critical-Ops"


def launch(url: str, risk: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "high_stakes",
        "agent_hint": CRITICAL,
        "payload": {"operation": {"kind": "http", "method": "POST", "url": url},
                    "timeout_s": 1.0},
    }
    if risk is not None:
        body["risk"] = risk
    return body


def incident_count(api: Api) -> int:
    return int(api.client.get(f"{API}/incidents/stats").json()["count"])


def test_scenario_2_flashbulb_incident(http_api: Api, refused_url: str) -> None:
    api = http_api
    api.organ("ops", "actuator")
    api.agents("ops", CRITICAL)
    before = api.client.get(f"{API}/agents/{CRITICAL}/heartbeat").json()
    h_before = before["h"]
    logged_before = before["agent"]["salient_events_logged"]

    # 1. A real failing operation (connection refused) at risk 0.9.
    n0 = incident_count(api)
    outcome = api.task(launch(refused_url, 0.9), status=201)
    assert outcome["success"] is False and outcome["agent_id"] == CRITICAL
    assert outcome["salience"] == pytest.approx(0.9, abs=1e-9)
    assert outcome["incident_logged"] is True and outcome["incident_id"]
    assert outcome["error"]["code"] == "E_CONN_REFUSED"

    # 2. Mfb holds it, with the agent's full state from before the failure.
    assert incident_count(api) == n0 + 1
    incident = api.client.get(f"{API}/incidents/{outcome['incident_id']}").json()
    assert abs(incident["salience"] - 0.9) <= 1e-9
    assert abs(incident["ts"] - api.clock.now()) < 60
    snapshot = incident["snapshot"]
    assert snapshot["agent_id"] == CRITICAL
    assert snapshot["h"] == pytest.approx(h_before)
    assert snapshot["tasks_processed"] == 0
    assert incident["task"]["task_id"] == outcome["task_id"]
    assert incident["error"]["code"] == "E_CONN_REFUSED" and incident["error"]["reason"]

    # 3. The API finds it by id, by salience, by time; statistics count it.
    incident_id = incident["incident_id"]

    def found(**params: Any) -> set[str]:
        page = api.client.get(f"{API}/incidents", params={**params, "limit": 500}).json()
        return {i["incident_id"] for i in page["items"]}

    assert incident_id in found(min_salience=0.9)
    now = api.clock.now()
    assert incident_id in found(start=now - 60, end=now + 60)
    assert api.client.get(f"{API}/incidents/stats").json()["count"] == n0 + 1

    # 4. Boundaries of the inclusive 0.7 threshold.
    for risk, expected in ((0.69, 0), (0.7, 1), (None, 0)):
        count = incident_count(api)
        result = api.task(launch(refused_url, risk), status=201)
        assert result["success"] is False
        assert result["incident_logged"] is bool(expected)
        assert incident_count(api) == count + expected

    # 5. The heartbeat counts the salient events (step 1 and the 0.7 run).
    beat = api.client.get(f"{API}/agents/{CRITICAL}/heartbeat").json()
    assert beat["agent"]["salient_events_logged"] == logged_before + 2

    # 6. With the store down the task still returns; no partial row appears afterwards.
    store = api.adapters.incidents
    assert isinstance(store, InMemoryIncidentStore)
    count = incident_count(api)
    store.down = True
    try:
        result = api.task(launch(refused_url, 0.9), status=201)
        assert_problem(api.client.get(f"{API}/incidents/stats"), 503)
    finally:
        store.down = False
    assert result["success"] is False and result["incident_logged"] is False
    assert "unavailable" in result["incident_reason"]
    assert incident_count(api) == count
    refused = api.client.post(f"{API}/incidents", json={"agent_id": CRITICAL, "organ_id": "ops",
                                                         "salience": 1.5})
    assert_problem(refused, 422)
    assert_problem(api.client.post(f"{API}/tasks", json=launch(refused_url, 1.5)), 422)
    assert incident_count(api) == count


# -- scenario 3 ---------------------------------------------------------------------------

FACT_Y = "5ca1ab1e-0000-4000-8000-00000000000f"
GENERAL = "5ca1ab1e-0000-4000-8000-000000000001"
SKY = "The sky is blue on a clear day."


def look_up(api: Api, agent_id: str, fact: str = FACT_Y) -> str | None:
    outcome = knowledge(api, agent_id, fact)
    return outcome["result"].get("content") if outcome["success"] else None


def make_agents(api: Api, prefix: str, count: int) -> list[str]:
    ids = []
    for k in range(count):
        api.organ(f"{prefix}-organ-{k}")
        ids.append(f"{prefix}-agent-{k}")
    response = api.client.post(f"{API}/agents", json={"agents": [
        {"organ_id": f"{prefix}-organ-{k}", "agent_id": agent} for k, agent in enumerate(ids)
    ]})
    assert response.status_code == 201
    return ids


def item_misses(api: Api, fact: str) -> int:
    return int(api.client.get(f"{API}/memory/misses", params={"key": fact}).json()["items"][fact])


def promotion_reads(api: Api) -> int:
    return int(api.client.get(f"{API}/memory/stats").json()["promotion_reads"])


def test_scenario_3_proactive_caching(api: Api) -> None:
    # 1. Seed fact_Y under general-knowledge.
    post_holon(api, {"uuid": FACT_Y, "content": SKY, "kind": "fact"})
    post_holon(api, {"uuid": GENERAL, "content": "general-knowledge", "kind": "topic",
                     "edges": [{"rel": "CONTAINS", "to": FACT_Y}]})
    assert api.client.get(f"{API}/holons/{GENERAL}/neighbours").json()["items"] == [
        {"uuid": FACT_Y, "rel": "CONTAINS", "depth": 1}
    ]

    # 2. Five agents in five organs, three lookups each: one cold miss per organ.
    first = make_agents(api, "first", 5)
    assert [look_up(api, agent) for agent in first for _ in range(3)] == [SKY] * 15
    assert item_misses(api, FACT_Y) == 5

    # 3. Within two observer cycles the global working memory holds it; Mlt read once.
    lookups, reads = mlt_lookups(api), promotion_reads(api)
    reports = [api.services.memory.promote_hot_misses() for _ in range(2)]
    assert reports[0].promoted == (FACT_Y,) and reports[1].promoted == ()
    assert stats(api, "global")["items"] == 1
    assert api.client.get(f"{API}/memory/global/{FACT_Y}").json()["value"] == SKY
    assert promotion_reads(api) == reads + 1
    assert mlt_lookups(api) == lookups

    # 4. Five new organs hit the global entry: no Mlt lookup, no new miss.
    second = make_agents(api, "second", 5)
    global_hits, lookups = stats(api, "global")["hits"], mlt_lookups(api)
    assert [look_up(api, agent) for agent in second] == [SKY] * 5
    assert stats(api, "global")["hits"] == global_hits + 5
    assert mlt_lookups(api) == lookups
    assert item_misses(api, FACT_Y) == 5

    # 5. Controls: one miss is below the threshold; an item absent from Mlt is skipped.
    created = api.client.post(f"{API}/holons", json={
        "content": "Water boils at 100 C at sea level.", "kind": "fact"})
    once = created.json()["uuid"]
    assert look_up(api, first[0], once) is not None
    absent = str(uuid.uuid4())
    assert look_up(api, first[0], absent) is None
    assert look_up(api, first[1], absent) is None
    assert (item_misses(api, once), item_misses(api, absent)) == (1, 2)
    reads = promotion_reads(api)
    report = api.services.memory.promote_hot_misses()
    assert once not in report.promoted and report.skipped == (absent,)
    assert promotion_reads(api) == reads + 1  # the absent item; never the one missed once
    assert_problem(api.client.get(f"{API}/memory/global/{once}"), 404)
    assert_problem(api.client.get(f"{API}/memory/global/{absent}"), 404)
    assert api.services.memory.promote_hot_misses().promoted == ()  # the observer runs on

    # 6. Twenty agents created at once: one organ, twenty agents, no race.
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def create(k: int) -> None:
        try:
            organ = api.client.post(f"{API}/organs",
                                    json={"organ_id": "crowd", "organ_type": "utility"})
            agent = api.client.post(f"{API}/agents",
                                    json={"agents": [{"organ_id": "crowd",
                                                      "agent_id": f"crowd-{k}"}]})
            with lock:
                statuses.extend((organ.status_code, agent.status_code))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(k,)) for k in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    organ_statuses, agent_statuses = statuses[0::2], statuses[1::2]
    assert sorted(organ_statuses) == [201] + [409] * 19
    assert agent_statuses == [201] * 20
    crowd = api.client.get(f"{API}/agents", params={"organ_id": "crowd", "limit": 500}).json()
    assert len(crowd["items"]) == 20
    organs = api.client.get(f"{API}/organs", params={"limit": 500}).json()["items"]
    assert [o["organ_id"] for o in organs].count("crowd") == 1
