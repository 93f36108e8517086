"""Contract of the ledger store port: append-only energy transactions with a checked chain."""

from __future__ import annotations

import pytest

from application.ports.ledger_store import LedgerStore
from domain.ledger import Balance, LedgerError, LedgerTransaction, Scope, next_transaction, replay
from tests.contract.conftest import Harness

T0 = 1_700_000_000.0


def tx(
    tx_id: str,
    before: float,
    after: float,
    scope: Scope = Scope.CLUSTER,
    scope_id: str = "cluster",
    joules: float = 0.0,
) -> LedgerTransaction:
    return LedgerTransaction(
        tx_id=tx_id,
        ts=T0,
        scope=scope,
        scope_id=scope_id,
        cause="energy_snapshot",
        total_before=before,
        total_after=after,
        terms_after={"pair": 0.0, "entropy": after, "total": after},
        joules=joules,
    )


def test_a_scope_has_no_balance_before_its_first_transaction(
    ledger: Harness[LedgerStore],
) -> None:
    assert ledger.adapter.balance(Scope.CLUSTER, "cluster") is None
    assert ledger.adapter.transactions(10) == []


def test_the_balance_follows_the_chain(ledger: Harness[LedgerStore]) -> None:
    store = ledger.adapter
    first = next_transaction(None, "t1", T0, Scope.CLUSTER, "cluster", "loop", -1.5, {}, 2.0)
    store.append([first])
    balance = store.balance(Scope.CLUSTER, "cluster")
    assert balance == Balance(total=-1.5, joules=2.0, transactions=1)
    second = next_transaction(
        balance, "t2", T0 + 5, Scope.CLUSTER, "cluster", "loop", -2.0, {}, 1.0
    )
    store.append([second])
    assert store.balance(Scope.CLUSTER, "cluster") == Balance(-2.0, 3.0, 2)


def test_transactions_round_trip_with_sequence_numbers_from_one(
    ledger: Harness[LedgerStore],
) -> None:
    written = [tx("t1", 0.0, -1.0, joules=0.5), tx("t2", -1.0, -0.25, joules=0.125)]
    ledger.adapter.append(written)
    found = ledger.adapter.transactions(10)
    assert [seq for seq, _ in found] == [1, 2]
    for (_, back), original in zip(found, written, strict=True):
        assert back.tx_id == original.tx_id
        assert back.scope == original.scope
        assert back.scope_id == original.scope_id
        assert back.total_before == original.total_before
        assert back.total_after == original.total_after
        assert back.d_e == pytest.approx(original.d_e)
        assert dict(back.terms_after) == dict(original.terms_after)
        assert back.joules == original.joules
        assert back.ts == pytest.approx(original.ts)


def test_a_break_in_the_chain_is_refused_and_nothing_of_the_batch_is_written(
    ledger: Harness[LedgerStore],
) -> None:
    store = ledger.adapter
    store.append([tx("t1", 0.0, -1.0)])
    with pytest.raises(LedgerError):
        store.append([tx("t2", -1.0, -2.0), tx("t3", -1.0, -3.0)])  # t3 should start at -2
    with pytest.raises(LedgerError):
        store.append([tx("t4", -1.0, -1.5, Scope.AGENT, "a1")])  # a new scope starts at 0
    with pytest.raises(LedgerError):
        store.append([tx("t5", 5.0, 6.0)])
    assert store.balance(Scope.CLUSTER, "cluster") == Balance(-1.0, 0.0, 1)
    assert store.balance(Scope.AGENT, "a1") is None
    assert [t.tx_id for _, t in store.transactions(10)] == ["t1"]


def test_a_batch_may_chain_within_itself_and_span_scopes(ledger: Harness[LedgerStore]) -> None:
    store = ledger.adapter
    store.append(
        [
            tx("c1", 0.0, -1.0),
            tx("o1", 0.0, -0.4, Scope.ORGAN, "cognitive"),
            tx("c2", -1.0, -1.2),
            tx("a1", 0.0, -0.1, Scope.AGENT, "agent-1"),
            tx("o2", -0.4, -0.3, Scope.ORGAN, "cognitive"),
        ]
    )
    for scope, scope_id, total, count in [
        (Scope.CLUSTER, "cluster", -1.2, 2),
        (Scope.ORGAN, "cognitive", -0.3, 2),
        (Scope.AGENT, "agent-1", -0.1, 1),
    ]:
        balance = store.balance(scope, scope_id)
        assert balance is not None
        assert balance.total == pytest.approx(total)
        assert balance.transactions == count
    assert store.balance(Scope.ORGAN, "agent-1") is None


def test_transactions_filter_and_page_in_append_order(ledger: Harness[LedgerStore]) -> None:
    store = ledger.adapter
    store.append([tx("c1", 0.0, -1.0), tx("o1", 0.0, -0.5, Scope.ORGAN, "x")])
    store.append([tx("a1", 0.0, -0.2, Scope.AGENT, "x"), tx("c2", -1.0, -2.0)])
    store.append([tx("o2", -0.5, -0.7, Scope.ORGAN, "x"), tx("o3", 0.0, 1.0, Scope.ORGAN, "y")])

    def listed(**kwargs: object) -> list[tuple[int, str]]:
        return [(seq, t.tx_id) for seq, t in store.transactions(**kwargs)]  # type: ignore[arg-type]

    assert listed(limit=10) == [(1, "c1"), (2, "o1"), (3, "a1"), (4, "c2"), (5, "o2"), (6, "o3")]
    assert listed(limit=2, after_seq=2) == [(3, "a1"), (4, "c2")]
    assert listed(limit=10, scope=Scope.ORGAN) == [(2, "o1"), (5, "o2"), (6, "o3")]
    assert listed(limit=10, scope=Scope.ORGAN, scope_id="x") == [(2, "o1"), (5, "o2")]
    assert listed(limit=10, scope_id="x") == [(2, "o1"), (3, "a1"), (5, "o2")]
    assert listed(limit=1, after_seq=2, scope=Scope.ORGAN) == [(5, "o2")]
    assert listed(limit=10, after_seq=6) == []


def test_replaying_the_transactions_reproduces_every_balance(
    ledger: Harness[LedgerStore],
) -> None:
    store = ledger.adapter
    totals = {("cluster", Scope.CLUSTER): 0.0, ("x", Scope.ORGAN): 0.0, ("a", Scope.AGENT): 0.0}
    for step in range(12):
        scope_id, scope = list(totals)[step % 3]
        after = (-1.0) ** step * step / 7.0
        store.append([tx(f"t{step}", totals[(scope_id, scope)], after, scope, scope_id, 0.5)])
        totals[(scope_id, scope)] = after
    replayed = replay(t for _, t in store.transactions(100))
    for (scope_id, scope), total in totals.items():
        balance = store.balance(scope, scope_id)
        assert balance is not None
        assert balance.total == pytest.approx(total, abs=1e-9)
        assert replayed[(scope, scope_id)].total == pytest.approx(balance.total, abs=1e-9)
        assert replayed[(scope, scope_id)].joules == pytest.approx(balance.joules)
        assert balance.transactions == 4


def test_ping_answers(ledger: Harness[LedgerStore]) -> None:
    ledger.adapter.ping()
