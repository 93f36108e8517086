"""The real clock: the operating system's wall, monotonic and thread CPU clocks."""

from __future__ import annotations

import time

__all__ = ["SystemClock"]


class SystemClock:
    """``time.time``, ``time.monotonic`` and ``time.thread_time``; holds no state."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def thread_cpu(self) -> float:
        return time.thread_time()
