"""Outcome store port: task outcomes by id, and idempotency keys."""

from __future__ import annotations

from typing import Protocol

from domain.task import TaskOutcome

__all__ = ["OutcomeStore"]


class OutcomeStore(Protocol):
    def claim(self, idempotency_key: str, task_id: str) -> str | None:
        """Bind the key to ``task_id`` unless it is bound already; returns the task id it was
        bound to before, or None when this call bound it. Atomic."""
        ...

    def release(self, idempotency_key: str, task_id: str) -> None:
        """Unbind a key whose task produced no outcome (so a retry may run it)."""
        ...

    def put(self, outcome: TaskOutcome) -> None:
        """Keep an outcome; the same task id twice replaces it."""
        ...

    def get(self, task_id: str) -> TaskOutcome | None:
        ...
