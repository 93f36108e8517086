"""In-memory energy ledger: an append-only list with per-scope balances kept by replay."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from domain.ledger import Balance, LedgerTransaction, Scope, apply

__all__ = ["InMemoryLedgerStore"]


class InMemoryLedgerStore:
    """Implements :class:`application.ports.ledger_store.LedgerStore`. Sequence numbers start
    at 1 and follow append order. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._transactions: list[LedgerTransaction] = []
        self._balances: dict[tuple[Scope, str], Balance] = {}

    def append(self, transactions: Sequence[LedgerTransaction]) -> None:
        """Check the whole batch against the balances (and against earlier entries of the
        same batch) with ``domain.ledger.apply`` before writing any of it."""
        with self._lock:
            pending: dict[tuple[Scope, str], Balance] = {}
            for tx in transactions:
                key = (Scope(tx.scope), tx.scope_id)
                pending[key] = apply(pending.get(key, self._balances.get(key)), tx)
            self._transactions.extend(transactions)
            self._balances.update(pending)

    def balance(self, scope: Scope, scope_id: str) -> Balance | None:
        with self._lock:
            return self._balances.get((Scope(scope), scope_id))

    def transactions(
        self,
        limit: int,
        after_seq: int = 0,
        scope: Scope | None = None,
        scope_id: str | None = None,
    ) -> list[tuple[int, LedgerTransaction]]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        found: list[tuple[int, LedgerTransaction]] = []
        with self._lock:
            for index in range(max(0, after_seq), len(self._transactions)):
                if len(found) >= limit:
                    break
                tx = self._transactions[index]
                if scope is not None and tx.scope != scope:
                    continue
                if scope_id is not None and tx.scope_id != scope_id:
                    continue
                found.append((index + 1, tx))
        return found

    def ping(self) -> None:
        return None
