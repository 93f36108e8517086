"""``/tasks``: submit a task (selection, execution, learning, salience) and read outcomes."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import ResponseHeader
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, JSONBody, Parameter

from application.errors import InvalidInput
from domain.task import Size, Task
from entrypoints.api.context import ServicesDep
from entrypoints.api.problems import problem_responses
from entrypoints.api.schemas import IDEMPOTENCY_KEY_PATTERN, TaskIn, TaskOutcomeOut

__all__ = ["TaskController"]

SUBMIT_DESCRIPTION = """\
Selects an agent (or a team), runs the task on it and returns the outcome.

**A task whose work failed is still a completed task**: the answer is `201` with
`success: false`, the `error` (type, message, code) and, for a failure salient enough, the
flashbulb incident that was logged (`incident_logged`, `incident_id`, or `incident_reason` when
the incident store was down). Error statuses are reserved for tasks that could not be run: a
rule broken (422), an unknown hint (404), no eligible agent now (409, retriable), a backend
down (503), or the organ actor running the task died before answering (503
`task_interrupted`: its outcome is unknown and nothing was recorded, so it may be submitted
again; a task with an idempotency key was already retried once on the restarted actor).

With an `Idempotency-Key` header the task runs at most once per key: a repeat returns the
first outcome with status `200` and the header `Idempotent-Replayed: true` (a repeat while the
first is still running gets a 409). Without `task_id` the server assigns a uuid4; a `task_id`
that already has an outcome is a 409 unless the request replays its idempotency key.
"""

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN, max_length=128,
                    description="runs the task once per key; 1-128 of `A-Za-z0-9_.:-`"),
]
TaskId = Annotated[str, Parameter(max_length=128, description="the task's id")]


def to_task(data: JSONBody[TaskIn], idempotency_key: str | None) -> Task:
    """The domain task of a request; a rule its constructor enforces becomes a 422."""
    try:
        return Task(
            task_id=data.task_id or str(uuid.uuid4()),
            task_type=data.type,
            payload=data.payload,
            required_facts=tuple(str(f) for f in data.required_facts),
            risk=data.risk,
            severity=data.severity,
            complexity=data.complexity,
            priority=data.priority,
            organ_hint=data.organ_hint,
            agent_hint=data.agent_hint,
            idempotency_key=idempotency_key,
            team_size=data.team_size,
            size=Size(data.size),
            urgent=data.urgent,
            description=data.description,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


class TaskController(Controller):
    path = "/tasks"
    tags = ("tasks",)

    @post(
        "/",
        sync_to_thread=True,
        summary="Submit a task and get its outcome",
        description=SUBMIT_DESCRIPTION,
        response_description="The task ran (successfully or not); this is its outcome.",
        response_headers=[
            ResponseHeader(name="Location", description="the outcome's URL",
                           documentation_only=True, required=False),
        ],
        responses={
            200: ResponseSpec(
                TaskOutcomeOut,
                description="An idempotent replay: the outcome of the first request with "
                "this `Idempotency-Key`; the header `Idempotent-Replayed: true` is set.",
                generate_examples=False,
            ),
            **problem_responses(400, 404, 409, 422, 503),
        },
    )
    def submit(
        self, services: ServicesDep, data: JSONBody[TaskIn], idempotency_key: IdempotencyKey = None
    ) -> Response[TaskOutcomeOut]:
        task = to_task(data, idempotency_key)
        outcome, replayed = services.organism.submit_once(task)
        if replayed:
            return Response(TaskOutcomeOut.of(outcome), status_code=200,
                            headers={"Idempotent-Replayed": "true"})
        return Response(TaskOutcomeOut.of(outcome), status_code=201,
                        headers={"Location": f"/api/v1/tasks/{outcome.task_id}"})

    @get(
        "/{task_id:str}",
        sync_to_thread=True,
        summary="Get a task's outcome",
        responses=problem_responses(400, 404, 422, 503),
    )
    def get_task(self, services: ServicesDep, task_id: TaskId) -> TaskOutcomeOut:
        return TaskOutcomeOut.of(services.organism.outcome(task_id))
