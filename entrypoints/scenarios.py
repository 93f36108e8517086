"""``seedcore scenario N``: the validation scenarios through the HTTP API of a deployment.

Every step is a check that asserts and prints PASS or FAIL with what it saw. Names and ids are
fresh per run (a run id prefixes them), so a scenario can run again against the same
deployment. Scenario 3 relies on the deployment's hot-miss loop (``seedcore serve`` runs it).
"""

from __future__ import annotations

import math
import socket
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

__all__ = ["ScenarioReport", "run_scenario"]

API = "/api/v1"


class HttpResponse(Protocol):
    status_code: int

    def json(self) -> Any: ...


# What the runner needs is ``request(method, url, json=..., params=...)`` returning a response
# with ``status_code`` and ``json()``: ``httpx.Client`` and Litestar's ``TestClient`` both fit.
HttpClient = Any


class CheckFailed(Exception):
    """A step whose precondition failed; the rest of the scenario cannot run."""


@dataclass
class ScenarioReport:
    scenario: int
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and bool(self.passed)


class _Run:
    def __init__(self, client: HttpClient, scenario: int, out: TextIO) -> None:
        self.client = client
        self.report = ScenarioReport(scenario)
        self.out = out
        self.tag = uuid.uuid4().hex[:8]

    def check(self, step: str, condition: bool, seen: object = "") -> bool:
        line = f"  [{'PASS' if condition else 'FAIL'}] {step}"
        if seen != "":
            line += f"  ({seen})"
        print(line, file=self.out, flush=True)
        (self.report.passed if condition else self.report.failed).append(step)
        return condition

    def not_run(self, step: str, why: str) -> None:
        print(f"  [NOT RUN] {step}  ({why})", file=self.out, flush=True)
        self.report.not_run.append(step)

    def call(self, method: str, path: str, expect: int | tuple[int, ...] = (200, 201, 204),
             **kwargs: Any) -> Any:
        response: HttpResponse = self.client.request(method, f"{API}{path}", **kwargs)
        wanted = (expect,) if isinstance(expect, int) else expect
        if response.status_code not in wanted:
            detail = response.json() if response.status_code != 204 else ""
            raise CheckFailed(f"{method} {path} answered {response.status_code}: {detail}")
        return None if response.status_code == 204 else response.json()

    def organ(self, name: str, organ_type: str = "cognitive") -> str:
        organ_id = f"{name}-{self.tag}"
        self.call("POST", "/organs", json={"organ_id": organ_id, "organ_type": organ_type})
        return organ_id

    def agents(self, organ_id: str, *names: str) -> list[str]:
        ids = [f"{n}-{self.tag}" for n in names]
        self.call("POST", "/agents",
                  json={"agents": [{"organ_id": organ_id, "agent_id": a} for a in ids]})
        return ids

    def knowledge(self, agent_id: str, fact: str) -> dict[str, Any]:
        outcome: dict[str, Any] = self.call(
            "POST", "/tasks",
            json={"type": "knowledge", "required_facts": [fact], "agent_hint": agent_id})
        return outcome

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = self.call("GET", "/memory/stats")
        return stats

    def namespace(self, namespace: str) -> dict[str, Any]:
        for entry in self.stats()["namespaces"]:
            if entry["namespace"] == namespace:
                found: dict[str, Any] = entry
                return found
        return {"namespace": namespace, "hits": 0, "misses": 0, "items": 0, "bytes": 0}


