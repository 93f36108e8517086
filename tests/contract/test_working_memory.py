"""Contract of the working-memory port (Mw), run against every adapter in the conftest list."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from adapters.memory.clock import FakeClock
from application.errors import BackendUnavailable
from application.ports.working_memory import WorkingMemory
from domain.memory import InvalidKey
from tests.contract.conftest import Harness, WorkingMemoryFactory

ORGAN_A = "organ:a"
ORGAN_B = "organ:b"
GLOBAL = "global"

INJECTED_KEYS = [
    "",
    "x'}) DETACH DELETE n //",
    "KNOWS]-() DELETE n//",
    "a b",
    "k*",
    "../etc",
    "key\nFLUSHALL",
    "-leading-dash",
    "x" * 257,
]
INJECTED_NAMESPACES = [
    "",
    "*",
    "organ:*",
    "organ:",
    "organ:a*",
    "organ:a:b",
    "global*",
    "GLOBAL",
    "global; FLUSHALL",
    "organ:a b",
    "x'}) DETACH DELETE n //",
]


def _stats(memory: WorkingMemory, namespace: str) -> tuple[int, int, int, int]:
    s = memory.stats(namespace)
    return s.hits, s.misses, s.items, s.bytes


class TestItems:
    def test_a_set_value_is_read_back_and_replaced_by_the_next_set(
        self, wm: Harness[WorkingMemory]
    ) -> None:
        memory = wm.adapter
        assert memory.get(ORGAN_A, "k") is None
        memory.set(ORGAN_A, "k", b"one", 10.0)
        assert memory.get(ORGAN_A, "k") == b"one"
        memory.set(ORGAN_A, "k", b"two", 10.0)
        assert memory.get(ORGAN_A, "k") == b"two"
        assert memory.get(ORGAN_B, "k") is None
        assert memory.get(GLOBAL, "k") is None

    def test_binary_values_round_trip(self, wm: Harness[WorkingMemory]) -> None:
        value = bytes(range(256)) + "é✓".encode()
        wm.adapter.set(GLOBAL, "bin", value, 10.0)
        assert wm.adapter.get(GLOBAL, "bin") == value

    def test_delete_removes_one_item_and_says_whether_it_existed(
        self, wm: Harness[WorkingMemory]
    ) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k1", b"1", 10.0)
        memory.set(ORGAN_A, "k2", b"2", 10.0)
        assert memory.delete(ORGAN_A, "k1") is True
        assert memory.delete(ORGAN_A, "k1") is False
        assert memory.delete(ORGAN_B, "k2") is False
        assert memory.contains_many(ORGAN_A, ["k1", "k2"]) == [False, True]

    def test_contains_many_answers_in_order_and_counts_and_renews_nothing(
        self, wm: Harness[WorkingMemory]
    ) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "a", b"1", 0.5)
        memory.set(ORGAN_A, "c", b"3", 10.0)
        before = _stats(memory, ORGAN_A)
        assert memory.contains_many(ORGAN_A, ["c", "b", "a"]) == [True, False, True]
        assert memory.contains_many(ORGAN_A, []) == []
        assert _stats(memory, ORGAN_A) == before
        wm.advance(0.6)
        assert memory.contains_many(ORGAN_A, ["a", "c"]) == [False, True]

    @pytest.mark.parametrize("expires_in", [0.0, -1.0, float("nan"), float("inf")])
    def test_a_ttl_that_is_not_positive_and_finite_is_refused(
        self, wm: Harness[WorkingMemory], expires_in: float
    ) -> None:
        with pytest.raises(ValueError, match="expires_in"):
            wm.adapter.set(GLOBAL, "k", b"v", expires_in)
        assert wm.adapter.contains_many(GLOBAL, ["k"]) == [False]


class TestExpiry:
    def test_an_item_expires_after_its_ttl(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 0.5)
        wm.advance(0.3)
        assert memory.contains_many(ORGAN_A, ["k"]) == [True]
        wm.advance(0.3)
        assert memory.get(ORGAN_A, "k") is None
        assert memory.ttl(ORGAN_A, "k") is None
        assert memory.delete(ORGAN_A, "k") is False

    def test_ttl_reports_the_time_left_and_counts_nothing(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 1.0)
        wm.advance(0.4)
        before = _stats(memory, ORGAN_A)
        remaining = memory.ttl(ORGAN_A, "k")
        assert remaining is not None
        assert remaining == pytest.approx(0.6, abs=0.15)
        assert memory.ttl(ORGAN_A, "absent") is None
        assert _stats(memory, ORGAN_A) == before

    def test_get_with_renew_resets_the_ttl_atomically_with_the_read(
        self, wm: Harness[WorkingMemory]
    ) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 0.5)
        wm.advance(0.3)
        assert memory.get(ORGAN_A, "k", renew_for=1.0) == b"v"
        remaining = memory.ttl(ORGAN_A, "k")
        assert remaining == pytest.approx(1.0, abs=0.15)
        wm.advance(0.4)  # past the original expiry (0.7 s after the set)
        assert memory.contains_many(ORGAN_A, ["k"]) == [True]
        wm.advance(0.7)  # past the renewed one (1.1 s after the renewal)
        assert memory.contains_many(ORGAN_A, ["k"]) == [False]

    def test_get_without_renew_leaves_the_ttl_alone(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 0.5)
        wm.advance(0.3)
        assert memory.get(ORGAN_A, "k") == b"v"
        wm.advance(0.3)
        assert memory.get(ORGAN_A, "k") is None

    def test_a_get_of_an_expired_item_does_not_revive_it(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 0.5)
        wm.advance(0.6)
        assert memory.get(ORGAN_A, "k", renew_for=10.0) is None
        assert memory.contains_many(ORGAN_A, ["k"]) == [False]

    def test_a_set_replaces_the_ttl_too(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 10.0)
        memory.set(ORGAN_A, "k", b"w", 0.5)
        wm.advance(0.6)
        assert memory.get(ORGAN_A, "k") is None


class TestCounters:
    def test_hits_and_misses_are_counted_per_namespace(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 10.0)
        assert memory.get(ORGAN_A, "k") == b"v"
        assert memory.get(ORGAN_A, "k", renew_for=10.0) == b"v"
        assert memory.get(ORGAN_A, "other") is None
        assert memory.get(GLOBAL, "k") is None
        a, g, b = memory.stats(ORGAN_A), memory.stats(GLOBAL), memory.stats(ORGAN_B)
        assert (a.namespace, a.hits, a.misses) == (ORGAN_A, 2, 1)
        assert a.hit_rate == pytest.approx(2 / 3)
        assert (g.hits, g.misses) == (0, 1)
        assert (b.hits, b.misses, b.items, b.bytes) == (0, 0, 0, 0)

    def test_a_get_of_an_expired_item_counts_a_miss(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(GLOBAL, "k", b"v", 0.5)
        wm.advance(0.6)
        assert memory.get(GLOBAL, "k") is None
        assert _stats(memory, GLOBAL)[:2] == (0, 1)

    def test_stats_count_live_items_and_their_bytes(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "short", b"abc", 0.5)
        memory.set(ORGAN_A, "long", b"abcdefgh", 10.0)
        memory.set(ORGAN_B, "other", b"x" * 100, 10.0)
        assert _stats(memory, ORGAN_A)[2:] == (2, 11)
        memory.set(ORGAN_A, "long", b"ab", 10.0)
        assert _stats(memory, ORGAN_A)[2:] == (2, 5)
        wm.advance(0.6)
        assert _stats(memory, ORGAN_A)[2:] == (1, 2)
        assert _stats(memory, ORGAN_B)[2:] == (1, 100)

    def test_namespaces_lists_those_with_items_or_counters_sorted(
        self, wm: Harness[WorkingMemory]
    ) -> None:
        memory = wm.adapter
        assert memory.namespaces() == []
        memory.set(ORGAN_B, "k", b"v", 10.0)
        memory.set(GLOBAL, "k", b"v", 10.0)
        assert memory.get("organ:z", "k") is None  # counters only
        assert memory.namespaces() == [GLOBAL, ORGAN_B, "organ:z"]

    def test_concurrent_gets_lose_no_count(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 60.0)
        threads, rounds = 8, 100
        barrier = threading.Barrier(threads)

        def reader(index: int) -> None:
            barrier.wait()
            for _ in range(rounds):
                key = "k" if index % 2 == 0 else "absent"
                memory.get(ORGAN_A, key, renew_for=60.0)

        workers = [threading.Thread(target=reader, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        hits, misses, items, _ = _stats(memory, ORGAN_A)
        assert (hits, misses, items) == (threads // 2 * rounds, threads // 2 * rounds, 1)


class TestItemMisses:
    def test_record_item_miss_counts_up_per_key(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        assert memory.record_item_miss("fact-1") == 1
        assert memory.record_item_miss("fact-1") == 2
        assert memory.record_item_miss("fact-2") == 1
        assert memory.item_misses(["fact-1", "fact-2", "never"]) == {
            "fact-1": 2,
            "fact-2": 1,
            "never": 0,
        }
        assert dict(memory.item_misses()) == {"fact-1": 2, "fact-2": 1}

    def test_miss_counts_do_not_touch_namespace_counters(self, wm: Harness[WorkingMemory]) -> None:
        wm.adapter.record_item_miss("fact")
        assert _stats(wm.adapter, GLOBAL) == (0, 0, 0, 0)

    def test_counts_live_for_the_window_after_their_last_miss(
        self, wm: Harness[WorkingMemory]
    ) -> None:
        memory = wm.adapter  # miss window: 1 s
        memory.record_item_miss("fact")
        wm.advance(0.6)
        assert memory.record_item_miss("fact") == 2
        wm.advance(0.6)  # 1.2 s after the first miss, 0.6 s after the last
        assert memory.item_misses(["fact"]) == {"fact": 2}
        wm.advance(0.6)  # 1.2 s after the last miss
        assert memory.item_misses(["fact"]) == {"fact": 0}
        assert "fact" not in memory.item_misses()
        assert memory.record_item_miss("fact") == 1


class TestEviction:
    def test_the_least_recently_used_item_is_evicted_at_the_cap(
        self, working_memory_factory: WorkingMemoryFactory, clock: FakeClock
    ) -> None:
        harness = working_memory_factory(clock, item_cap=3, miss_window_s=1.0)
        try:
            memory = harness.adapter
            for key in ("a", "b", "c"):
                memory.set(ORGAN_A, key, b"v", 60.0)
            assert memory.get(ORGAN_A, "a") == b"v"  # order now b, c, a
            memory.set(ORGAN_A, "d", b"v", 60.0)  # evicts b
            assert memory.contains_many(ORGAN_A, ["a", "b", "c", "d"]) == [
                True,
                False,
                True,
                True,
            ]
            memory.set(ORGAN_A, "c", b"w", 60.0)  # a set makes c most recent: a, d, c
            memory.set(ORGAN_A, "e", b"v", 60.0)  # evicts a
            assert memory.contains_many(ORGAN_A, ["a", "c", "d", "e"]) == [
                False,
                True,
                True,
                True,
            ]
            assert memory.stats(ORGAN_A).items == 3
        finally:
            harness.close()

    def test_the_cap_is_per_namespace(
        self, working_memory_factory: WorkingMemoryFactory, clock: FakeClock
    ) -> None:
        harness = working_memory_factory(clock, item_cap=2, miss_window_s=1.0)
        try:
            memory = harness.adapter
            memory.set(ORGAN_A, "a1", b"v", 60.0)
            memory.set(ORGAN_A, "a2", b"v", 60.0)
            for index in range(5):
                memory.set(ORGAN_B, f"b{index}", b"v", 60.0)
            assert memory.contains_many(ORGAN_A, ["a1", "a2"]) == [True, True]
            assert memory.stats(ORGAN_B).items == 2
            assert memory.contains_many(ORGAN_B, ["b3", "b4"]) == [True, True]
        finally:
            harness.close()

    def test_replacing_an_item_at_the_cap_evicts_nothing(
        self, working_memory_factory: WorkingMemoryFactory, clock: FakeClock
    ) -> None:
        harness = working_memory_factory(clock, item_cap=2, miss_window_s=1.0)
        try:
            memory = harness.adapter
            memory.set(GLOBAL, "x", b"v", 60.0)
            memory.set(GLOBAL, "y", b"v", 60.0)
            memory.set(GLOBAL, "x", b"w", 60.0)
            assert memory.contains_many(GLOBAL, ["x", "y"]) == [True, True]
        finally:
            harness.close()


class TestDeleteNamespace:
    def test_it_removes_its_items_and_nothing_else(self, wm: Harness[WorkingMemory]) -> None:
        memory = wm.adapter
        for key in ("k1", "k2", "k3"):
            memory.set(ORGAN_A, key, b"v", 60.0)
        # "organ:ab" shares the prefix: a pattern delete of "organ:a*" would take it too.
        memory.set("organ:ab", "k1", b"v", 60.0)
        memory.set(ORGAN_B, "k1", b"v", 60.0)
        memory.set(GLOBAL, "k1", b"v", 60.0)
        memory.record_item_miss("k1")
        assert memory.delete_namespace(ORGAN_A) == 3
        assert memory.contains_many(ORGAN_A, ["k1", "k2", "k3"]) == [False] * 3
        assert memory.contains_many("organ:ab", ["k1"]) == [True]
        assert memory.contains_many(ORGAN_B, ["k1"]) == [True]
        assert memory.contains_many(GLOBAL, ["k1"]) == [True]
        assert memory.item_misses(["k1"]) == {"k1": 1}
        assert memory.delete_namespace(ORGAN_A) == 0

    @pytest.mark.parametrize("namespace", INJECTED_NAMESPACES)
    def test_it_refuses_an_empty_or_invalid_namespace(
        self, wm: Harness[WorkingMemory], namespace: str
    ) -> None:
        memory = wm.adapter
        memory.set(ORGAN_A, "k", b"v", 60.0)
        memory.set(GLOBAL, "k", b"v", 60.0)
        with pytest.raises(InvalidKey):
            memory.delete_namespace(namespace)
        assert memory.contains_many(ORGAN_A, ["k"]) == [True]
        assert memory.contains_many(GLOBAL, ["k"]) == [True]


def _calls_with_key(key: str) -> list[Callable[[WorkingMemory], Any]]:
    return [
        lambda m: m.set(GLOBAL, key, b"v", 1.0),
        lambda m: m.get(GLOBAL, key),
        lambda m: m.contains_many(GLOBAL, ["ok", key]),
        lambda m: m.ttl(GLOBAL, key),
        lambda m: m.delete(GLOBAL, key),
        lambda m: m.record_item_miss(key),
        lambda m: m.item_misses(["ok", key]),
    ]


def _calls_with_namespace(namespace: str) -> list[Callable[[WorkingMemory], Any]]:
    return [
        lambda m: m.set(namespace, "k", b"v", 1.0),
        lambda m: m.get(namespace, "k"),
        lambda m: m.contains_many(namespace, ["k"]),
        lambda m: m.ttl(namespace, "k"),
        lambda m: m.delete(namespace, "k"),
        lambda m: m.stats(namespace),
    ]


class TestValidation:
    @pytest.mark.parametrize("key", INJECTED_KEYS)
    def test_every_method_refuses_a_key_outside_the_alphabet(
        self, wm: Harness[WorkingMemory], key: str
    ) -> None:
        memory = wm.adapter
        memory.set(GLOBAL, "k", b"v", 60.0)
        for call in _calls_with_key(key):
            with pytest.raises(InvalidKey):
                call(memory)
        assert memory.contains_many(GLOBAL, ["k"]) == [True]
        assert memory.namespaces() == [GLOBAL]
        assert _stats(memory, GLOBAL) == (0, 0, 1, 1)

    @pytest.mark.parametrize("namespace", INJECTED_NAMESPACES)
    def test_every_method_refuses_an_invalid_namespace(
        self, wm: Harness[WorkingMemory], namespace: str
    ) -> None:
        memory = wm.adapter
        for call in _calls_with_namespace(namespace):
            with pytest.raises(InvalidKey):
                call(memory)
        assert memory.namespaces() == []

    def test_the_whole_key_alphabet_is_accepted(self, wm: Harness[WorkingMemory]) -> None:
        key = "Ab9_.:-" + "z" * 249  # 256 characters, every allowed symbol
        wm.adapter.set("organ:Org-1.x_y", key, b"v", 10.0)
        assert wm.adapter.get("organ:Org-1.x_y", key) == b"v"


class TestOutage:
    def test_an_unreachable_backend_raises_backend_unavailable_after_validation(
        self, wm: Harness[WorkingMemory]
    ) -> None:
        if wm.outage is None:
            pytest.skip("this adapter's harness cannot simulate an outage")
        memory = wm.adapter
        memory.set(GLOBAL, "k", b"v", 60.0)
        with wm.outage():
            with pytest.raises(BackendUnavailable):
                memory.ping()
            for call in [*_calls_with_key("k"), *_calls_with_namespace(GLOBAL)]:
                with pytest.raises(BackendUnavailable):
                    call(memory)
            with pytest.raises(InvalidKey):
                memory.get(GLOBAL, "bad key")
        memory.ping()
        assert memory.get(GLOBAL, "k") == b"v"
