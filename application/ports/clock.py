"""Clock port: wall time, monotonic time and the current thread's CPU time, all injected."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch, UTC. Used for TTLs, windows, timestamps."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences are meaningful."""
        ...

    def thread_cpu(self) -> float:
        """CPU seconds consumed so far by the calling thread (for metering a handler)."""
        ...
