"""Ledger store port: append-only energy transactions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.ledger import Balance, LedgerTransaction, Scope

__all__ = ["LedgerStore"]


class LedgerStore(Protocol):
    def append(self, transactions: Sequence[LedgerTransaction]) -> None:
        """Append all or none. A transaction whose ``total_before`` does not continue its
        scope's balance raises ``domain.ledger.LedgerError`` and nothing is written."""
        ...

    def balance(self, scope: Scope, scope_id: str) -> Balance | None:
        """The scope's current balance, or None before its first transaction."""
        ...

    def transactions(
        self,
        limit: int,
        after_seq: int = 0,
        scope: Scope | None = None,
        scope_id: str | None = None,
    ) -> list[tuple[int, LedgerTransaction]]:
        """In append order with their sequence numbers (> ``after_seq``), optionally filtered."""
        ...

    def ping(self) -> None:
        ...
