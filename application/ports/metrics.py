"""Metrics port: the events SeedCore reports. Labels are bounded (no agent or task ids)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["Metrics"]


class Metrics(Protocol):
    def task_finished(
        self, task_type: str, organ_id: str, outcome: str, latency_s: float
    ) -> None:
        """``outcome`` is success, failure or error."""
        ...

    def selection_latency(self, seconds: float) -> None:
        ...

    def consumption(self, organ_id: str, joules: float) -> None:
        ...

    def energy(self, terms: Mapping[str, float]) -> None:
        """The latest system-energy terms and total."""
        ...

    def memory_access(self, tier: str, hit: bool) -> None:
        """``tier`` is organ, global or mlt."""
        ...

    def degraded_read(self, backend: str) -> None:
        """A read fell through past a backend that was down."""
        ...

    def incident(self, salience: float) -> None:
        ...

    def budget_crossing(self, scope: str, level: str) -> None:
        ...

    def loop_run(self, loop: str, seconds: float, ok: bool) -> None:
        ...

    def mlt_operation(self, op: str, seconds: float) -> None:
        """One long-term memory operation: get, search, upsert, delete, graph_relate or
        graph_neighbours."""
        ...
