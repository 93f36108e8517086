"""Memory-tier rules (spec §6): names, the read path, TTLs, consolidation, promotion."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.memory import (
    GLOBAL_NAMESPACE,
    InvalidKey,
    ReadDecision,
    Tier,
    consolidation_priority,
    decide_read,
    expiry,
    is_expired,
    organ_namespace,
    promotion_candidates,
    read_path,
    ttl_remaining,
    validate_key,
    validate_namespace,
)

INJECTIONS = [
    "",
    "*",
    "organ:*",
    "organ:",
    "global*",
    "global\n",
    "organ:a b",
    "organ:a\nFLUSHALL",
    "organ:../etc",
    "organ:a'; DROP TABLE x; --",
    "organ:a}) DETACH DELETE n //",
    "organ:é",
    "organ:a\x00",
    "GLOBAL",
    " global",
    "user:1",
    "organ:" + "a" * 129,
]


@pytest.mark.parametrize("namespace", ["global", "organ:cognitive", "organ:o-1.a_b", "organ:A9"])
def test_valid_namespaces(namespace: str) -> None:
    assert validate_namespace(namespace) == namespace


@pytest.mark.parametrize("namespace", INJECTIONS)
def test_invalid_namespaces_are_refused(namespace: str) -> None:
    with pytest.raises(InvalidKey):
        validate_namespace(namespace)


def test_non_string_namespace_and_key_are_refused() -> None:
    with pytest.raises(InvalidKey):
        validate_namespace(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidKey):
        validate_key(b"fact")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "key", ["fact", "6f1c1c1e-5eed-4c0e-9a1b-5eedc0de0001", "task:1:result", "a.b_c-d", "x" * 256]
)
def test_valid_keys(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "key",
    ["", "*", "a*", "a b", "a\nb", "a\r\nFLUSHALL", "-a", ":a", "a?", "a[1]", "a'", 'a"', "é",
     "x" * 257, "a\x00"],
)
def test_invalid_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidKey):
        validate_key(key)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_accepted_keys_use_the_safe_alphabet_only(key: str) -> None:
    try:
        validate_key(key)
    except InvalidKey:
        return
    assert 1 <= len(key) <= 256
    assert all(ch.isascii() and (ch.isalnum() or ch in "_.:-") for ch in key)
    assert key[0].isalnum()


def test_organ_namespace() -> None:
    assert organ_namespace("cognitive") == "organ:cognitive"
    for bad in ("", "a b", "*", "a:b", "x\n"):
        with pytest.raises(InvalidKey):
            organ_namespace(bad)


def test_invalid_key_is_a_value_error() -> None:
    assert issubclass(InvalidKey, ValueError)


# --- read path ---------------------------------------------------------------------------------


def test_read_path_probes_organs_then_global() -> None:
    assert read_path(["a"]) == ("organ:a", GLOBAL_NAMESPACE)
    assert read_path(["b", "a", "b", "c", "a"]) == ("organ:b", "organ:a", "organ:c", "global")
    assert read_path([]) == ("global",)
    with pytest.raises(InvalidKey):
        read_path(["ok", "not ok"])


def test_mw_hit_counts_no_item_miss_and_caches_nothing() -> None:
    path = read_path(["a", "b"])
    for namespace in path:
        decision = decide_read(path, namespace, None)
        assert decision == ReadDecision(namespace, None, count_item_miss=False)


def test_mlt_hit_is_cached_back_to_the_first_organ_and_counts_an_item_miss() -> None:
    path = read_path(["b", "a"])
    decision = decide_read(path, None, True)
    assert decision.found_in == Tier.MLT.value == "mlt"
    assert decision.cache_back_to == "organ:b"
    assert decision.count_item_miss


def test_unknown_fact_misses_everywhere_and_writes_nothing() -> None:
    path = read_path(["a"])
    for in_mlt in (False, None):
        decision = decide_read(path, None, in_mlt)
        assert decision.found_in is None
        assert decision.cache_back_to is None
        assert decision.count_item_miss


# --- TTL ------------------------------------------------------------------------------------


def test_ttl_helpers() -> None:
    assert expiry(100.0, 600.0) == 700.0
    assert not is_expired(700.0, 699.999)
    assert is_expired(700.0, 700.0)
    assert not is_expired(None, 1e12)
    assert ttl_remaining(700.0, 650.0) == 50.0
    assert ttl_remaining(700.0, 800.0) == 0.0
    assert ttl_remaining(None, 5.0) is None
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="ttl"):
            expiry(0.0, bad)


# --- consolidation and promotion -------------------------------------------------------------


def test_consolidation_priority() -> None:
    assert consolidation_priority(0.8, 10.0, 0.5) == pytest.approx(0.5 * 0.8 + 0.5 * 10.0)
    assert consolidation_priority(1.0, 2.0, 0.25) == pytest.approx(0.25 + 0.75 * 2.0)
    assert consolidation_priority(0.0, 0.0, 0.5) == 0.0
    assert consolidation_priority(0.4, -5.0, 0.5) == pytest.approx(0.2)
    # surprising items go first among items of the same age, older first among equals
    assert consolidation_priority(0.9, 1.0, 0.5) > consolidation_priority(0.1, 1.0, 0.5)
    assert consolidation_priority(0.1, 9.0, 0.5) > consolidation_priority(0.1, 1.0, 0.5)


def test_promotion_candidates_reach_the_threshold() -> None:
    misses = {"a": 1, "b": 2, "c": 5}
    assert promotion_candidates(misses, {}, 0.0, 600.0, 2) == ["b", "c"]
    assert promotion_candidates(misses, {}, 0.0, 600.0, 1) == ["a", "b", "c"]
    assert promotion_candidates({}, {}, 0.0, 600.0, 2) == []


def test_an_item_is_promoted_at_most_once_per_ttl_window() -> None:
    misses = {"x": 3}
    assert promotion_candidates(misses, {"x": 100.0}, 100.0, 600.0, 2) == []
    assert promotion_candidates(misses, {"x": 100.0}, 699.9, 600.0, 2) == []
    assert promotion_candidates(misses, {"x": 100.0}, 700.0, 600.0, 2) == ["x"]
    assert promotion_candidates(misses, {"y": 100.0}, 100.0, 600.0, 2) == ["x"]
