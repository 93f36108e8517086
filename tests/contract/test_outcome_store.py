"""Contract of the outcome store port: outcomes by task id and atomic idempotency claims."""

from __future__ import annotations

import threading

from adapters.memory.outcome_store import InMemoryOutcomeStore
from application.ports.outcome_store import OutcomeStore
from domain.task import TaskError, TaskOutcome
from tests.contract.conftest import Harness


def outcome(task_id: str, success: bool = True, quality: float = 0.9) -> TaskOutcome:
    return TaskOutcome(
        task_id=task_id,
        task_type="high_stakes",
        agent_id="agent-1",
        organ_id="actuator-1",
        success=success,
        quality=quality,
        latency_ms=12.5,
        joules=0.031,
        cpu_measured=True,
        salience=0.9,
        score=0.42,
        predicted_d_e=-0.01,
        team=("agent-1", "agent-2"),
        error=None if success else TaskError("Timeout", "timed out", "E_TIMEOUT"),
        result={"response": {"status": 200}},
        memory_events={"mw_read": 2},
        incident_logged=not success,
        incident_id=None if success else "inc-1",
    )


def test_the_first_claim_binds_the_key_and_later_ones_see_the_binding(
    outcomes: Harness[OutcomeStore],
) -> None:
    store = outcomes.adapter
    assert store.claim("key-1", "task-a") is None
    assert store.claim("key-1", "task-b") == "task-a"
    assert store.claim("key-1", "task-a") == "task-a"
    assert store.claim("key-2", "task-b") is None


def test_claims_are_atomic_under_contention(outcomes: Harness[OutcomeStore]) -> None:
    store = outcomes.adapter
    threads = 16
    barrier = threading.Barrier(threads)
    answers: list[str | None] = [None] * threads

    def claim(index: int) -> None:
        barrier.wait()
        answers[index] = store.claim("contended", f"task-{index}")

    workers = [threading.Thread(target=claim, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    winners = [i for i, answer in enumerate(answers) if answer is None]
    assert len(winners) == 1
    assert set(answers) == {None, f"task-{winners[0]}"}


def test_release_frees_the_key_for_a_retry(outcomes: Harness[OutcomeStore]) -> None:
    store = outcomes.adapter
    store.claim("key", "task-a")
    store.release("key", "task-a")
    assert store.claim("key", "task-b") is None
    assert store.claim("key", "task-c") == "task-b"


def test_release_by_another_task_leaves_the_binding(outcomes: Harness[OutcomeStore]) -> None:
    store = outcomes.adapter
    store.claim("key", "task-a")
    store.release("key", "task-b")
    store.release("unknown-key", "task-a")
    assert store.claim("key", "task-c") == "task-a"


def test_outcomes_are_kept_by_task_id_and_replaced(outcomes: Harness[OutcomeStore]) -> None:
    store = outcomes.adapter
    assert store.get("task-a") is None
    first = outcome("task-a", success=False, quality=0.0)
    store.put(first)
    store.put(outcome("task-b"))
    assert store.get("task-a") == first
    replacement = outcome("task-a", success=True, quality=0.8)
    store.put(replacement)
    assert store.get("task-a") == replacement
    assert store.get("task-b") == outcome("task-b")


def test_the_in_memory_store_keeps_the_newest_outcomes_and_keys() -> None:
    store = InMemoryOutcomeStore(max_entries=3)
    for name in ["a", "b", "c"]:
        store.put(outcome(name))
    store.put(outcome("a", quality=0.5))  # rewritten: now the newest
    store.put(outcome("d"))
    assert [store.get(n) is not None for n in "abcd"] == [True, False, True, True]
    for index in range(4):
        store.claim(f"key-{index}", f"task-{index}")
    assert store.claim("key-0", "again") is None  # the oldest binding was dropped
    assert store.claim("key-3", "again") == "task-3"
