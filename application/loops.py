"""The worker's control loops as callable units, and a scheduler that runs the due ones.

The scheduler never sleeps and never reads time itself: the worker entrypoint sleeps, tests
advance a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from application.errors import SeedCoreError
from application.ports.clock import Clock
from application.ports.lock import LeaseLock
from application.ports.metrics import Metrics

__all__ = ["ControlLoop", "LoopRun", "LoopScheduler"]


@dataclass(frozen=True, slots=True)
class ControlLoop:
    """A named unit of periodic work. A singleton runs in at most one worker at a time."""

    name: str
    period_s: float
    run: Callable[[], Mapping[str, Any]]
    singleton: bool = True


@dataclass(frozen=True, slots=True)
class LoopRun:
    """One run (or skip) of a loop, ready to be logged as one line."""

    loop: str
    started_at: float
    duration_ms: float
    ok: bool
    skipped: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None


class LoopScheduler:
    def __init__(
        self,
        loops: Sequence[ControlLoop],
        clock: Clock,
        lock: LeaseLock,
        metrics: Metrics,
        owner: str,
    ) -> None:
        if len({loop.name for loop in loops}) != len(loops):
            raise ValueError("loop names must be unique")
        self.loops = list(loops)
        self._clock = clock
        self._lock = lock
        self._metrics = metrics
        self.owner = owner
        start = clock.now()
        self._next_due = {loop.name: start for loop in loops}

    def seconds_until_due(self) -> float:
        now = self._clock.now()
        return max(0.0, min(self._next_due.values(), default=now + 1.0) - now)

    def run_due(self) -> list[LoopRun]:
        """Run every loop whose time has come, in declaration order."""
        runs = []
        for loop in self.loops:
            now = self._clock.now()
            if now < self._next_due[loop.name]:
                continue
            self._next_due[loop.name] = now + loop.period_s
            runs.append(self.run_one(loop))
        return runs

    def run_one(self, loop: ControlLoop) -> LoopRun:
        started = self._clock.now()
        # The lease outlives one period so a holder keeps it between runs; a crashed holder's
        # lease expires after two periods and another worker takes over.
        if loop.singleton and not self._lock.acquire(loop.name, self.owner, 2.0 * loop.period_s):
            return LoopRun(loop.name, started, 0.0, ok=True, skipped=True,
                           details={"reason": "held by another worker"})
        begin = self._clock.monotonic()
        try:
            details = loop.run()
        except Exception as failure:
            # One failing loop must not stop the others: the run is reported as failed (and
            # counted), and the loop runs again at its next period.
            seconds = self._clock.monotonic() - begin
            self._metrics.loop_run(loop.name, seconds, ok=False)
            message = failure.message if isinstance(failure, SeedCoreError) else str(failure)
            return LoopRun(loop.name, started, seconds * 1000.0, ok=False,
                           error=f"{type(failure).__name__}: {message}")
        seconds = self._clock.monotonic() - begin
        self._metrics.loop_run(loop.name, seconds, ok=True)
        return LoopRun(loop.name, started, seconds * 1000.0, ok=True, details=details)

    def release_all(self) -> None:
        for loop in self.loops:
            if loop.singleton:
                self._lock.release(loop.name, self.owner)