def _scenario_1(run: _Run) -> None:
    fact_x, alpha = str(uuid.uuid4()), str(uuid.uuid4())
    content = "The launch code is 1234."
    organ_a, organ_b = run.organ("organ-a"), run.organ("organ-b")
    agent_b, agent_b2 = run.agents(organ_a, "agent-B", "agent-B2")
    (agent_c,) = run.agents(organ_b, "agent-C")

    def seed() -> None:
        run.call("POST", "/holons", json={"uuid": fact_x, "content": content, "kind": "fact"})
        run.call("POST", "/holons", json={"uuid": alpha, "content": f"task-alpha {run.tag}",
                                         "kind": "task",
                                         "edges": [{"rel": "REQUIRES", "to": fact_x}]})

    seed()
    seed()
    neighbours = run.call("GET", f"/holons/{alpha}/neighbours")["items"]
    run.check("set-up: seeding twice leaves one fact and one REQUIRES edge",
              [(n["uuid"], n["rel"]) for n in neighbours] == [(fact_x, "REQUIRES")], neighbours)
    ns_a, ns_b = f"organ:{organ_a}", f"organ:{organ_b}"

    before, lookups = run.namespace(ns_a), run.stats()["mlt_lookups"]
    outcome = run.knowledge(agent_b, fact_x)
    after = run.namespace(ns_a)
    run.check("1. cold run succeeds on agent B with quality 0.9 and the fact's content",
              outcome["agent_id"] == agent_b and outcome["success"]
              and outcome["quality"] == 0.9 and outcome["result"].get("content") == content,
              {k: outcome[k] for k in ("agent_id", "success", "quality")})
    run.check("1. organ miss counter +1, hit counter unchanged, exactly one Mlt lookup",
              after["misses"] == before["misses"] + 1 and after["hits"] == before["hits"]
              and run.stats()["mlt_lookups"] == lookups + 1)

    item = run.call("GET", f"/memory/{ns_a}/{fact_x}")
    ttl = item["ttl_s"]
    configured = run.stats().get("ttl_s", math.inf)
    run.check("2. working memory holds the fact with a TTL in (0, configured TTL]",
              item["value"] == content and ttl is not None and 0 < ttl <= configured,
              f"ttl {ttl}")

    run.call("DELETE", f"/holons/{fact_x}")
    hits, lookups = run.namespace(ns_a)["hits"], run.stats()["mlt_lookups"]
    outcome = run.knowledge(agent_b, fact_x)
    run.check("3. with the Mlt row deleted the task succeeds from working memory",
              outcome["success"] and outcome["result"].get("content") == content)
    run.check("3. hit counter rose, Mlt saw no new lookup",
              run.namespace(ns_a)["hits"] == hits + 1 and run.stats()["mlt_lookups"] == lookups)

    seed()
    for namespace in (ns_a, "global"):  # the hot-miss loop may have promoted it meanwhile
        run.call("DELETE", f"/memory/{namespace}/{fact_x}", expect=(204, 404))
    misses, lookups = run.namespace(ns_a)["misses"], run.stats()["mlt_lookups"]
    outcome = run.knowledge(agent_b, fact_x)
    run.check("4. after an explicit delete the next run misses and reads Mlt again",
              outcome["success"] and run.namespace(ns_a)["misses"] == misses + 1
              and run.stats()["mlt_lookups"] == lookups + 1)

    hits = run.namespace(ns_a)["hits"]
    outcome = run.knowledge(agent_b2, fact_x)
    run.check("5. another agent of the same organ hits the cached entry",
              outcome["success"] and outcome["agent_id"] == agent_b2
              and run.namespace(ns_a)["hits"] == hits + 1)
    other = run.namespace(ns_b)
    outcome = run.knowledge(agent_c, fact_x)
    run.check("5. an agent of another organ misses its own organ's working memory",
              outcome["success"] and run.namespace(ns_b)["misses"] == other["misses"] + 1
              and run.namespace(ns_b)["hits"] == other["hits"])

    unknown = str(uuid.uuid4())
    outcome = run.knowledge(agent_b, unknown)
    written = [run.client.request("GET", f"{API}/memory/{ns}/{unknown}").status_code
               for ns in (ns_a, "global")]
    run.check("6. unknown fact: success false, quality 0.1, knowledge_found false",
              not outcome["success"] and outcome["quality"] == 0.1
              and outcome["result"].get("knowledge_found") is False)
    run.check("6. nothing was written to working memory", written == [404, 404], written)

    # Organ A's reads: misses in steps 1, 4 and 6 plus step 6's probe; hits in steps 3 and 5
    # plus step 2's read of the cached item.
    final = run.namespace(ns_a)
    run.check("7. the API's hit and miss figures for organ A match the steps exactly",
              (final["hits"], final["misses"]) == (3, 4)
              and math.isclose(final["hit_rate"], 3 / 7),
              f"hits {final['hits']}, misses {final['misses']}, rate {final['hit_rate']:.3f}")


def _refused_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/launch"


