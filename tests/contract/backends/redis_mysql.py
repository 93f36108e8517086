"""Real-backend adapter factories for the contract suites (filled in by the backend work)."""

from __future__ import annotations

from typing import Any

WORKING_MEMORY: list[Any] = []
CONSOLIDATION_QUEUE: list[Any] = []
HOLON_STORE: list[Any] = []
HOLON_GRAPH: list[Any] = []
INCIDENT_STORE: list[Any] = []
LEDGER_STORE: list[Any] = []
OUTCOME_STORE: list[Any] = []
LOCK: list[Any] = []
