"""Contract of the lease lock port: one holder per name, leases that expire and extend."""

from __future__ import annotations

import threading

import pytest

from application.ports.lock import LeaseLock
from tests.contract.conftest import Harness


def test_one_owner_holds_a_lease_at_a_time(lease_lock: Harness[LeaseLock]) -> None:
    lock = lease_lock.adapter
    assert lock.acquire("consolidation", "worker-a", 5.0) is True
    assert lock.acquire("consolidation", "worker-b", 5.0) is False
    assert lock.acquire("consolidation", "worker-a", 5.0) is True  # extending is allowed
    assert lock.acquire("hot_miss", "worker-b", 5.0) is True  # another name is independent


def test_an_expired_lease_can_be_taken_by_another_owner(lease_lock: Harness[LeaseLock]) -> None:
    lock = lease_lock.adapter
    assert lock.acquire("loop", "worker-a", 0.5) is True
    lease_lock.advance(0.3)
    assert lock.acquire("loop", "worker-b", 0.5) is False
    lease_lock.advance(0.3)
    assert lock.acquire("loop", "worker-b", 0.5) is True
    assert lock.acquire("loop", "worker-a", 0.5) is False


def test_acquiring_again_extends_the_lease(lease_lock: Harness[LeaseLock]) -> None:
    lock = lease_lock.adapter
    lock.acquire("loop", "worker-a", 0.5)
    lease_lock.advance(0.3)
    assert lock.acquire("loop", "worker-a", 0.5) is True
    lease_lock.advance(0.3)  # 0.6 s after the first acquire, 0.3 s after the extension
    assert lock.acquire("loop", "worker-b", 0.5) is False


def test_only_the_holder_can_release(lease_lock: Harness[LeaseLock]) -> None:
    lock = lease_lock.adapter
    lock.acquire("loop", "worker-a", 30.0)
    lock.release("loop", "worker-b")
    lock.release("other", "worker-a")
    assert lock.acquire("loop", "worker-b", 30.0) is False
    lock.release("loop", "worker-a")
    assert lock.acquire("loop", "worker-b", 30.0) is True


def test_exactly_one_of_many_concurrent_owners_wins(lease_lock: Harness[LeaseLock]) -> None:
    lock = lease_lock.adapter
    threads = 12
    barrier = threading.Barrier(threads)
    results: list[bool] = [False] * threads

    def contend(index: int) -> None:
        barrier.wait()
        results[index] = lock.acquire("singleton", f"worker-{index}", 30.0)

    workers = [threading.Thread(target=contend, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results.count(True) == 1


@pytest.mark.parametrize("ttl_s", [0.0, -1.0, float("nan")])
def test_a_ttl_that_is_not_positive_is_refused(
    lease_lock: Harness[LeaseLock], ttl_s: float
) -> None:
    with pytest.raises(ValueError, match="ttl"):
        lease_lock.adapter.acquire("loop", "worker-a", ttl_s)
    assert lease_lock.adapter.acquire("loop", "worker-b", 1.0) is True