def _scenario_2(run: _Run) -> None:
    organ = run.organ("ops", "actuator")
    (agent,) = run.agents(organ, "Agent-Critical-Ops")
    url = _refused_url()

    def launch(risk: float | None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": "high_stakes", "agent_hint": agent,
                                "payload": {"operation": {"kind": "http", "method": "POST",
                                                          "url": url}, "timeout_s": 1.0}}
        if risk is not None:
            body["risk"] = risk
        outcome: dict[str, Any] = run.call("POST", "/tasks", json=body)
        return outcome

    beat = run.call("GET", f"/agents/{agent}/heartbeat")
    logged_before = beat["agent"]["salient_events_logged"]
    n0 = run.call("GET", "/incidents/stats")["count"]
    outcome = launch(0.9)
    run.check("1. a refused operation at risk 0.9 fails with salience 0.9 and an incident",
              not outcome["success"] and abs(outcome["salience"] - 0.9) <= 1e-9
              and outcome["incident_logged"] and bool(outcome["incident_id"]),
              outcome.get("error"))
    incident_id = outcome["incident_id"]
    incident = run.call("GET", f"/incidents/{incident_id}")
    run.check("2. Mfb holds N0 + 1 incidents",
              run.call("GET", "/incidents/stats")["count"] == n0 + 1)
    run.check("2. the incident has salience 0.9 and a timestamp within a minute of now",
              abs(incident["salience"] - 0.9) <= 1e-9 and abs(incident["ts"] - time.time()) < 60)
    snapshot = incident["snapshot"]
    run.check("2. its snapshot names the agent and carries its full state embedding",
              snapshot.get("agent_id") == agent and len(snapshot.get("h", [])) == len(beat["h"])
              and all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(snapshot["h"], beat["h"],
                                                                         strict=False)))
    run.check("2. it carries the failed task and the error's reason and code",
              incident["task"].get("task_id") == outcome["task_id"]
              and bool(incident["error"].get("reason")) and bool(incident["error"].get("code")),
              incident["error"])
    now = time.time()
    by_salience = run.call("GET", "/incidents", params={"min_salience": 0.9, "limit": 500})
    around = run.call("GET", "/incidents", params={"start": now - 60, "end": now + 60,
                                                   "limit": 500})
    run.check("3. a query with minimum salience 0.9 includes it",
              incident_id in {i["incident_id"] for i in _all_pages(run, "/incidents",
                                                                   {"min_salience": 0.9},
                                                                   by_salience)})
    run.check("3. a time range around now includes it",
              incident_id in {i["incident_id"] for i in _all_pages(
                  run, "/incidents", {"start": now - 60, "end": now + 60}, around)})
    for risk, expected, label in ((0.69, 0, "0.69 logs nothing"), (0.7, 1, "0.7 logs one"),
                                  (None, 0, "the default 0.5 logs nothing")):
        count = run.call("GET", "/incidents/stats")["count"]
        result = launch(risk)
        after = run.call("GET", "/incidents/stats")["count"]
        run.check(f"4. risk {label}",
                  not result["success"] and result["incident_logged"] is bool(expected)
                  and after == count + expected)
    logged = run.call("GET", f"/agents/{agent}/heartbeat")["agent"]["salient_events_logged"]
    run.check("5. the heartbeat counts the salient events (steps 1 and 4's 0.7)",
              logged == logged_before + 2, f"{logged_before} -> {logged}")
    run.not_run("6. incident store down: the task returns, nothing partial",
                "needs control of the deployment's incident store; the test suite covers it")
    refused = run.client.request("POST", f"{API}/incidents", json={
        "agent_id": agent, "organ_id": organ, "salience": 1.5})
    run.check("6. a salience outside [0, 1] is refused with a 4xx",
              400 <= refused.status_code < 500, refused.status_code)


def _all_pages(run: _Run, path: str, params: dict[str, Any], first: dict[str, Any]
               ) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = list(first["items"])
    cursor = first["next_cursor"]
    while cursor:
        page = run.call("GET", path, params={**params, "limit": 500, "cursor": cursor})
        items += page["items"]
        cursor = page["next_cursor"]
    return items


