"""In-memory outcome store: outcomes by task id and idempotency keys, both bounded."""

from __future__ import annotations

import threading
from collections import OrderedDict

from domain.task import TaskOutcome

__all__ = ["InMemoryOutcomeStore"]


class InMemoryOutcomeStore:
    """Implements :class:`application.ports.outcome_store.OutcomeStore`.

    Keeps at most ``max_entries`` outcomes and as many idempotency keys, evicting the oldest
    written first (a replaced outcome counts as newly written), so a long-running embedded
    process does not grow without bound. Thread-safe; ``claim`` is atomic.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max = max_entries
        self._lock = threading.Lock()
        self._outcomes: OrderedDict[str, TaskOutcome] = OrderedDict()
        self._keys: OrderedDict[str, str] = OrderedDict()

    def claim(self, idempotency_key: str, task_id: str) -> str | None:
        with self._lock:
            bound = self._keys.get(idempotency_key)
            if bound is not None:
                return bound
            self._keys[idempotency_key] = task_id
            while len(self._keys) > self._max:
                self._keys.popitem(last=False)
            return None

    def release(self, idempotency_key: str, task_id: str) -> None:
        """Unbind the key only while it is bound to ``task_id``: a late release of an
        earlier attempt must not free a key another task holds now."""
        with self._lock:
            if self._keys.get(idempotency_key) == task_id:
                del self._keys[idempotency_key]

    def put(self, outcome: TaskOutcome) -> None:
        with self._lock:
            self._outcomes.pop(outcome.task_id, None)
            self._outcomes[outcome.task_id] = outcome
            while len(self._outcomes) > self._max:
                self._outcomes.popitem(last=False)

    def get(self, task_id: str) -> TaskOutcome | None:
        with self._lock:
            return self._outcomes.get(task_id)
