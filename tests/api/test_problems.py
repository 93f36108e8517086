"""Every error is an RFC 9457 problem with a precise status, and a 500 tells nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import API, Api, assert_problem


def test_unknown_route_and_method(api: Api) -> None:
    body = assert_problem(api.client.get(f"{API}/nowhere"), 404)
    assert body["type"] == "about:blank" and body["title"] == "Not Found"
    response = api.client.delete(f"{API}/organs")
    body = assert_problem(response, 405)
    assert "GET" in response.headers["allow"] and "POST" in response.headers["allow"]


def test_an_unexpected_error_is_a_500_that_leaks_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode() -> None:
        raise RuntimeError("password=hunter2 at /srv/secret.py line 12")

    monkeypatch.setattr(api.services.tier0, "organs", explode)
    response = api.client.get(f"{API}/organs")
    body = assert_problem(response, 500, "internal_error")
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert body["detail"] == "the server failed to handle the request"


def test_a_value_error_escaping_a_service_is_a_500(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(organ_id: str) -> None:
        raise ValueError("internal inconsistency")

    monkeypatch.setattr(api.services.tier0, "organ", broken)
    assert_problem(api.client.get(f"{API}/organs/o1"), 500)


def test_400_and_422_carry_the_refused_inputs(api: Api) -> None:
    body = assert_problem(api.client.get(f"{API}/organs", params={"limit": "many"}), 400)
    assert body["errors"] == [{"location": "query", "name": "limit",
                               "reason": "Expected `int`, got `str`"}]
    body = assert_problem(api.client.get(f"{API}/organs", params={"limit": 501}), 422)
    assert body["errors"][0]["name"] == "limit"
    assert body["type"] == "urn:seedcore:problem:constraint_violation"


def test_a_domain_rule_is_a_422_without_field_errors(api: Api) -> None:
    api.organ("o1")
    body = assert_problem(api.client.post(f"{API}/tasks", json={"type": "knowledge"}), 422,
                          "invalid_input")
    assert body["errors"] == [] and "required fact" in body["detail"]


def test_a_body_that_is_not_json(api: Api) -> None:
    response = api.client.post(f"{API}/organs", content=b"organ_id=x",
                               headers={"content-type": "application/json"})
    assert_problem(response, 400, "malformed_request")
