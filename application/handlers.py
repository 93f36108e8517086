"""Task handlers by task type: ``knowledge``, ``high_stakes``, ``general``, and your own.

A handler is deterministic given the agent, the task and what memory and operations return:
no outcome is ever drawn at random.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from application.errors import InvalidInput, OperationFailed
from application.memory import FactReader
from application.ports.operations import OperationExecutor
from domain.agent import AgentState
from domain.consumption import Op
from domain.task import Task, TaskError

__all__ = [
    "GeneralHandler",
    "HandlerContext",
    "HandlerRegistry",
    "HandlerResult",
    "HighStakesHandler",
    "KnowledgeHandler",
    "TaskHandler",
    "default_registry",
]

KNOWLEDGE_FOUND_QUALITY = 0.9
KNOWLEDGE_MISSING_QUALITY = 0.1
OPERATION_SUCCESS_QUALITY = 0.9
DEFAULT_OPERATION_TIMEOUT_S = 2.0
MAX_OPERATION_TIMEOUT_S = 30.0


@dataclass(slots=True)
class HandlerContext:
    """What a handler may use. Memory and operations go through here so they are metered."""

    task: Task
    agent: AgentState
    team_organs: tuple[str, ...]
    facts: FactReader
    operations: OperationExecutor
    ops: Counter[Op] = field(default_factory=Counter)

    def run_operation(self, operation: Mapping[str, Any], timeout_s: float) -> Mapping[str, Any]:
        return self.operations.run(operation, timeout_s)


@dataclass(frozen=True, slots=True)
class HandlerResult:
    success: bool
    quality: float
    result: Mapping[str, Any] = field(default_factory=dict)
    error: TaskError | None = None
    memory_hit: float = 0.0
    memory_hits: int = 0


class TaskHandler(Protocol):
    def validate(self, task: Task) -> None:
        """Raise ``InvalidInput`` when the task cannot be run by this handler (checked before
        selection, so a bad task costs nothing)."""
        ...

    def handle(self, context: HandlerContext) -> HandlerResult:
        """Run the task. Expected failures are results, not exceptions."""
        ...


class KnowledgeHandler:
    """Looks every required fact up through the read path; succeeds iff all are found."""

    def validate(self, task: Task) -> None:
        if not task.required_facts:
            raise InvalidInput("a knowledge task needs at least one required fact")

    def handle(self, context: HandlerContext) -> HandlerResult:
        organs = context.team_organs
        found: dict[str, str] = {}
        missing: list[str] = []
        hits = 0
        for fact_id in context.task.required_facts:
            read = context.facts.read_fact(fact_id, organs)
            context.ops.update(read.ops)
            if read.content is None:
                missing.append(fact_id)
                continue
            found[fact_id] = read.content
            hits += 1 if read.from_working_memory else 0
        total = len(context.task.required_facts)
        success = not missing
        result: dict[str, Any] = {
            "knowledge_found": success,
            "facts": found,
            "missing": missing,
        }
        if total == 1 and success:
            result["content"] = next(iter(found.values()))
        return HandlerResult(
            success=success,
            quality=KNOWLEDGE_FOUND_QUALITY if success else KNOWLEDGE_MISSING_QUALITY,
            result=result,
            error=None
            if success
            else TaskError("KnowledgeGap", f"facts not found: {', '.join(missing)}", "E_FACT"),
            memory_hit=hits / total,
            memory_hits=hits,
        )


class HighStakesHandler:
    """Runs ``payload.operation`` through the operation port with ``payload.timeout_s``."""

    def validate(self, task: Task) -> None:
        operation = task.payload.get("operation")
        if not isinstance(operation, Mapping):
            raise InvalidInput("a high_stakes task needs payload.operation (an object)")
        timeout = task.payload.get("timeout_s", DEFAULT_OPERATION_TIMEOUT_S)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not 0 < timeout <= MAX_OPERATION_TIMEOUT_S
        ):
            raise InvalidInput(f"payload.timeout_s must be in (0, {MAX_OPERATION_TIMEOUT_S}]")

    def handle(self, context: HandlerContext) -> HandlerResult:
        payload = context.task.payload
        timeout = float(payload.get("timeout_s", DEFAULT_OPERATION_TIMEOUT_S))
        try:
            response = context.run_operation(payload["operation"], timeout)
        except OperationFailed as failure:
            return HandlerResult(
                success=False,
                quality=0.0,
                error=TaskError(failure.error_type, failure.message, failure.error_code),
            )
        return HandlerResult(
            success=True, quality=OPERATION_SUCCESS_QUALITY, result={"response": dict(response)}
        )


class GeneralHandler:
    """Work without external effects: succeeds, with the quality the agent is good for
    (the mean of its capability and its skill at the type)."""

    def validate(self, task: Task) -> None:
        return None

    def handle(self, context: HandlerContext) -> HandlerResult:
        agent = context.agent
        skill = agent.skills.get(context.task.task_type, 0.5)
        return HandlerResult(success=True, quality=0.5 * agent.capability + 0.5 * skill)


class HandlerRegistry:
    """Handlers by task type. Unknown types fall back to ``general`` only when registered so."""

    def __init__(self, fallback: str | None = "general") -> None:
        self._handlers: dict[str, TaskHandler] = {}
        self._fallback = fallback

    def register(self, task_type: str, handler: TaskHandler) -> None:
        if not task_type:
            raise ValueError("task_type must not be empty")
        self._handlers[task_type] = handler

    def get(self, task_type: str) -> TaskHandler | None:
        handler = self._handlers.get(task_type)
        if handler is None and self._fallback is not None:
            return self._handlers.get(self._fallback)
        return handler

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._handlers))


def default_registry() -> HandlerRegistry:
    """The built-in handlers; extend the result with ``register``."""
    registry = HandlerRegistry()
    registry.register("knowledge", KnowledgeHandler())
    registry.register("high_stakes", HighStakesHandler())
    registry.register("general", GeneralHandler())
    return registry
