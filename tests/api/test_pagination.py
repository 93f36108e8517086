"""Cursor pagination: every item once, in order, across pages; malformed cursors are 400s."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from entrypoints.api.pagination import Pager
from entrypoints.api.problems import BadRequest
from tests.api.conftest import API, Api, assert_problem


def walk(api: Api, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": limit}
        if cursor is not None:
            query["cursor"] = cursor
        response = api.client.get(f"{API}{path}", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.parametrize("limit", [1, 2, 7, 50, 500])
def test_organs_and_agents_pages_have_no_gaps_or_duplicates(api: Api, limit: int) -> None:
    for k in range(13):
        api.organ(f"organ-{k:02d}")
    api.client.post(f"{API}/agents", json={"agents": [{"organ_id": "organ-00"}] * 11})
    organs = [o["organ_id"] for o in walk(api, "/organs", limit)]
    assert organs == [f"organ-{k:02d}" for k in range(13)]
    agents = [a["agent_id"] for a in walk(api, "/agents", limit, organ_id="organ-00")]
    assert len(agents) == 11 and agents == sorted(set(agents))


def test_an_exact_last_page_has_no_next_cursor(api: Api) -> None:
    for k in range(4):
        api.organ(f"o{k}")
    first = api.client.get(f"{API}/organs", params={"limit": 2}).json()
    second = api.client.get(f"{API}/organs",
                            params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [o["organ_id"] for o in second["items"]] == ["o2", "o3"]
    assert second["next_cursor"] is None


def test_items_added_between_pages_cause_no_duplicates(api: Api) -> None:
    for name in ("b", "d", "f"):
        api.organ(name)
    first = api.client.get(f"{API}/organs", params={"limit": 2}).json()
    api.organ("a")  # before the cursor: not seen, and nothing repeats
    api.organ("e")  # after it: seen
    rest = api.client.get(f"{API}/organs",
                          params={"limit": 10, "cursor": first["next_cursor"]}).json()
    seen = [o["organ_id"] for o in first["items"] + rest["items"]]
    assert seen == ["b", "d", "e", "f"]


@pytest.mark.parametrize(
    "cursor",
    ["!!!", "bm90IGpzb24", base64.urlsafe_b64encode(b'["organs", 5]').decode(),
     base64.urlsafe_b64encode(b'["agents", "a"]').decode(), "x" * 513],
)
def test_malformed_cursors(api: Api, cursor: str) -> None:
    response = api.client.get(f"{API}/organs", params={"cursor": cursor})
    status = 422 if len(cursor) > 512 else 400
    assert_problem(response, status)


@pytest.mark.parametrize("limit", [0, 501, -1])
def test_limits_out_of_range(api: Api, limit: int) -> None:
    assert_problem(api.client.get(f"{API}/organs", params={"limit": limit}), 422)


def test_pager_round_trip() -> None:
    pager: Pager[tuple[float, str]] = Pager("incidents", tuple[float, str])
    cursor = pager.encode((1_700_000_000.123456, "id-1"))
    assert "=" not in cursor and pager.decode(cursor) == (1_700_000_000.123456, "id-1")
    assert pager.decode(None) is None
    with pytest.raises(BadRequest):
        Pager("other", tuple[float, str]).decode(cursor)
    with pytest.raises(BadRequest):
        Pager("incidents", int).decode(cursor)


def test_pager_pages() -> None:
    pager: Pager[int] = Pager("numbers", int)
    items = list(range(10))
    page, cursor = pager.page(items, lambda n: n, 4, None)
    assert page == [0, 1, 2, 3]
    page, cursor = pager.page(items, lambda n: n, 4, cursor)
    assert page == [4, 5, 6, 7]
    page, cursor = pager.page(items, lambda n: n, 4, cursor)
    assert page == [8, 9] and cursor is None
    fetched = [1, 2, 3]
    assert pager.next_cursor(fetched, lambda n: n, 2) == pager.encode(2)
    assert fetched == [1, 2]
