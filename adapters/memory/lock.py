"""In-memory lease lock: named leases with an owner and an expiry on the injected clock."""

from __future__ import annotations

import math
import threading

from application.ports.clock import Clock

__all__ = ["InMemoryLeaseLock"]


class InMemoryLeaseLock:
    """Implements :class:`application.ports.lock.LeaseLock` for one process. Leases expire on
    the clock's monotonic time, so a wall-clock jump neither frees nor pins a lease."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._leases: dict[str, tuple[str, float]] = {}

    def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        if isinstance(ttl_s, bool) or not (math.isfinite(ttl_s) and ttl_s > 0):
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        with self._lock:
            now = self._clock.monotonic()
            lease = self._leases.get(name)
            if lease is not None and lease[0] != owner and now < lease[1]:
                return False
            self._leases[name] = (owner, now + ttl_s)
            return True

    def release(self, name: str, owner: str) -> None:
        with self._lock:
            lease = self._leases.get(name)
            if lease is not None and lease[0] == owner:
                del self._leases[name]
