"""Organs and agents over HTTP."""

from __future__ import annotations

from tests.api.conftest import API, Api, assert_problem


def test_create_get_and_list_organs(api: Api) -> None:
    client = api.client
    response = client.post(f"{API}/organs", json={"organ_id": "brain", "organ_type": "cognitive"})
    assert response.status_code == 201
    assert response.headers["location"] == f"{API}/organs/brain"
    assert response.json() == {"organ_id": "brain", "organ_type": "cognitive",
                               "created_at": api.clock.now()}
    assert client.get(f"{API}/organs/brain").json()["organ_type"] == "cognitive"
    api.organ("arm")
    page = client.get(f"{API}/organs").json()
    assert [o["organ_id"] for o in page["items"]] == ["arm", "brain"]
    assert page["next_cursor"] is None


def test_duplicate_organ_is_a_conflict(api: Api) -> None:
    api.organ("brain")
    response = api.client.post(f"{API}/organs", json={"organ_id": "brain", "organ_type": "x"})
    body = assert_problem(response, 409, "conflict")
    assert "brain" in body["detail"]


def test_organ_input_errors(api: Api) -> None:
    client = api.client
    assert_problem(client.post(f"{API}/organs", json={"organ_id": "x"}), 400, "malformed_request")
    assert_problem(client.post(f"{API}/organs", json={"organ_id": 1, "organ_type": "x"}), 400)
    body = assert_problem(
        client.post(f"{API}/organs", json={"organ_id": "a b", "organ_type": "x"}), 422,
        "constraint_violation",
    )
    assert body["errors"][0]["name"] == "organ_id"
    assert body["errors"][0]["location"] == "body"
    assert_problem(client.get(f"{API}/organs/nope"), 404, "not_found")


def test_create_list_get_agents(api: Api) -> None:
    client = api.client
    api.organ("o1")
    api.organ("o2")
    body = {"agents": [{"organ_id": "o1", "agent_id": "a1", "capacity": 8},
                       {"organ_id": "o1"}, {"organ_id": "o2", "agent_id": "b1"}]}
    response = client.post(f"{API}/agents", json=body)
    assert response.status_code == 201
    created = response.json()["agents"]
    assert [a["organ_id"] for a in created] == ["o1", "o1", "o2"]
    assert created[0]["capacity"] == 8 and created[0]["tasks_processed"] == 0
    assert created[1]["agent_id"].startswith("o1-")
    assert set(created[0]["roles"]) == {"E", "S", "O"}

    everyone = client.get(f"{API}/agents").json()["items"]
    assert len(everyone) == 3
    in_o1 = client.get(f"{API}/agents", params={"organ_id": "o1"}).json()["items"]
    assert {a["agent_id"] for a in in_o1} == {"a1", created[1]["agent_id"]}
    assert client.get(f"{API}/agents/b1").json()["organ_id"] == "o2"
    assert_problem(client.get(f"{API}/agents", params={"organ_id": "nope"}), 404)


def test_agent_batch_is_all_or_nothing(api: Api) -> None:
    client = api.client
    api.organ("o1")
    api.agents("o1", "a1")
    duplicate = {"agents": [{"organ_id": "o1", "agent_id": "new"},
                            {"organ_id": "o1", "agent_id": "a1"}]}
    assert_problem(client.post(f"{API}/agents", json=duplicate), 409, "conflict")
    twice = {"agents": [{"organ_id": "o1", "agent_id": "z"}, {"organ_id": "o1", "agent_id": "z"}]}
    assert_problem(client.post(f"{API}/agents", json=twice), 409)
    unknown = {"agents": [{"organ_id": "o1", "agent_id": "new"}, {"organ_id": "ghost"}]}
    assert_problem(client.post(f"{API}/agents", json=unknown), 404)
    assert_problem(client.get(f"{API}/agents/new"), 404)
    assert_problem(client.post(f"{API}/agents", json={"agents": []}), 422)
    assert_problem(client.post(f"{API}/agents",
                               json={"agents": [{"organ_id": "o1", "capacity": 0}]}), 422)
    assert_problem(client.post(f"{API}/agents", json={"agents": "a1"}), 400)


def test_heartbeat_and_delete(api: Api) -> None:
    client = api.client
    api.organ("o1")
    api.agents("o1", "a1")
    beat = client.get(f"{API}/agents/a1/heartbeat").json()
    assert beat["agent"]["agent_id"] == "a1"
    assert len(beat["h"]) == api.services.memory.embedder.dim
    assert beat["taken_at"] == api.clock.now()
    assert beat["budget_joules"] is None
    assert_problem(client.get(f"{API}/agents/ghost/heartbeat"), 404)

    response = client.delete(f"{API}/agents/a1")
    assert response.status_code == 204 and response.content == b""
    assert_problem(client.get(f"{API}/agents/a1"), 404)
    assert_problem(client.delete(f"{API}/agents/a1"), 404)


def test_deleting_a_busy_agent_is_a_conflict(api: Api) -> None:
    api.organ("o1")
    api.agents("o1", "a1")
    api.services.tier0.population.in_flight["a1"] = 1
    assert_problem(api.client.delete(f"{API}/agents/a1"), 409)


def test_runtime_hosts_account_for_every_agent(api: Api) -> None:
    api.organ("o1")
    api.agents("o1", "a1", "a2", "a3")
    body = api.client.get(f"{API}/runtime/hosts").json()
    assert body["agents"] == 3
    (host,) = body["hosts"]
    assert host["name"] == "inprocess" and host["agents"] == 3 and host["pid"] > 0
    beat = api.client.get(f"{API}/agents/a1/heartbeat").json()
    assert beat["host"] == "inprocess"
