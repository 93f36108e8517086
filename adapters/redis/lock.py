"""Lease locks in Redis: ``P:lock:<name>`` holds the owner, with the lease as its TTL.

Taking a free lease is ``SET NX PX``; extending one is a compare-and-``PEXPIRE`` that only the
owner passes; releasing is a compare-and-``DEL``. Both run in one Lua script each, so a lease
that expires between the comparison and the write cannot be renewed or deleted by mistake.
Leases expire on the Redis server's clock: every worker agrees on it, and a worker's own
clock jumping neither frees nor pins a lease. (A jump of the *server's* wall clock does move
expiries, as it does for every key with a TTL.)
"""

from __future__ import annotations

import math

import redis

from adapters.redis.client import RedisClient, validate_prefix

__all__ = ["RedisLeaseLock"]

# KEYS: lease. ARGV: owner, ttl_ms. 1 when the caller holds the lease afterwards.
_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: lease. ARGV: owner.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisLeaseLock:
    """Implements :class:`application.ports.lock.LeaseLock` for any number of processes."""

    def __init__(self, client: RedisClient, prefix: str = "seedcore") -> None:
        validate_prefix(prefix)
        self._client = client
        self._prefix = prefix
        self._acquire = client.script(_ACQUIRE, 1)
        self._release = client.script(_RELEASE, 1)

    def acquire(self, name: str, owner: str, ttl_s: float) -> bool:
        if isinstance(ttl_s, bool) or not (math.isfinite(ttl_s) and ttl_s > 0):
            raise ValueError(f"ttl_s must be a positive number of seconds, got {ttl_s!r}")
        ttl_ms = max(1, round(ttl_s * 1000.0))
        try:
            held = self._acquire(self._key(name), owner, ttl_ms)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return bool(held)

    def release(self, name: str, owner: str) -> None:
        try:
            self._release(self._key(name), owner)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None

    def _key(self, name: str) -> str:
        if not isinstance(name, str) or not name:
            raise ValueError("a lease needs a non-empty name")
        return f"{self._prefix}:lock:{name}"
