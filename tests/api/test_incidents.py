"""Incidents over HTTP: create, get, query by time and salience, statistics."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.memory.incident_store import InMemoryIncidentStore
from tests.api.conftest import API, Api, assert_problem


def report(api: Api, salience: float, **extra: Any) -> dict[str, Any]:
    body = {"agent_id": "a1", "organ_id": "o1", "salience": salience, **extra}
    response = api.client.post(f"{API}/incidents", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def store(api: Api) -> InMemoryIncidentStore:
    assert isinstance(api.adapters.incidents, InMemoryIncidentStore)
    return api.adapters.incidents


def test_create_and_get(api: Api) -> None:
    created = report(api, 0.9, task={"task_id": "t"}, error={"code": "E"}, snapshot={"h": [1.0]})
    assert created["ts"] == api.clock.now() and created["salience"] == 0.9
    assert created["task"] == {"task_id": "t"} and created["snapshot"] == {"h": [1.0]}
    got = api.client.get(f"{API}/incidents/{created['incident_id']}")
    assert got.status_code == 200 and got.json() == created
    assert_problem(api.client.get(f"{API}/incidents/unknown"), 404)


@pytest.mark.parametrize("salience", [1.5, -0.1])
def test_salience_outside_the_unit_interval_is_refused(api: Api, salience: float) -> None:
    body = {"agent_id": "a1", "organ_id": "o1", "salience": salience}
    assert_problem(api.client.post(f"{API}/incidents", json=body), 422)
    assert api.services.incidents.count() == 0


def test_create_errors(api: Api) -> None:
    client = api.client
    assert_problem(client.post(f"{API}/incidents", json={"agent_id": "a1", "organ_id": "o1"}),
                   400)
    assert_problem(client.post(f"{API}/incidents",
                               json={"agent_id": "a 1", "organ_id": "o1", "salience": 1}), 422)


def test_query_by_time_and_salience(api: Api) -> None:
    t0 = api.clock.now()
    low = report(api, 0.5)
    api.clock.advance(10)
    mid = report(api, 0.8)
    api.clock.advance(10)
    high = report(api, 0.95)
    client = api.client

    def ids(**params: Any) -> list[str]:
        page = client.get(f"{API}/incidents", params=params).json()
        return [i["incident_id"] for i in page["items"]]

    assert ids() == [mid["incident_id"], high["incident_id"]]  # default floor: 0.7
    assert ids(min_salience=0) == [low["incident_id"], mid["incident_id"], high["incident_id"]]
    assert ids(min_salience=0.9) == [high["incident_id"]]
    assert ids(start=t0 + 5, end=t0 + 15, min_salience=0) == [mid["incident_id"]]
    assert ids(start=t0 + 100, end=t0 + 200) == []
    assert_problem(client.get(f"{API}/incidents", params={"min_salience": 2}), 422)
    assert_problem(client.get(f"{API}/incidents", params={"start": 10, "end": 5}), 422)
    assert_problem(client.get(f"{API}/incidents", params={"start": "yesterday"}), 400)


def test_query_pages(api: Api) -> None:
    created = []
    for k in range(7):
        created.append(report(api, 0.9)["incident_id"])
        if k % 2:
            api.clock.advance(1)  # some share a timestamp: the id breaks the tie
    walked, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        page = api.client.get(f"{API}/incidents", params=params).json()
        assert len(page["items"]) <= 3
        walked += [i["incident_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(walked) == sorted(created) and len(set(walked)) == 7


def test_stats(api: Api) -> None:
    report(api, 0.8)
    report(api, 1.0)
    api.clock.advance(2 * 86_400)
    report(api, 0.9)
    assert api.client.get(f"{API}/incidents/stats").json() == {
        "count": 3, "last_24h": 1, "mean_salience": pytest.approx(0.9),
    }


def test_store_down_is_a_503(api: Api) -> None:
    store(api).down = True
    for response in (api.client.get(f"{API}/incidents/stats"),
                     api.client.get(f"{API}/incidents"),
                     api.client.get(f"{API}/incidents/x"),
                     api.client.post(f"{API}/incidents",
                                     json={"agent_id": "a", "organ_id": "o", "salience": 1})):
        body = assert_problem(response, 503, "backend_unavailable")
        assert body["backend"] == "incident_store"
    store(api).down = False
    assert api.services.incidents.count() == 0