def _scenario_3(run: _Run) -> None:
    fact_y, topic = str(uuid.uuid4()), str(uuid.uuid4())
    content = f"The sky is blue on a clear day. ({run.tag})"
    run.call("POST", "/holons", json={"uuid": fact_y, "content": content, "kind": "fact"})
    run.call("POST", "/holons", json={"uuid": topic, "content": f"general-knowledge {run.tag}",
                                     "kind": "topic",
                                     "edges": [{"rel": "CONTAINS", "to": fact_y}]})
    run.check("1. fact_Y is seeded under general-knowledge",
              [n["uuid"] for n in run.call("GET", f"/holons/{topic}/neighbours")["items"]]
              == [fact_y])

    first = [run.agents(run.organ(f"first-{k}", "utility"), f"first-agent-{k}")[0]
             for k in range(5)]
    # Controls of step 5, made now so the observer meets them in its next cycles.
    once = str(uuid.uuid4())
    run.call("POST", "/holons", json={"uuid": once, "content": f"once {run.tag}", "kind": "fact"})
    run.knowledge(first[0], once)
    absent = str(uuid.uuid4())
    run.knowledge(first[0], absent)
    run.knowledge(first[1], absent)

    results = [run.knowledge(agent, fact_y) for agent in first for _ in range(3)]
    found = sum(1 for r in results if r["success"] and r["result"].get("content") == content)
    run.check("2. 15 of 15 lookups return the fact", found == 15, f"{found}/15")
    # A cold miss is a lookup that missed every working-memory namespace and read Mlt. With the
    # observer running, fact_Y may reach global Mw before the fifth organ asks, so count them.
    cold = sum(1 for r in results if r["memory_events"].get("mlt_read", 0) > 0)
    misses = run.call("GET", "/memory/misses", params={"key": fact_y})["items"][fact_y]
    run.check("2. the per-item miss count equals the number of cold misses",
              misses == cold and 1 <= cold <= 5, f"{misses} misses, {cold} cold lookups")

    period = run.stats().get("hot_miss_period_s", 5.0)
    deadline = time.monotonic() + 2 * period + 1.0
    promoted = False
    while time.monotonic() < deadline and not promoted:
        time.sleep(0.25)
        promoted = run.client.request("GET", f"{API}/memory/global/{fact_y}").status_code == 200
    run.check("3. within two observer cycles the global working memory holds fact_Y", promoted)
    time.sleep(period)  # one more cycle: the observer must not read it again
    reads = run.call("GET", "/memory/misses",
                     params={"key": [fact_y, absent, once]})["promotion_reads"]
    run.check("3. the observer read Mlt once for it, not once per cycle",
              reads[fact_y] == 1, f"{reads[fact_y]} promotion reads of fact_Y")

    second = [run.agents(run.organ(f"second-{k}", "utility"), f"second-agent-{k}")[0]
              for k in range(5)]
    global_hits, lookups = run.namespace("global")["hits"], run.stats()["mlt_lookups"]
    results = [run.knowledge(agent, fact_y) for agent in second]
    run.check("4. five new organs all hit the global working memory",
              all(r["success"] for r in results)
              and run.namespace("global")["hits"] == global_hits + 5)
    run.check("4. Mlt saw no new lookup and the miss count did not change",
              run.stats()["mlt_lookups"] == lookups
              and run.call("GET", "/memory/misses", params={"key": fact_y})["items"][fact_y]
              == misses)

    statuses = [run.client.request("GET", f"{API}/memory/global/{key}").status_code
                for key in (once, absent)]
    run.check("5. an item missed once is not promoted; an item absent from Mlt is skipped",
              statuses == [404, 404], statuses)
    run.check("5. the observer read the absent item once, skipped it, and kept running",
              promoted and reads[absent] == 1 and reads[once] == 0, reads)

    crowd = run.organ("crowd", "utility")
    ids = [f"crowd-{k}" for k in range(20)]
    run.agents(crowd, *ids)
    listed = run.call("GET", "/agents", params={"organ_id": crowd, "limit": 500})["items"]
    run.check("6. twenty agents created at once exist exactly once each",
              sorted(a["agent_id"] for a in listed) == sorted(f"{i}-{run.tag}" for i in ids))


_SCENARIOS: dict[int, tuple[str, Callable[[_Run], None]]] = {
    1: ("collaborative task with a knowledge gap (Mw -> Mlt escalation and caching)",
        _scenario_1),
    2: ("critical failure and flashbulb incident", _scenario_2),
    3: ("pattern recognition and proactive caching", _scenario_3),
}


def run_scenario(number: int, client: HttpClient, out: TextIO = sys.stdout) -> ScenarioReport:
    """Run one scenario; every check is printed and recorded, a broken step stops the rest."""
    title, body = _SCENARIOS[number]
    run = _Run(client, number, out)
    print(f"Scenario {number}: {title}", file=out)
    try:
        body(run)
    except CheckFailed as failure:
        run.check("the scenario ran to its end", False, str(failure))
    report = run.report
    print(f"Scenario {number}: {len(report.passed)} passed, {len(report.failed)} failed"
          + (f", {len(report.not_run)} not run" if report.not_run else ""), file=out)
    return report
