"""Lease lock port: at most one holder of a named singleton loop at a time."""

from __future__ import annotations

from typing import Protocol

__all__ = ["LeaseLock"]


class LeaseLock(Protocol):
    def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        """Take or extend the lease for ``ttl_s`` seconds; False while another owner holds an
        unexpired lease."""
        ...

    def release(self, name: str, owner: str) -> None:
        """Give the lease up if ``owner`` holds it; otherwise do nothing."""
        ...
