"""Consolidation queue in Redis: a sorted set of item ids plus a hash of their payloads.

Keys, for prefix ``P``::

    P:cq:order    sorted set, item id -> −(κ·surprise − (1−κ)·written_at)
    P:cq:items    hash, item id -> the item as JSON (msgspec)

The score is the port's priority without the "now" every item shares, negated, so ascending
score is descending priority. Redis orders equal scores by member, byte-wise; the UTF-8 bytes
of the ids sort like the ids themselves (code points), which is the contract's tie-break. The
score is computed in Python and sent as the shortest repr of the double, which Redis parses
back to the same double: the order is exactly the in-memory adapter's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import msgspec
import redis

from adapters.redis.client import RedisClient, validate_prefix
from application.ports.consolidation_queue import PendingItem

__all__ = ["RedisConsolidationQueue"]

# KEYS: order, items. ARGV: limit. The payloads of the first ``limit`` ids, read atomically.
_PEEK = """
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local out = {}
for i, id in ipairs(ids) do
  out[i] = redis.call('HGET', KEYS[2], id)
end
return out
"""

_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(PendingItem)


class RedisConsolidationQueue:
    """Implements :class:`application.ports.consolidation_queue.ConsolidationQueue` on Redis.
    Enqueue (replace) and ack are MULTI/EXEC transactions, peek is one Lua script."""

    def __init__(self, client: RedisClient, prefix: str = "seedcore") -> None:
        validate_prefix(prefix)
        self._client = client
        self._redis = client.redis
        self._order = f"{prefix}:cq:order"
        self._items = f"{prefix}:cq:items"
        self._peek = client.script(_PEEK, 2)

    def enqueue(self, item: PendingItem, kappa: float) -> None:
        """Queue ``item``; an item id already queued is replaced (and re-prioritised)."""
        if not (math.isfinite(kappa) and 0.0 <= kappa <= 1.0):
            raise ValueError(f"kappa must be within [0, 1], got {kappa!r}")
        if not (math.isfinite(item.surprise) and math.isfinite(item.written_at)):
            raise ValueError("surprise and written_at must be finite")
        score = -(kappa * item.surprise - (1.0 - kappa) * item.written_at)
        payload = _ENCODER.encode(item)
        pipe = self._redis.pipeline(transaction=True)
        pipe.zadd(self._order, {item.item_id: score})
        pipe.hset(self._items, item.item_id, payload)
        self._execute(pipe)

    def peek(self, limit: int) -> list[PendingItem]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        if limit == 0:
            return []
        try:
            payloads = self._peek(self._order, self._items, limit)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        # Both structures change together, so a payload is never missing; skip one anyway
        # rather than fail the whole batch if someone edited the hash by hand.
        return [_DECODER.decode(payload) for payload in payloads if payload]

    def ack(self, item_ids: Sequence[str]) -> int:
        unique = list(dict.fromkeys(item_ids))
        if not unique:
            return 0
        pipe = self._redis.pipeline(transaction=True)
        pipe.zrem(self._order, *unique)
        pipe.hdel(self._items, *unique)
        removed, _ = self._execute(pipe)
        return int(removed)

    def size(self) -> int:
        try:
            return int(self._redis.zcard(self._order))
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None

    def _execute(self, pipe: Any) -> list[Any]:
        try:
            results: list[Any] = pipe.execute()
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return results
