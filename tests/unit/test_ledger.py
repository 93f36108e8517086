"""The energy ledger (spec §3.4): real deltas, replay, broken chains."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ledger import (
    Balance,
    LedgerError,
    LedgerTransaction,
    Scope,
    apply,
    next_transaction,
    replay,
)


def tx(
    previous: Balance | None,
    total_after: float,
    scope: Scope = Scope.CLUSTER,
    scope_id: str = "cluster",
    joules: float = 0.0,
    n: int = 0,
) -> LedgerTransaction:
    return next_transaction(
        previous, f"tx-{n}", float(n), scope, scope_id, "energy_snapshot", total_after,
        {"total": total_after}, joules,
    )


def test_first_transaction_starts_from_zero() -> None:
    first = tx(None, -12.5)
    assert first.total_before == 0.0
    assert first.d_e == -12.5


def test_de_is_a_real_delta() -> None:
    first = tx(None, -10.0)
    second = tx(apply(None, first), -12.5, n=1)
    assert second.total_before == -10.0
    assert second.total_after == -12.5
    assert second.d_e == pytest.approx(-2.5)
    assert second.d_e == second.total_after - second.total_before


def test_next_transaction_refuses_negative_joules() -> None:
    with pytest.raises(ValueError, match="joules"):
        tx(None, 1.0, joules=-0.1)


def test_transaction_copies_the_terms() -> None:
    terms = {"pair": -1.0}
    made = next_transaction(None, "t", 0.0, Scope.AGENT, "a", "task-1", -1.0, terms, 0.5)
    terms["pair"] = 99.0
    assert made.terms_after == {"pair": -1.0}
    assert (made.scope, made.scope_id, made.cause, made.joules) == (
        Scope.AGENT, "a", "task-1", 0.5
    )


scopes = st.sampled_from(
    [(Scope.CLUSTER, "cluster"), (Scope.ORGAN, "o1"), (Scope.ORGAN, "o2"), (Scope.AGENT, "a1")]
)
totals = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(st.tuples(scopes, totals, st.floats(0, 100)), max_size=80))
@settings(max_examples=150, deadline=None)
def test_replay_reproduces_every_balance(
    events: list[tuple[tuple[Scope, str], float, float]],
) -> None:
    balances: dict[tuple[Scope, str], Balance] = {}
    written: list[LedgerTransaction] = []
    last_total: dict[tuple[Scope, str], float] = {}
    joules: dict[tuple[Scope, str], float] = {}
    for n, ((scope, scope_id), total, j) in enumerate(events):
        key = (scope, scope_id)
        made = tx(balances.get(key), total, scope, scope_id, j, n)
        balances[key] = apply(balances.get(key), made)
        written.append(made)
        last_total[key] = total
        joules[key] = joules.get(key, 0.0) + j
    replayed = replay(written)
    assert set(replayed) == set(last_total)
    for key, balance in replayed.items():
        assert balance.total == last_total[key]
        assert balance.joules == pytest.approx(joules[key])
        assert balance.transactions == sum(1 for t in written if (t.scope, t.scope_id) == key)
        assert balance == balances[key]


def test_replay_of_a_long_chain_with_large_totals_does_not_drift() -> None:
    """A store that keeps the last total_after as the balance must replay cleanly."""
    written = []
    previous: Balance | None = None
    for n in range(20_000):
        total = 100_000.0 + ((n * 7919) % 1000) / 7.0 - (n % 13) * 0.1
        made = tx(previous, total, n=n)
        written.append(made)
        previous = Balance(total=total, joules=0.0, transactions=n + 1)
    balance = replay(written)[(Scope.CLUSTER, "cluster")]
    assert balance.total == written[-1].total_after
    assert balance.transactions == 20_000


def test_sum_of_deltas_is_the_last_total() -> None:
    previous: Balance | None = None
    written = []
    for n, total in enumerate([-3.0, -4.5, -4.0, -10.25]):
        made = tx(previous, total, n=n)
        previous = apply(previous, made)
        written.append(made)
    assert sum(t.d_e for t in written) == pytest.approx(-10.25)


def test_a_broken_chain_raises() -> None:
    first = tx(None, -10.0)
    gap = LedgerTransaction("tx-1", 1.0, Scope.CLUSTER, "cluster", "x", -9.0, -11.0)
    with pytest.raises(LedgerError, match="tx-1"):
        replay([first, gap])


def test_a_first_transaction_not_starting_at_zero_raises() -> None:
    orphan = LedgerTransaction("tx-0", 0.0, Scope.ORGAN, "o1", "x", -5.0, -6.0)
    with pytest.raises(LedgerError):
        replay([orphan])


def test_chains_of_different_scopes_are_independent() -> None:
    cluster = tx(None, -10.0)
    organ = tx(None, -3.0, Scope.ORGAN, "o1", n=1)
    agent = tx(None, -1.0, Scope.AGENT, "cluster", n=2)  # same id, other scope
    balances = replay([cluster, organ, agent])
    assert balances[(Scope.CLUSTER, "cluster")].total == -10.0
    assert balances[(Scope.ORGAN, "o1")].total == -3.0
    assert balances[(Scope.AGENT, "cluster")].total == -1.0


def test_ledger_error_is_a_value_error() -> None:
    assert issubclass(LedgerError, ValueError)
