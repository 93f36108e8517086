"""Contract of the incident store port (Mfb), run against every adapter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from application.errors import BackendUnavailable, Conflict
from application.ports.incident_store import IncidentStore
from domain.incident import Incident
from tests.contract.conftest import Harness

NOW = 1_700_000_000.0
DAY = 86_400.0


def incident(incident_id: str, ts: float = NOW, salience: float = 0.9) -> Incident:
    return Incident(
        incident_id=incident_id,
        ts=ts,
        salience=salience,
        agent_id="Agent-Critical-Ops",
        organ_id="actuator-1",
        task={"task_id": f"task-{incident_id}", "task_type": "high_stakes", "risk": 0.9},
        error={
            "type": "Timeout",
            "message": "GET http://127.0.0.1:9/ timed out",
            "code": "E_TIMEOUT",
        },
        snapshot={
            "agent_id": "Agent-Critical-Ops",
            "h": [0.1, -0.25, 0.5, 1e-17],
            "roles": {"E": 0.7, "S": 0.2, "O": 0.1},
            "skills": {"high_stakes": 0.5},
            "recent_quality": [0.9, 0.0],
            "last_task_at": None,
            "energy": {"window_joules": 0.125, "budget_joules": None},
        },
    )


def as_tuple(found: Incident | None) -> tuple[Any, ...]:
    assert found is not None
    return (
        found.incident_id,
        found.ts,
        found.salience,
        found.agent_id,
        found.organ_id,
        dict(found.task),
        dict(found.error),
        dict(found.snapshot),
    )


def ids(found: list[Incident]) -> list[str]:
    return [i.incident_id for i in found]


class TestAppend:
    def test_an_incident_is_stored_whole_and_read_back_by_id(
        self, incidents: Harness[IncidentStore]
    ) -> None:
        stored = incident("inc-1", salience=0.7000000000000001)
        incidents.adapter.append(stored)
        back = incidents.adapter.get("inc-1")
        assert as_tuple(back) == as_tuple(stored)
        assert back is not None
        assert back.salience != 0.7
        assert incidents.adapter.get("inc-unknown") is None

    def test_a_second_append_with_the_same_id_is_a_conflict_and_changes_nothing(
        self, incidents: Harness[IncidentStore]
    ) -> None:
        incidents.adapter.append(incident("inc-1", salience=0.9))
        with pytest.raises(Conflict):
            incidents.adapter.append(incident("inc-1", salience=0.75))
        back = incidents.adapter.get("inc-1")
        assert back is not None
        assert back.salience == 0.9
        assert incidents.adapter.stats(NOW).count == 1

    def test_stored_incidents_cannot_be_edited_through_references(
        self, incidents: Harness[IncidentStore]
    ) -> None:
        original = incident("inc-1")
        incidents.adapter.append(original)
        original.snapshot["skills"]["high_stakes"] = 0.0
        read = incidents.adapter.get("inc-1")
        assert read is not None
        read.snapshot["roles"]["E"] = 0.0
        again = incidents.adapter.get("inc-1")
        assert again is not None
        assert again.snapshot["skills"] == {"high_stakes": 0.5}
        assert again.snapshot["roles"] == {"E": 0.7, "S": 0.2, "O": 0.1}


class TestQuery:
    @pytest.fixture
    def populated(self, incidents: Harness[IncidentStore]) -> IncidentStore:
        rows = [
            ("a", NOW - 100, 0.95),
            ("b", NOW - 50, 0.70),
            ("c", NOW - 50, 0.99),  # same ts as b: ordered by id
            ("d", NOW, 0.80),
            ("e", NOW + 10, 0.90),
            ("f", NOW - 200, 0.75),
            ("g", NOW - 50, 0.69),
        ]
        for incident_id, ts, salience in rows:
            incidents.adapter.append(incident(incident_id, ts, salience))
        return incidents.adapter

    def test_results_are_ordered_by_time_then_id(self, populated: IncidentStore) -> None:
        assert ids(populated.query(0, 2 * NOW, 0.0, 100)) == ["f", "a", "b", "c", "g", "d", "e"]

    def test_the_time_range_is_inclusive(self, populated: IncidentStore) -> None:
        assert ids(populated.query(NOW - 100, NOW, 0.0, 100)) == ["a", "b", "c", "g", "d"]
        assert ids(populated.query(NOW - 99, NOW - 1, 0.0, 100)) == ["b", "c", "g"]
        assert populated.query(NOW + 11, NOW + 100, 0.0, 100) == []

    def test_the_salience_minimum_is_inclusive(self, populated: IncidentStore) -> None:
        assert ids(populated.query(0, 2 * NOW, 0.7, 100)) == ["f", "a", "b", "c", "d", "e"]
        assert ids(populated.query(0, 2 * NOW, 0.9, 100)) == ["a", "c", "e"]
        assert populated.query(0, 2 * NOW, 0.991, 100) == []

    def test_limit_bounds_a_page(self, populated: IncidentStore) -> None:
        assert ids(populated.query(0, 2 * NOW, 0.0, 2)) == ["f", "a"]
        assert populated.query(0, 2 * NOW, 0.0, 0) == []

    def test_the_cursor_pages_through_everything_once_in_order(
        self, populated: IncidentStore
    ) -> None:
        seen: list[str] = []
        after: tuple[float, str] | None = None
        for _ in range(10):  # bounded: a cursor that does not advance must fail, not hang
            page = populated.query(NOW - 150, NOW + 10, 0.7, 2, after)
            if not page:
                break
            seen.extend(ids(page))
            after = (page[-1].ts, page[-1].incident_id)
        assert seen == ["a", "b", "c", "d", "e"]

    def test_the_cursor_splits_equal_timestamps_by_id(self, populated: IncidentStore) -> None:
        assert ids(populated.query(0, 2 * NOW, 0.0, 100, (NOW - 50, "b"))) == ["c", "g", "d", "e"]
        assert ids(populated.query(NOW, 2 * NOW, 0.0, 100, (NOW - 50, "b"))) == ["d", "e"]


class TestStats:
    def test_an_empty_store_has_zero_stats(self, incidents: Harness[IncidentStore]) -> None:
        stats = incidents.adapter.stats(NOW)
        assert (stats.count, stats.last_24h, stats.mean_salience) == (0, 0, 0.0)

    def test_count_last_day_and_mean_salience(self, incidents: Harness[IncidentStore]) -> None:
        for incident_id, ts, salience in [
            ("old", NOW - DAY - 1, 0.7),
            ("edge_in", NOW - DAY + 1, 0.8),
            ("recent", NOW - 60, 0.9),
            ("now", NOW, 1.0),
        ]:
            incidents.adapter.append(incident(incident_id, ts, salience))
        stats = incidents.adapter.stats(NOW)
        assert stats.count == 4
        assert stats.last_24h == 3
        assert stats.mean_salience == pytest.approx(0.85, abs=1e-12)
        assert incidents.adapter.stats(NOW + 2 * DAY).last_24h == 0


def test_an_unreachable_store_raises_backend_unavailable_and_stores_nothing(
    incidents: Harness[IncidentStore],
) -> None:
    if incidents.outage is None:
        pytest.skip("this adapter's harness cannot simulate an outage")
    incidents.adapter.append(incident("before"))
    calls: list[Callable[[], object]] = [
        incidents.adapter.ping,
        lambda: incidents.adapter.append(incident("during")),
        lambda: incidents.adapter.get("before"),
        lambda: incidents.adapter.query(0, 2 * NOW, 0.0, 10),
        lambda: incidents.adapter.stats(NOW),
    ]
    with incidents.outage():
        for call in calls:
            with pytest.raises(BackendUnavailable) as failure:
                call()
            assert "incident" in failure.value.backend
    assert incidents.adapter.get("during") is None
    assert ids(incidents.adapter.query(0, 2 * NOW, 0.0, 10)) == ["before"]
