"""Holons over HTTP: create with edges (all or nothing), get, search, relate, neighbours,
delete."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from adapters.memory.holon_graph import InMemoryHolonGraph
from tests.api.conftest import API, Api, assert_problem

FACT = "0b7e3f55-6d8b-4c39-9a43-1c1e3a5f0a01"
TASK = "0b7e3f55-6d8b-4c39-9a43-1c1e3a5f0a02"
INJECTION = "KNOWS]-() DELETE n//"


def holon(api: Api, status: int = 201, **body: Any) -> dict[str, Any]:
    response = api.client.post(f"{API}/holons", json={"kind": "fact", **body})
    assert response.status_code == status, response.text
    return dict(response.json())


def graph(api: Api) -> InMemoryHolonGraph:
    assert isinstance(api.adapters.graph, InMemoryHolonGraph)
    return api.adapters.graph


def test_create_with_edges_and_get(api: Api) -> None:
    fact = holon(api, content="The launch code is 1234.", uuid=FACT, meta={"name": "fact_X"})
    assert fact["uuid"] == FACT and fact["meta"] == {"name": "fact_X"}
    assert len(fact["content_hash"]) == 64
    task = holon(api, content="task-alpha", kind="task", uuid=TASK,
                 edges=[{"rel": "REQUIRES", "to": FACT}])
    assert api.client.get(f"{API}/holons/{FACT}").json() == fact
    assert task["kind"] == "task"
    assert graph(api).counts() == (2, 1)
    # writing the same holons again changes nothing, and answers 200
    holon(api, status=200, content="task-alpha", kind="task", uuid=TASK,
          edges=[{"rel": "REQUIRES", "to": FACT}])
    assert api.services.memory.holons.count() == 2 and graph(api).counts() == (2, 1)


def test_content_derived_uuid(api: Api) -> None:
    first = holon(api, content="Water boils at 100 C.")
    again = holon(api, status=200, content="Water boils at 100 C.")
    assert first["uuid"] == again["uuid"]


def test_incoming_edge(api: Api) -> None:
    holon(api, content="topic", kind="topic", uuid=TASK)
    holon(api, content="fact", uuid=FACT, edges=[{"rel": "CONTAINS", "from": TASK}])
    page = api.client.get(f"{API}/holons/{TASK}/neighbours").json()
    assert page["items"] == [{"uuid": FACT, "rel": "CONTAINS", "depth": 1}]


@pytest.mark.parametrize(
    ("edges", "status"),
    [
        ([{"rel": INJECTION, "to": FACT}], 422),
        ([{"rel": "KNOWS"}], 422),  # neither to nor from
        ([{"rel": "KNOWS", "to": FACT, "from": FACT}], 422),  # both
        ([{"rel": "KNOWS", "to": str(uuid.uuid4())}], 422),  # the other end does not exist
        ([{"rel": "KNOWS", "to": "nope"}], 400),
    ],
)
def test_bad_edges_write_nothing(api: Api, edges: list[dict[str, str]], status: int) -> None:
    holon(api, content="fact", uuid=FACT)
    response = api.client.post(f"{API}/holons", json={"content": "new", "kind": "x",
                                                      "edges": edges})
    assert_problem(response, status)
    assert api.services.memory.holons.count() == 1 and graph(api).counts() == (1, 0)


def test_graph_failure_rolls_the_write_back(api: Api) -> None:
    holon(api, content="fact", uuid=FACT)
    graph(api).fail_next = 1
    response = api.client.post(f"{API}/holons", json={
        "content": "task", "kind": "task", "uuid": TASK, "edges": [{"rel": "REQUIRES", "to": FACT}],
    })
    body = assert_problem(response, 503, "write_failed")
    assert body["backend"] == "graph"
    assert_problem(api.client.get(f"{API}/holons/{TASK}"), 404)
    assert graph(api).counts() == (1, 0)


def test_search(api: Api) -> None:
    holon(api, content="The sky is blue on a clear day.", meta={"topic": "sky"})
    holon(api, content="Grass is green.", kind="note", meta={"topic": "grass"})
    client = api.client
    hits = client.post(f"{API}/holons/search", json={"text": "The sky is blue on a clear day.",
                                                     "k": 5}).json()["items"]
    assert hits[0]["holon"]["content"] == "The sky is blue on a clear day."
    assert hits[0]["similarity"] == pytest.approx(1.0)
    assert len(hits) == 2
    notes = client.post(f"{API}/holons/search", json={"text": "x", "kind": "note"}).json()
    assert [h["holon"]["kind"] for h in notes["items"]] == ["note"]
    by_meta = client.post(f"{API}/holons/search",
                          json={"text": "x", "meta": {"topic": "grass"}}).json()["items"]
    assert [h["holon"]["content"] for h in by_meta] == ["Grass is green."]
    assert_problem(client.post(f"{API}/holons/search", json={"text": "x", "k": 0}), 422)
    assert_problem(client.post(f"{API}/holons/search",
                               json={"text": "x", "meta": {"bad key": "v"}}), 422)


def test_relate_and_neighbours(api: Api) -> None:
    a, b, c = (str(uuid.UUID(int=n)) for n in (1, 2, 3))
    for holon_id in (a, b, c):
        holon(api, content=f"holon {holon_id}", uuid=holon_id)
    client = api.client
    created = client.post(f"{API}/holons/relations", json={"src": a, "rel": "KNOWS", "dst": b})
    assert created.status_code == 201
    assert created.json() == {"src": a, "rel": "KNOWS", "dst": b}
    client.post(f"{API}/holons/relations", json={"src": b, "rel": "LIKES", "dst": c})
    one = client.get(f"{API}/holons/{a}/neighbours").json()["items"]
    assert one == [{"uuid": b, "rel": "KNOWS", "depth": 1}]
    two = client.get(f"{API}/holons/{a}/neighbours", params={"depth": 2}).json()["items"]
    assert [(n["uuid"], n["depth"]) for n in two] == [(b, 1), (c, 2)]
    only = client.get(f"{API}/holons/{a}/neighbours",
                      params=[("depth", "2"), ("rel", "KNOWS")]).json()["items"]
    assert [n["uuid"] for n in only] == [b]
    both = client.get(f"{API}/holons/{a}/neighbours",
                      params=[("depth", "2"), ("rel", "KNOWS"), ("rel", "LIKES")]).json()
    assert len(both["items"]) == 2

    assert_problem(client.get(f"{API}/holons/{a}/neighbours", params={"rel": INJECTION}), 422)
    assert_problem(client.get(f"{API}/holons/{a}/neighbours", params={"depth": 6}), 422)
    assert_problem(client.get(f"{API}/holons/{uuid.uuid4()}/neighbours"), 404)
    assert_problem(client.post(f"{API}/holons/relations",
                               json={"src": a, "rel": INJECTION, "dst": b}), 422)
    assert_problem(client.post(f"{API}/holons/relations",
                               json={"src": a, "rel": "KNOWS", "dst": str(uuid.uuid4())}), 422)


def test_delete_removes_the_holon_and_its_edges_only(api: Api) -> None:
    holon(api, content="fact", uuid=FACT)
    holon(api, content="task", uuid=TASK, edges=[{"rel": "REQUIRES", "to": FACT}])
    assert api.client.delete(f"{API}/holons/{FACT}").status_code == 204
    assert_problem(api.client.get(f"{API}/holons/{FACT}"), 404)
    assert api.client.get(f"{API}/holons/{TASK}").status_code == 200
    assert graph(api).counts() == (1, 0)
    assert_problem(api.client.delete(f"{API}/holons/{FACT}"), 404)


def test_malformed_holon_ids(api: Api) -> None:
    assert_problem(api.client.get(f"{API}/holons/not-a-uuid"), 422)
    assert_problem(api.client.delete(f"{API}/holons/not-a-uuid"), 422)
    assert_problem(api.client.get(f"{API}/holons/{uuid.uuid4()}"), 404)


def test_graph_down_is_a_503(api: Api) -> None:
    holon(api, content="fact", uuid=FACT)
    graph(api).down = True
    body = assert_problem(api.client.get(f"{API}/holons/{FACT}/neighbours"), 503)
    assert body["backend"] == "graph"
