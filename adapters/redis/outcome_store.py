"""Task outcomes and idempotency keys in Redis.

Keys, for prefix ``P``::

    P:outcome:<task id>    the outcome as JSON (see :func:`outcome_to_dict`)
    P:idem:<key>           the task id the idempotency key is bound to

Both expire ``retention_s`` after they were written (default 7 days): long enough for any
client retry and for reading a result back, while a long-running deployment does not grow
without bound (the in-memory adapter bounds its entries by count instead). An idempotency key
that expired can be claimed again, exactly like one that was released.

Claiming is ``SET NX`` inside a Lua script that otherwise returns the current binding, so the
answer is atomic; releasing compares the bound task id before deleting, so a late release of
an earlier attempt cannot free a key another task holds now.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import redis

from adapters.redis.client import RedisClient, validate_prefix
from domain.task import TaskError, TaskOutcome

__all__ = ["RETENTION_S", "RedisOutcomeStore", "outcome_from_dict", "outcome_to_dict"]

#: How long outcomes and idempotency keys are kept.
RETENTION_S = 7 * 86_400.0

# KEYS: binding. ARGV: task id, ttl_ms. nil when this call bound the key, else the bound id.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
return redis.call('GET', KEYS[1])
"""

# KEYS: binding. ARGV: task id.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisOutcomeStore:
    """Implements :class:`application.ports.outcome_store.OutcomeStore` on Redis."""

    def __init__(
        self, client: RedisClient, prefix: str = "seedcore", retention_s: float = RETENTION_S
    ) -> None:
        validate_prefix(prefix)
        if not (math.isfinite(retention_s) and retention_s >= 1.0):
            raise ValueError("retention_s must be at least one second")
        self._client = client
        self._redis = client.redis
        self._prefix = prefix
        self._retention_ms = round(retention_s * 1000.0)
        self._claim = client.script(_CLAIM, 1)
        self._release = client.script(_RELEASE, 1)

    def claim(self, idempotency_key: str, task_id: str) -> str | None:
        try:
            bound = self._claim(self._idem_key(idempotency_key), task_id, self._retention_ms)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return None if bound is None else bytes(bound).decode()

    def release(self, idempotency_key: str, task_id: str) -> None:
        try:
            self._release(self._idem_key(idempotency_key), task_id)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None

    def put(self, outcome: TaskOutcome) -> None:
        payload = json.dumps(outcome_to_dict(outcome), separators=(",", ":"))
        try:
            self._redis.set(self._outcome_key(outcome.task_id), payload, px=self._retention_ms)
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None

    def get(self, task_id: str) -> TaskOutcome | None:
        try:
            payload = self._redis.get(self._outcome_key(task_id))
        except redis.RedisError as error:
            raise self._client.unavailable(error) from None
        return None if payload is None else outcome_from_dict(json.loads(payload))

    def _idem_key(self, idempotency_key: str) -> str:
        return f"{self._prefix}:idem:{_non_empty(idempotency_key, 'idempotency key')}"

    def _outcome_key(self, task_id: str) -> str:
        return f"{self._prefix}:outcome:{_non_empty(task_id, 'task id')}"


def _non_empty(text: str, what: str) -> str:
    if not isinstance(text, str) or not text:
        raise ValueError(f"the {what} must be a non-empty string")
    return text


# -- serialisation -----------------------------------------------------------------------
# Explicit, so that a renamed field is a visible change here rather than a silent new shape.
# Floats go through ``json`` (``repr``), which round-trips every double, NaN and ±inf included.


def outcome_to_dict(outcome: TaskOutcome) -> dict[str, Any]:
    error = outcome.error
    return {
        "task_id": outcome.task_id,
        "task_type": outcome.task_type,
        "agent_id": outcome.agent_id,
        "organ_id": outcome.organ_id,
        "success": outcome.success,
        "quality": outcome.quality,
        "latency_ms": outcome.latency_ms,
        "joules": outcome.joules,
        "cpu_measured": outcome.cpu_measured,
        "salience": outcome.salience,
        "score": outcome.score,
        "predicted_d_e": outcome.predicted_d_e,
        "team": list(outcome.team),
        "error": None
        if error is None
        else {"type": error.type, "message": error.message, "code": error.code},
        "result": dict(outcome.result),
        "memory_events": dict(outcome.memory_events),
        "incident_logged": outcome.incident_logged,
        "incident_id": outcome.incident_id,
        "incident_reason": outcome.incident_reason,
        "explored": outcome.explored,
    }


def outcome_from_dict(data: Mapping[str, Any]) -> TaskOutcome:
    error = data["error"]
    return TaskOutcome(
        task_id=str(data["task_id"]),
        task_type=str(data["task_type"]),
        agent_id=str(data["agent_id"]),
        organ_id=str(data["organ_id"]),
        success=bool(data["success"]),
        quality=float(data["quality"]),
        latency_ms=float(data["latency_ms"]),
        joules=float(data["joules"]),
        cpu_measured=bool(data["cpu_measured"]),
        salience=float(data["salience"]),
        score=float(data["score"]),
        predicted_d_e=float(data["predicted_d_e"]),
        team=tuple(str(member) for member in data.get("team", ())),
        error=None
        if error is None
        else TaskError(str(error["type"]), str(error["message"]), str(error["code"])),
        result=dict(data.get("result", {})),
        memory_events={str(k): int(v) for k, v in data.get("memory_events", {}).items()},
        incident_logged=bool(data.get("incident_logged", False)),
        incident_id=data.get("incident_id"),
        incident_reason=data.get("incident_reason"),
        explored=bool(data.get("explored", False)),
    )
