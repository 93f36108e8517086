"""Operation executor port: the external action a ``high_stakes`` task performs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["OperationExecutor"]


class OperationExecutor(Protocol):
    def run(self, operation: Mapping[str, Any], timeout_s: float) -> Mapping[str, Any]:
        """Perform the operation within ``timeout_s`` and return its result. Any failure,
        timeout or refusal included, raises ``application.errors.OperationFailed`` with the
        error's type, message and a stable code; a malformed operation raises
        ``InvalidInput``."""
        ...
