"""Running one task on one agent: the handler, its metering, and what the agent learns.

A runtime (in-process or an organ actor) owns a :class:`TaskExecutor` and calls
:meth:`TaskExecutor.run` with the agent's current state; it stores the state it gets back.
"""

from __future__ import annotations

from collections import Counter

from application.errors import InvalidInput
from application.handlers import HandlerContext, HandlerRegistry, HandlerResult
from application.jobs import Execution, Job
from application.memory import FactReader
from application.ports.clock import Clock
from application.ports.embedder import Embedder
from application.ports.operations import OperationExecutor
from domain.agent import AgentState, Lesson, learn
from domain.config import DomainConfig
from domain.consumption import Metering, Op, joules
from domain.task import Task

__all__ = ["Execution", "Job", "TaskExecutor", "task_text"]  # Job and Execution re-exported


class TaskExecutor:
    """Runs handlers for agents and turns their results into metered, learnt executions."""

    def __init__(
        self,
        handlers: HandlerRegistry,
        facts: FactReader,
        operations: OperationExecutor,
        embedder: Embedder,
        clock: Clock,
        config: DomainConfig,
    ) -> None:
        self._handlers = handlers
        self._facts = facts
        self._operations = operations
        self._embedder = embedder
        self._clock = clock
        self._config = config

    def run(self, agent: AgentState, job: Job) -> Execution:
        """Execute on the calling thread, so its CPU time is the handler's own (measured)."""
        handler = self._handlers.get(job.task.task_type)
        if handler is None:
            raise InvalidInput(f"no handler for task type {job.task.task_type!r}")
        ops: Counter[Op] = Counter()
        context = HandlerContext(
            task=job.task,
            agent=agent,
            team_organs=job.team_organs,
            facts=self._facts,
            operations=self._operations,
            ops=ops,
        )
        started_wall = self._clock.monotonic()
        started_cpu = self._clock.thread_cpu()
        result: HandlerResult = handler.handle(context)
        cpu_seconds = max(0.0, self._clock.thread_cpu() - started_cpu)
        latency_ms = max(0.0, self._clock.monotonic() - started_wall) * 1000.0
        metering = Metering(
            cpu_seconds=cpu_seconds,
            cpu_measured=True,
            ops=dict(ops),
            joules=joules(cpu_seconds, ops, self._config.costs),
        )
        lesson = Lesson(
            task_type=job.task.task_type,
            success=result.success,
            quality=result.quality,
            joules=metering.joules / len(job.team),
            task_embedding=(
                job.task_embedding
                if job.task_embedding is not None
                else self._embedder.embed(task_text(job.task))
            ),
            memory_hit=result.memory_hit,
            memory_writes=ops[Op.MW_WRITE],
            memory_hits=result.memory_hits,
        )
        after = learn(agent, lesson, self._clock.now(), self._config.learning)
        return Execution(
            success=result.success,
            quality=result.quality,
            error=result.error,
            result=result.result,
            latency_ms=latency_ms,
            metering=metering,
            lesson=lesson,
            state_before=agent,
            state_after=after,
            memory_events={op.value: count for op, count in ops.items()},
        )


def task_text(task: Task) -> str:
    """What a task is about, for its embedding: its type, description and required facts."""
    return " ".join((task.task_type, task.description, *task.required_facts)).strip()
