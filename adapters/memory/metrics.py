"""Metrics that record every call (for assertions in tests) and metrics that do nothing."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping

__all__ = ["NullMetrics", "RecordingMetrics"]


class RecordingMetrics:
    """Implements :class:`application.ports.metrics.Metrics` by keeping every call.

    Each method appends to the list or counter of the same theme; ``calls`` holds the name
    of every method called, in order. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls: list[str] = []
        self.tasks: list[tuple[str, str, str, float]] = []
        self.selection_latencies: list[float] = []
        self.consumptions: list[tuple[str, float]] = []
        self.energies: list[dict[str, float]] = []
        self.memory_accesses: Counter[tuple[str, bool]] = Counter()
        self.degraded_reads: Counter[str] = Counter()
        self.incidents: list[float] = []
        self.budget_crossings: list[tuple[str, str]] = []
        self.loop_runs: list[tuple[str, float, bool]] = []
        self.mlt_operations: list[tuple[str, float]] = []

    def task_finished(self, task_type: str, organ_id: str, outcome: str, latency_s: float) -> None:
        with self._lock:
            self.calls.append("task_finished")
            self.tasks.append((task_type, organ_id, outcome, latency_s))

    def selection_latency(self, seconds: float) -> None:
        with self._lock:
            self.calls.append("selection_latency")
            self.selection_latencies.append(seconds)

    def consumption(self, organ_id: str, joules: float) -> None:
        with self._lock:
            self.calls.append("consumption")
            self.consumptions.append((organ_id, joules))

    def energy(self, terms: Mapping[str, float]) -> None:
        with self._lock:
            self.calls.append("energy")
            self.energies.append(dict(terms))

    def memory_access(self, tier: str, hit: bool) -> None:
        with self._lock:
            self.calls.append("memory_access")
            self.memory_accesses[(tier, hit)] += 1

    def degraded_read(self, backend: str) -> None:
        with self._lock:
            self.calls.append("degraded_read")
            self.degraded_reads[backend] += 1

    def incident(self, salience: float) -> None:
        with self._lock:
            self.calls.append("incident")
            self.incidents.append(salience)

    def budget_crossing(self, scope: str, level: str) -> None:
        with self._lock:
            self.calls.append("budget_crossing")
            self.budget_crossings.append((scope, level))

    def loop_run(self, loop: str, seconds: float, ok: bool) -> None:
        with self._lock:
            self.calls.append("loop_run")
            self.loop_runs.append((loop, seconds, ok))

    def mlt_operation(self, op: str, seconds: float) -> None:
        with self._lock:
            self.calls.append("mlt_operation")
            self.mlt_operations.append((op, seconds))


class NullMetrics:
    """Implements :class:`application.ports.metrics.Metrics` by ignoring every call."""

    def task_finished(self, task_type: str, organ_id: str, outcome: str, latency_s: float) -> None:
        return None

    def selection_latency(self, seconds: float) -> None:
        return None

    def consumption(self, organ_id: str, joules: float) -> None:
        return None

    def energy(self, terms: Mapping[str, float]) -> None:
        return None

    def memory_access(self, tier: str, hit: bool) -> None:
        return None

    def degraded_read(self, backend: str) -> None:
        return None

    def incident(self, salience: float) -> None:
        return None

    def budget_crossing(self, scope: str, level: str) -> None:
        return None

    def loop_run(self, loop: str, seconds: float, ok: bool) -> None:
        return None

    def mlt_operation(self, op: str, seconds: float) -> None:
        return None
