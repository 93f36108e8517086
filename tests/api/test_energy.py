"""Energy over HTTP: terms, attribution, the ledger and budgets."""

from __future__ import annotations

from uuid import uuid4

import pytest

from tests.api.conftest import API, Api, assert_problem


def populate(api: Api) -> None:
    """Two organs, three agents, each of which ran a task that cost memory reads."""
    api.organ("o1")
    api.organ("o2")
    api.agents("o1", "a1", "a2")
    api.agents("o2", "b1")
    for agent in ("a1", "a2", "b1"):
        api.task({"type": "knowledge", "agent_hint": agent, "required_facts": [str(uuid4())]})


def test_current_energy(api: Api) -> None:
    populate(api)
    body = api.client.get(f"{API}/energy").json()
    terms = body["terms"]
    assert set(terms) == {"pair", "hyper", "entropy", "reg", "mem"}
    assert body["total"] == pytest.approx(sum(terms.values()))
    current, _ = api.services.energy.current()
    assert body["total"] == pytest.approx(current.total)


def test_attribution(api: Api) -> None:
    populate(api)
    body = api.client.get(f"{API}/energy/attribution", params={"limit": 2}).json()
    assert [o["organ_id"] for o in body["organs"]] == ["o1", "o2"]
    assert [a["agent_id"] for a in body["items"]] == ["a1", "a2"]
    rest = api.client.get(f"{API}/energy/attribution",
                          params={"limit": 2, "cursor": body["next_cursor"]}).json()
    assert [a["agent_id"] for a in rest["items"]] == ["b1"] and rest["next_cursor"] is None
    report = api.services.energy.attribution()
    assert body["items"][0]["energy"] == pytest.approx(report.per_agent["a1"])
    assert body["total"] == pytest.approx(report.terms.total)


def test_ledger_pages_and_filters(api: Api) -> None:
    populate(api)
    api.services.energy.snapshot()
    api.task({"type": "general", "agent_hint": "a1"})
    api.clock.advance(1.0)
    api.services.energy.snapshot()
    client = api.client
    everything = client.get(f"{API}/energy/ledger", params={"limit": 500}).json()["items"]
    assert everything and [e["seq"] for e in everything] == list(range(1, len(everything) + 1))
    for entry in everything:
        assert entry["d_e"] == pytest.approx(entry["total_after"] - entry["total_before"])
    walked, cursor = [], None
    while True:
        params = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        page = client.get(f"{API}/energy/ledger", params=params).json()
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == everything
    cluster = client.get(f"{API}/energy/ledger", params={"scope": "cluster"}).json()["items"]
    assert len(cluster) == 2 and {e["scope"] for e in cluster} == {"cluster"}
    assert cluster[0]["terms_after"].keys() >= {"pair", "total"}
    organ = client.get(f"{API}/energy/ledger",
                       params={"scope": "organ", "scope_id": "o1"}).json()["items"]
    assert organ and {(e["scope"], e["scope_id"]) for e in organ} == {("organ", "o1")}
    assert_problem(client.get(f"{API}/energy/ledger", params={"scope": "galaxy"}), 422)
    assert_problem(client.get(f"{API}/energy/ledger", params={"cursor": "@@@"}), 400)


def test_budgets(api: Api) -> None:
    populate(api)
    client = api.client
    response = client.put(f"{API}/energy/budgets/agent/a1", json={"joules": 5.0})
    assert response.status_code == 200
    usage = response.json()
    assert usage["scope"] == "agent" and usage["budget_joules"] == 5.0
    assert usage["used_joules"] > 0 and usage["level"] == "ok"
    client.put(f"{API}/energy/budgets/organ/o2", json={"joules": 1e-9})
    listed = client.get(f"{API}/energy/budgets").json()["items"]
    keys = [(u["scope"], u["scope_id"]) for u in listed]
    assert keys == sorted(keys) and ("organ", "o2") in keys
    assert {(u["scope"], u["scope_id"]): u["level"] for u in listed}[("organ", "o2")] == "hard"
    assert client.get(f"{API}/agents/a1/heartbeat").json()["budget_joules"] == 5.0

    assert client.delete(f"{API}/energy/budgets/agent/a1").status_code == 204
    assert_problem(client.delete(f"{API}/energy/budgets/agent/a1"), 404)
    assert_problem(client.put(f"{API}/energy/budgets/agent/ghost", json={"joules": 1}), 404)
    assert_problem(client.put(f"{API}/energy/budgets/organ/ghost", json={"joules": 1}), 404)
    assert_problem(client.put(f"{API}/energy/budgets/cluster/c", json={"joules": 1}), 422)
    assert_problem(client.put(f"{API}/energy/budgets/agent/a1", json={"joules": 0}), 422)
    assert_problem(client.put(f"{API}/energy/budgets/agent/a1", json={"joules": "lots"}), 400)
    assert_problem(client.put(f"{API}/energy/budgets/agent/a1", json={}), 400)
