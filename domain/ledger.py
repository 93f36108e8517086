"""The energy ledger: append-only transactions whose dE is a real delta, and their replay."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "Balance",
    "LedgerError",
    "LedgerTransaction",
    "Scope",
    "apply",
    "next_transaction",
    "replay",
]


class Scope(StrEnum):
    CLUSTER = "cluster"
    ORGAN = "organ"
    AGENT = "agent"


class LedgerError(ValueError):
    """A transaction chain that does not replay."""


@dataclass(frozen=True, slots=True)
class LedgerTransaction:
    """One entry. ``d_e`` always equals ``total_after − total_before``."""

    tx_id: str
    ts: float
    scope: Scope
    scope_id: str
    cause: str
    total_before: float
    total_after: float
    terms_after: Mapping[str, float] = field(default_factory=dict)
    joules: float = 0.0

    @property
    def d_e(self) -> float:
        return self.total_after - self.total_before


@dataclass(frozen=True, slots=True)
class Balance:
    """What replay gives for one scope: the energy balance, cumulative joules, entries seen."""

    total: float
    joules: float
    transactions: int


def next_transaction(
    previous: Balance | None,
    tx_id: str,
    ts: float,
    scope: Scope,
    scope_id: str,
    cause: str,
    total_after: float,
    terms_after: Mapping[str, float],
    joules: float,
) -> LedgerTransaction:
    """The transaction that moves a scope from its current balance to ``total_after``.

    The first transaction of a scope starts from 0, so replay from an empty ledger works.
    """
    if joules < 0:
        raise ValueError("joules must not be negative")
    before = previous.total if previous is not None else 0.0
    return LedgerTransaction(
        tx_id=tx_id,
        ts=ts,
        scope=scope,
        scope_id=scope_id,
        cause=cause,
        total_before=before,
        total_after=total_after,
        terms_after=dict(terms_after),
        joules=joules,
    )


def apply(balance: Balance | None, tx: LedgerTransaction, tolerance: float = 1e-9) -> Balance:
    """Advance one scope's balance by one transaction, checking the chain is unbroken."""
    start = balance.total if balance is not None else 0.0
    if abs(tx.total_before - start) > tolerance:
        raise LedgerError(
            f"transaction {tx.tx_id} starts at {tx.total_before!r} but the {tx.scope}"
            f" {tx.scope_id!r} balance is {start!r}"
        )
    # The chain is continuous, so the new balance is exactly the transaction's total_after
    # (start + dE rounded the same value differently each step and drifted over long chains).
    return Balance(
        total=tx.total_after,
        joules=(balance.joules if balance is not None else 0.0) + tx.joules,
        transactions=(balance.transactions if balance is not None else 0) + 1,
    )


def replay(transactions: Iterable[LedgerTransaction]) -> dict[tuple[Scope, str], Balance]:
    """Rebuild every scope's balance from zero, checking each transaction starts where the
    previous one of its scope ended (so each balance is the running sum of the dE values)."""
    balances: dict[tuple[Scope, str], Balance] = {}
    for tx in transactions:
        key = (tx.scope, tx.scope_id)
        balances[key] = apply(balances.get(key), tx)
    return balances
