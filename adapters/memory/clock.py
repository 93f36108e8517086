"""A controllable clock for tests and simulations: time moves only when told to."""

from __future__ import annotations

import math
import threading

__all__ = ["FakeClock"]


class FakeClock:
    """Wall and monotonic time advance together with :meth:`advance`; the CPU counter
    advances only with :meth:`advance_cpu` (one counter shared by every thread, so a test
    decides exactly what a metered handler "consumed"). Thread-safe."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        if not math.isfinite(start):
            raise ValueError("start must be finite")
        self._lock = threading.Lock()
        self._now = float(start)
        # Monotonic time starts elsewhere than wall time so that code mixing the two up
        # gets visibly wrong answers in tests.
        self._monotonic = 1_000.0
        self._cpu = 0.0

    def now(self) -> float:
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def thread_cpu(self) -> float:
        with self._lock:
            return self._cpu

    def advance(self, seconds: float) -> None:
        """Move wall and monotonic time forward by ``seconds`` (≥ 0)."""
        _check_step(seconds)
        with self._lock:
            self._now += seconds
            self._monotonic += seconds

    def advance_cpu(self, seconds: float) -> None:
        """Add ``seconds`` (≥ 0) of CPU time to the counter :meth:`thread_cpu` reads."""
        _check_step(seconds)
        with self._lock:
            self._cpu += seconds


def _check_step(seconds: float) -> None:
    # Time never goes back: a negative step would break every monotonic reader.
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ValueError(f"a clock only moves forward by a finite amount, got {seconds!r}")
