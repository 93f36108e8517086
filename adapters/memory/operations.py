"""Scripted operations: a test double of the operation port, driven by registered callables."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from application.errors import InvalidInput

__all__ = ["OperationScript", "ScriptedOperations"]

#: What a test registers: called with the operation and the timeout, returns the result or
#: raises ``OperationFailed`` (or anything else, to test unexpected failures).
OperationScript = Callable[[Mapping[str, Any], float], Mapping[str, Any]]


class ScriptedOperations:
    """Implements :class:`application.ports.operations.OperationExecutor` for tests.

    ``operation["name"]`` picks a callable registered with :meth:`register`; an operation
    without a registered name raises ``InvalidInput``. ``calls`` records every
    (operation, timeout) received, in order. Thread-safe.
    """

    def __init__(self, scripts: Mapping[str, OperationScript] | None = None) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, OperationScript] = dict(scripts or {})
        self.calls: list[tuple[dict[str, Any], float]] = []

    def register(self, name: str, script: OperationScript) -> None:
        with self._lock:
            self._scripts[name] = script

    def run(self, operation: Mapping[str, Any], timeout_s: float) -> Mapping[str, Any]:
        name = operation.get("name")
        with self._lock:
            script = self._scripts.get(name) if isinstance(name, str) else None
            self.calls.append((dict(operation), timeout_s))
        if script is None:
            raise InvalidInput(f"no scripted operation named {name!r}")
        return script(operation, timeout_s)
