"""Typed application errors; entrypoints map each class to one precise HTTP status."""

from __future__ import annotations

__all__ = [
    "BackendUnavailable",
    "Conflict",
    "InvalidInput",
    "NoEligibleAgent",
    "NotFound",
    "OperationFailed",
    "SeedCoreError",
    "TaskInterrupted",
    "WriteFailed",
]


class SeedCoreError(Exception):
    """Base of every error the application raises on purpose."""

    code = "seedcore_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SeedCoreError):
    """The request is well-formed but breaks a domain rule (HTTP 422)."""

    code = "invalid_input"


class NotFound(SeedCoreError):
    """An id that names nothing (HTTP 404)."""

    code = "not_found"

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} does not exist")
        self.kind = kind
        self.ident = ident


class Conflict(SeedCoreError):
    """The request contradicts existing state, e.g. an id taken twice (HTTP 409)."""

    code = "conflict"


class NoEligibleAgent(SeedCoreError):
    """Selection found no agent that may take the task now (HTTP 409, retriable)."""

    code = "no_eligible_agent"


class BackendUnavailable(SeedCoreError):
    """A backend the request needs cannot be reached (HTTP 503). Names the backend."""

    code = "backend_unavailable"

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend} is unavailable: {reason}")
        self.backend = backend
        self.reason = reason


class TaskInterrupted(BackendUnavailable):
    """The host running a task failed before it answered, so the task's outcome is unknown
    (HTTP 503 with ``Retry-After``). Nothing of it was recorded: submitting it again is safe,
    and with an idempotency key the runtime has already retried it once."""

    code = "task_interrupted"

    def __init__(self, backend: str, task_id: str, reason: str) -> None:
        super().__init__(backend, f"task {task_id!r} was interrupted ({reason}); its outcome "
                                  "is unknown and it may be submitted again")
        self.task_id = task_id
        self.retry_after_s = 1


class WriteFailed(SeedCoreError):
    """A multi-store write was rolled back; nothing partial remains (HTTP 503)."""

    code = "write_failed"

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"write to {backend} failed and was rolled back: {reason}")
        self.backend = backend
        self.reason = reason


class OperationFailed(SeedCoreError):
    """The operation a ``high_stakes`` task ran failed: its error type, message and code."""

    code = "operation_failed"

    def __init__(self, error_type: str, message: str, error_code: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.error_code = error_code
