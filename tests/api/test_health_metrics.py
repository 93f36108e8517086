"""Liveness, readiness and metrics, at the root and under /api/v1."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from prometheus_client import CollectorRegistry, Counter

from adapters.memory.holon_graph import InMemoryHolonGraph
from adapters.memory.incident_store import InMemoryIncidentStore
from adapters.memory.working_memory import InMemoryWorkingMemory
from entrypoints.api import create_app
from tests.api.conftest import API, Api

BACKENDS = {"working_memory", "holon_store", "graph", "incident_store", "consolidation_queue",
            "ledger", "runtime"}


@pytest.mark.parametrize("prefix", ["", API])
def test_liveness(api: Api, prefix: str) -> None:
    response = api.client.get(f"{prefix}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize("prefix", ["", API])
def test_ready_when_every_backend_is(api: Api, prefix: str) -> None:
    response = api.client.get(f"{prefix}/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["backends"] == dict.fromkeys(BACKENDS, "ok")


def test_not_ready_names_each_backend_that_is_down(api: Api) -> None:
    for adapter in (api.adapters.incidents, api.adapters.graph, api.adapters.working):
        assert isinstance(adapter, InMemoryIncidentStore | InMemoryHolonGraph
                          | InMemoryWorkingMemory)
        adapter.down = True
    response = api.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    down = {name for name, status in body["backends"].items() if status != "ok"}
    assert down == {"incident_store", "graph", "working_memory"}
    assert body["backends"]["graph"].startswith("unavailable: ")
    assert body["backends"]["holon_store"] == "ok"
    # liveness does not depend on the backends
    assert api.client.get("/healthz").status_code == 200


def test_custom_readiness(api: Api) -> None:
    app = create_app(api.services, readiness=lambda: {"redis": "ok", "neo4j": "timeout"})
    with TestClient(app=app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["backends"] == {"redis": "ok", "neo4j": "timeout"}


def test_default_ledger_is_the_energy_services_own(api: Api) -> None:
    api.services.energy.snapshot()
    app = create_app(api.services)
    with TestClient(app=app) as client:
        assert client.get("/readyz").json()["backends"]["ledger"] == "ok"
        assert client.get(f"{API}/energy/ledger").json()["items"]


@pytest.mark.parametrize("prefix", ["", API])
def test_metrics_in_the_prometheus_text_format(api: Api, prefix: str) -> None:
    Counter("seedcore_test_requests", "a test counter", registry=api.registry).inc(3)
    response = api.client.get(f"{prefix}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "seedcore_test_requests_total 3.0" in response.text


def test_metrics_default_to_the_global_registry(api: Api) -> None:
    app = create_app(api.services)
    with TestClient(app=app) as client:
        response = client.get("/metrics")
    assert response.status_code == 200 and "python_info" in response.text


def test_a_registry_of_its_own(api: Api) -> None:
    registry = CollectorRegistry()
    app = create_app(api.services, registry=registry)
    with TestClient(app=app) as client:
        assert client.get("/metrics").text == ""
