"""Working memory over HTTP: put, get, delete, statistics, TTLs and a backend that is down."""

from __future__ import annotations

import pytest

from adapters.memory.working_memory import InMemoryWorkingMemory
from tests.api.conftest import API, TTL_S, Api, assert_problem


def test_put_get_delete(api: Api) -> None:
    client = api.client
    url = f"{API}/memory/organ:brain/greeting"
    created = client.put(url, json={"value": "hello", "ttl_s": 3})
    assert created.status_code == 201
    assert created.json() == {"namespace": "organ:brain", "key": "greeting", "value": "hello",
                              "ttl_s": 3.0}
    replaced = client.put(url, json={"value": "hi"})
    assert replaced.status_code == 200 and replaced.json()["ttl_s"] == TTL_S
    got = client.get(url)
    assert got.status_code == 200 and got.json()["value"] == "hi"
    assert client.delete(url).status_code == 204
    assert_problem(client.get(url), 404)
    assert_problem(client.delete(url), 404)


def test_url_encoded_namespace(api: Api) -> None:
    api.client.put(f"{API}/memory/organ%3Abrain/k", json={"value": "v"})
    assert api.client.get(f"{API}/memory/organ:brain/k").json()["value"] == "v"


def test_items_expire_after_their_ttl(api: Api) -> None:
    url = f"{API}/memory/global/fact"
    api.client.put(url, json={"value": "v", "ttl_s": 2})
    api.clock.advance(1.0)
    assert api.client.get(url).json()["ttl_s"] == pytest.approx(1.0)
    api.clock.advance(1.0)
    assert_problem(api.client.get(url), 404)


def test_stats_count_hits_and_misses(api: Api) -> None:
    client = api.client
    client.put(f"{API}/memory/global/a", json={"value": "12345"})
    client.get(f"{API}/memory/global/a")
    client.get(f"{API}/memory/global/a")
    client.get(f"{API}/memory/global/missing")
    client.get(f"{API}/memory/organ:x/missing")
    stats = client.get(f"{API}/memory/stats").json()
    assert stats["mlt_lookups"] == 0 and stats["degraded_reads"] == 0
    by_name = {s["namespace"]: s for s in stats["namespaces"]}
    assert by_name["global"] == {"namespace": "global", "hits": 2, "misses": 1,
                                 "hit_rate": pytest.approx(2 / 3), "items": 1, "bytes": 5}
    assert by_name["organ:x"]["misses"] == 1 and by_name["organ:x"]["items"] == 0
    only = client.get(f"{API}/memory/stats", params={"namespace": "organ:x"}).json()
    assert [s["namespace"] for s in only["namespaces"]] == ["organ:x"]
    assert_problem(client.get(f"{API}/memory/stats", params={"namespace": "bad"}), 422)


def test_durable_items_are_queued_for_consolidation(api: Api) -> None:
    source = "0b7e3f55-6d8b-4c39-9a43-1c1e3a5f0a01"
    body = {"value": "worth keeping", "durable": True, "surprise": 0.8, "source": source}
    assert api.client.put(f"{API}/memory/global/k", json=body).status_code == 201
    assert api.services.memory.queue.size() == 1


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/memory/bad/key", {"value": "v"}, 422),
        ("/memory/organ:/key", {"value": "v"}, 422),
        ("/memory/organ:a b/key", {"value": "v"}, 422),
        ("/memory/global/-key", {"value": "v"}, 422),
        ("/memory/global/key", {"value": "v", "ttl_s": 0}, 422),
        ("/memory/global/key", {"value": "v", "ttl_s": -1}, 422),
        ("/memory/global/key", {"value": 5}, 400),
        ("/memory/global/key", {"value": "v", "source": "nope"}, 400),
        ("/memory/global/key", {"value": "v", "other": 1}, 400),
    ],
)
def test_put_errors(api: Api, path: str, body: object, status: int) -> None:
    assert_problem(api.client.put(f"{API}{path}", json=body), status)


def test_bad_namespace_on_read_and_delete(api: Api) -> None:
    assert_problem(api.client.get(f"{API}/memory/everything/key"), 422)
    assert_problem(api.client.delete(f"{API}/memory/organ:*/key"), 422)


def test_working_memory_down_is_a_503(api: Api) -> None:
    working = api.adapters.working
    assert isinstance(working, InMemoryWorkingMemory)
    working.down = True
    for response in (api.client.get(f"{API}/memory/global/k"),
                     api.client.put(f"{API}/memory/global/k", json={"value": "v"}),
                     api.client.delete(f"{API}/memory/global/k"),
                     api.client.get(f"{API}/memory/stats")):
        body = assert_problem(response, 503, "backend_unavailable")
        assert body["backend"] == "working_memory"
        assert response.headers["retry-after"] == "1"


def test_item_misses(api: Api) -> None:
    api.organ("o1")
    api.agents("o1", "a1")
    fact = "5ca1ab1e-0000-4000-8000-00000000000f"
    never = "5ca1ab1e-0000-4000-8000-000000000000"
    for _ in range(2):
        api.task({"type": "knowledge", "agent_hint": "a1", "required_facts": [fact]})
    response = api.client.get(f"{API}/memory/misses", params=[("key", fact), ("key", never)])
    assert response.json() == {"items": {fact: 2, never: 0},
                               "promotion_reads": {fact: 0, never: 0}}
    assert_problem(api.client.get(f"{API}/memory/misses"), 400)
    assert_problem(api.client.get(f"{API}/memory/misses", params={"key": "nope"}), 422)


def test_stats_state_the_configuration(api: Api) -> None:
    body = api.client.get(f"{API}/memory/stats").json()
    assert body["ttl_s"] == TTL_S
    assert body["hot_miss_period_s"] == api.services.config.loops.hot_miss_s
    assert body["promotion_reads"] == 0
