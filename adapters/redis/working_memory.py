"""Working memory (Mw) in Redis: namespaced items with a TTL, counted in Redis itself.

Keys, for prefix ``P`` (default ``seedcore``) and namespace ``NS`` (``global`` or
``organ:<id>``)::

    P:mw:NS:<key>     the item: a string with a native TTL (PX)
    P:mwlru:NS        sorted set, item key -> use sequence number (least recently used first)
    P:mwexp:NS        sorted set, item key -> expiry in server milliseconds
    P:mwstats:NS      hash: hits, misses, seq (the namespace's use counter)
    P:mwns            set of the namespaces that ever held items or counters
    P:mwmiss:count    hash, item key -> misses in the current window
    P:mwmiss:until    sorted set, item key -> end of its window in server milliseconds

Every operation that reads and writes is one Lua script, hence atomic and one round trip:
``get`` reads, counts the hit or miss, renews the TTL and marks the item most recently used
together. Times come from the server's clock (``TIME``), so every process agrees.

The LRU order uses a per-namespace sequence number rather than a timestamp: two uses within
one millisecond must still be ordered. The expiry set lets a script drop expired members in
O(log n) each, so ``items`` counts exactly the live items; ``bytes`` sums ``STRLEN`` over them
in ``stats`` (O(items) for that one call, never on the hot path), which stays exact even if a
key vanishes behind the adapter's back. Both sorted sets hold at most ``item_cap`` members.

``delete_namespace`` walks ``SCAN MATCH P:mw:NS:*`` (never ``KEYS``, never ``FLUSHDB``) and
deletes each batch together with its LRU and expiry entries; items written while the walk is
running may survive it, as with any SCAN. The pattern cannot reach another namespace or
deployment: the prefix has no ``:`` and no glob character, and a valid namespace has no glob
character and no ``:`` but the one after ``organ``, so ``P:mw:organ:a:*`` stops at the ``:``
that ends ``organ:a`` and never matches ``organ:ab``'s keys.

TTLs travel in milliseconds (at least 1 ms). Redis still serves a key during its expiry
millisecond, while the indexes count it expired from that millisecond on: the two views differ
for at most one millisecond.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import redis

from adapters.redis.client import RedisClient, validate_prefix
from application.ports.working_memory import NamespaceStats
from domain.memory import validate_key, validate_namespace

__all__ = ["RedisWorkingMemory"]

#: TTLs are sent in milliseconds and capped at about 35 years (effectively forever).
MAX_TTL_MS = 2**40
_SCAN_BATCH = 500
#: Expired miss counts dropped per ``record_item_miss`` (the rest go on later calls).
_MISS_SWEEP = 100

# Every script takes no KEYS: it receives the prefix (ARGV[1]) and, for one namespace, the
# namespace (ARGV[2]) and builds the key names itself. Fewer arguments make the hot path
# measurably faster; the price is that these scripts need a single Redis server (or a
# Sentinel primary), not Redis Cluster, which the registry walk of ``namespaces`` needs anyway.

_CLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# Drop members from both sorted sets of a namespace and delete their keys (in case Redis has
# not expired them yet); prune drops the expired ones. Chunked: Lua's unpack has a limit.
_HELPERS = """
local function drop(lru, exp, items, members)
  for i = 1, #members, 500 do
    local chunk = {unpack(members, i, math.min(i + 499, #members))}
    local keys = {}
    for j, m in ipairs(chunk) do keys[j] = items .. m end
    redis.call('ZREM', lru, unpack(chunk))
    redis.call('ZREM', exp, unpack(chunk))
    redis.call('DEL', unpack(keys))
  end
end
local function prune(lru, exp, items)
  drop(lru, exp, items, redis.call('ZRANGEBYSCORE', exp, '-inf', now))
end
"""

# ARGV[1] prefix, ARGV[2] namespace: the namespace's key names.
_NAMESPACE = """
local p, ns = ARGV[1], ARGV[2]
local items = p .. ':mw:' .. ns .. ':'
local lru, exp, stats = p .. ':mwlru:' .. ns, p .. ':mwexp:' .. ns, p .. ':mwstats:' .. ns
"""

# ARGV: prefix, namespace, key[, renew_ms]. The hot path: no helpers, GETEX reads and renews
# in one command, and the clock is read only to renew. A hit on a key the LRU set does not
# know (written behind the adapter's back) is served and counted but not adopted.
_GET = """
local p, ns, key = ARGV[1], ARGV[2], ARGV[3]
local stats = p .. ':mwstats:' .. ns
local item = p .. ':mw:' .. ns .. ':' .. key
local renew = ARGV[4]
local value
if renew then
  value = redis.call('GETEX', item, 'PX', renew)
else
  value = redis.call('GET', item)
end
if not value then
  redis.call('HINCRBY', stats, 'misses', 1)
  redis.call('SADD', p .. ':mwns', ns)
  return false
end
redis.call('HINCRBY', stats, 'hits', 1)
local seq = redis.call('HINCRBY', stats, 'seq', 1)
if redis.call('ZADD', p .. ':mwlru:' .. ns, 'XX', 'CH', seq, key) == 0 then
  redis.call('SADD', p .. ':mwns', ns)
end
if renew then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', p .. ':mwexp:' .. ns, 'XX', now + tonumber(renew), key)
end
return value
"""

# ARGV: prefix, namespace, key, value, ttl_ms, cap. A key already indexed (even expired) is
# replaced without evicting anything; a new one first makes room: expired items, then the
# least recently used.
_SET = (
    _NAMESPACE
    + _CLOCK
    + _HELPERS
    + """
local key, ttl_ms = ARGV[3], tonumber(ARGV[5])
if not redis.call('ZSCORE', lru, key) then
  local cap = tonumber(ARGV[6])
  if redis.call('ZCARD', lru) >= cap then
    prune(lru, exp, items)
    local excess = redis.call('ZCARD', lru) - cap + 1
    if excess > 0 then
      drop(lru, exp, items, redis.call('ZRANGE', lru, 0, excess - 1))
    end
  end
  redis.call('SADD', p .. ':mwns', ns)
end
redis.call('SET', items .. key, ARGV[4], 'PX', ttl_ms)
redis.call('ZADD', lru, redis.call('HINCRBY', stats, 'seq', 1), key)
redis.call('ZADD', exp, now + ttl_ms, key)
return 1
"""
)

# ARGV: prefix, namespace, key. 1 when a live item was deleted.
_DELETE = (
    _NAMESPACE
    + """
local existed = redis.call('DEL', items .. ARGV[3])
redis.call('ZREM', lru, ARGV[3])
redis.call('ZREM', exp, ARGV[3])
return existed
"""
)

# ARGV: prefix, namespace, keys... (one SCAN batch of delete_namespace).
_DELETE_BATCH = (
    _NAMESPACE
    + """
local deleted = 0
for i = 3, #ARGV do
  deleted = deleted + redis.call('DEL', items .. ARGV[i])
  redis.call('ZREM', lru, ARGV[i])
  redis.call('ZREM', exp, ARGV[i])
end
return deleted
"""
)

# ARGV: prefix, namespace. After the SCAN: members whose key is gone leave the indexes.
_DELETE_TIDY = (
    _NAMESPACE
    + _CLOCK
    + _HELPERS
    + """
prune(lru, exp, items)
local gone = {}
for _, m in ipairs(redis.call('ZRANGE', lru, 0, -1)) do
  if redis.call('EXISTS', items .. m) == 0 then gone[#gone + 1] = m end
end
drop(lru, exp, items, gone)
return #gone
"""
)

# ARGV: prefix, namespace. Returns {hits, misses, items, bytes} of the live items.
_STATS = (
    _NAMESPACE
    + _CLOCK
    + _HELPERS
    + """
prune(lru, exp, items)
local count, bytes, gone = 0, 0, {}
for _, m in ipairs(redis.call('ZRANGE', lru, 0, -1)) do
  local size = redis.call('STRLEN', items .. m)
  if size == 0 and redis.call('EXISTS', items .. m) == 0 then
    gone[#gone + 1] = m
  else
    count = count + 1
    bytes = bytes + size
  end
end
drop(lru, exp, items, gone)
local counts = redis.call('HMGET', stats, 'hits', 'misses')
return {tonumber(counts[1]) or 0, tonumber(counts[2]) or 0, count, bytes}
"""
)

# ARGV: prefix. Namespaces with live items or non-zero counters; the others leave the
# registry.
_NAMESPACES = (
    _CLOCK
    + _HELPERS
    + """
local p = ARGV[1]
local found = {}
for _, ns in ipairs(redis.call('SMEMBERS', p .. ':mwns')) do
  local lru = p .. ':mwlru:' .. ns
  prune(lru, p .. ':mwexp:' .. ns, p .. ':mw:' .. ns .. ':')
  local counts = redis.call('HMGET', p .. ':mwstats:' .. ns, 'hits', 'misses')
  if redis.call('ZCARD', lru) > 0 or (tonumber(counts[1]) or 0) > 0
      or (tonumber(counts[2]) or 0) > 0 then
    found[#found + 1] = ns
  else
    redis.call('SREM', p .. ':mwns', ns)
  end
end
return found
"""
)

_MISS_KEYS = """
local counts, live = ARGV[1] .. ':mwmiss:count', ARGV[1] .. ':mwmiss:until'
"""

# ARGV: prefix, key, window_ms, sweep. Returns the new count.
_RECORD_MISS = (
    _MISS_KEYS
    + _CLOCK
    + """
local dead = redis.call('ZRANGEBYSCORE', live, '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
if #dead > 0 then
  redis.call('ZREM', live, unpack(dead))
  redis.call('HDEL', counts, unpack(dead))
end
local key, window = ARGV[2], tonumber(ARGV[3])
local count = 1
local live_until = redis.call('ZSCORE', live, key)
if live_until and tonumber(live_until) > now then
  count = redis.call('HINCRBY', counts, key, 1)
else
  redis.call('HSET', counts, key, 1)
end
redis.call('ZADD', live, now + window, key)
redis.call('PEXPIRE', counts, window)
redis.call('PEXPIRE', live, window)
return count
"""
)

# ARGV: prefix, keys... Returns the live count of each (0 for the others).
_MISSES_OF = (
    _MISS_KEYS
    + _CLOCK
    + """
local out = {}
for i = 2, #ARGV do
  local live_until = redis.call('ZSCORE', live, ARGV[i])
  if live_until and tonumber(live_until) > now then
    out[i - 1] = tonumber(redis.call('HGET', counts, ARGV[i])) or 0
  else
    out[i - 1] = 0
  end
end
return out
"""
)

# ARGV: prefix. Every live count, as a flat key, count list.
_ALL_MISSES = (
    _MISS_KEYS
    + _CLOCK
    + """
local dead = redis.call('ZRANGEBYSCORE', live, '-inf', now)
for i = 1, #dead, 500 do
  local chunk = {unpack(dead, i, math.min(i + 499, #dead))}
  redis.call('ZREM', live, unpack(chunk))
  redis.call('HDEL', counts, unpack(chunk))
end
return redis.call('HGETALL', counts)
"""
)


class RedisWorkingMemory:
    """Implements :class:`application.ports.working_memory.WorkingMemory` on Redis.

    ``item_cap`` bounds every namespace (the least recently used item goes first, after the
    expired ones); ``miss_window_s`` is how long an item's miss count lives after its last
    miss. Namespaces and keys are validated by ``domain.memory`` before any command is sent.
    """

    def __init__(
        self,
        client: RedisClient,
        item_cap: int = 10_000,
        miss_window_s: float = 600.0,
        prefix: str = "seedcore",
    ) -> None:
        if item_cap < 1:
            raise ValueError("item_cap must be at least 1")
        if not (math.isfinite(miss_window_s) and miss_window_s > 0):
            raise ValueError("miss_window_s must be positive")
        self._client = client
        self._redis = client.redis
        self._item_cap = item_cap
        self._miss_window_ms = _milliseconds(miss_window_s)
        self._prefix = validate_prefix(prefix)
        self._get = client.script(_GET, 0)
        self._set = client.script(_SET, 0)
        self._delete = client.script(_DELETE, 0)
        self._delete_batch = client.script(_DELETE_BATCH, 0)
        self._delete_tidy = client.script(_DELETE_TIDY, 0)
        self._stats = client.script(_STATS, 0)
        self._namespaces = client.script(_NAMESPACES, 0)
        self._record_miss = client.script(_RECORD_MISS, 0)
        self._misses_of = client.script(_MISSES_OF, 0)
        self._all_misses = client.script(_ALL_MISSES, 0)

    # -- items ---------------------------------------------------------------------------

    def set(self, namespace: str, key: str, value: bytes, expires_in: float) -> None:
        validate_namespace(namespace)
        validate_key(key)
        if not isinstance(value, bytes | bytearray | memoryview):
            raise TypeError(f"value must be bytes, got {type(value).__name__}")
        ttl_ms = _milliseconds(_check_seconds(expires_in, "expires_in"))
        try:
            self._set(self._prefix, namespace, key, bytes(value), ttl_ms, self._item_cap)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None

    def get(self, namespace: str, key: str, renew_for: float | None = None) -> bytes | None:
        validate_namespace(namespace)
        validate_key(key)
        try:
            if renew_for is None:
                value: bytes | None = self._get(self._prefix, namespace, key)
            else:
                renew_ms = _milliseconds(_check_seconds(renew_for, "renew_for"))
                value = self._get(self._prefix, namespace, key, renew_ms)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return value

    def contains_many(self, namespace: str, keys: Sequence[str]) -> list[bool]:
        validate_namespace(namespace)
        for key in keys:
            validate_key(key)
        if not keys:
            return []
        items = self._item_prefix(namespace)
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.exists(items + key)
        try:
            return [bool(found) for found in pipe.execute()]
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None

    def ttl(self, namespace: str, key: str) -> float | None:
        """Seconds left; None for an absent item (and for a key without expiry, which this
        adapter never writes)."""
        validate_namespace(namespace)
        validate_key(key)
        try:
            left_ms = int(self._redis.pttl(self._item_prefix(namespace) + key))
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return None if left_ms < 0 else left_ms / 1000.0

    def delete(self, namespace: str, key: str) -> bool:
        validate_namespace(namespace)
        validate_key(key)
        try:
            existed = self._delete(self._prefix, namespace, key)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return bool(existed)

    def delete_namespace(self, namespace: str) -> int:
        """Remove the namespace's items (its hit and miss counters stay); returns how many
        live items went. ``validate_namespace`` refuses "", "*", "organ:*" and the like, and
        the SCAN pattern ends with the namespace's own ``:``, so ``organ:a`` never matches
        the keys of ``organ:ab``."""
        validate_namespace(namespace)
        items = self._item_prefix(namespace)
        start = len(items.encode())
        deleted = 0
        try:
            batch: list[bytes] = []
            for found in self._redis.scan_iter(match=_glob_escape(items) + "*", count=1000):
                batch.append(found[start:])
                if len(batch) >= _SCAN_BATCH:
                    deleted += int(self._delete_batch(self._prefix, namespace, *batch))
                    batch = []
            if batch:
                deleted += int(self._delete_batch(self._prefix, namespace, *batch))
            self._delete_tidy(self._prefix, namespace)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return deleted

    # -- counters ------------------------------------------------------------------------

    def stats(self, namespace: str) -> NamespaceStats:
        validate_namespace(namespace)
        try:
            hits, misses, count, size = self._stats(self._prefix, namespace)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return NamespaceStats(namespace, int(hits), int(misses), int(count), int(size))

    def namespaces(self) -> list[str]:
        try:
            found = self._namespaces(self._prefix)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return sorted(name.decode() for name in found)

    def record_item_miss(self, key: str) -> int:
        validate_key(key)
        try:
            count = self._record_miss(self._prefix, key, self._miss_window_ms, _MISS_SWEEP)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return int(count)

    def item_misses(self, keys: Sequence[str] | None = None) -> Mapping[str, int]:
        if keys is not None:
            for key in keys:
                validate_key(key)
            if not keys:
                return {}
        try:
            if keys is not None:
                counts = self._misses_of(self._prefix, *keys)
                return {key: int(count) for key, count in zip(keys, counts, strict=True)}
            flat = self._all_misses(self._prefix)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return {flat[i].decode(): int(flat[i + 1]) for i in range(0, len(flat), 2)}

    def ping(self) -> None:
        self._client.ping()

    def _item_prefix(self, namespace: str) -> str:
        return f"{self._prefix}:mw:{namespace}:"


def _check_seconds(seconds: float, name: str) -> float:
    if isinstance(seconds, bool) or not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"{name} must be a positive number of seconds, got {seconds!r}")
    return float(seconds)


def _milliseconds(seconds: float) -> int:
    """At least 1 ms (Redis refuses 0), at most :data:`MAX_TTL_MS`."""
    return min(MAX_TTL_MS, max(1, round(seconds * 1000.0)))


def _glob_escape(text: str) -> str:
    """Escape SCAN's glob characters (validated names contain none: belt and braces)."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
