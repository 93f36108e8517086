"""The energy ledger in SQLite: append-only rows plus a balance per scope."""

from __future__ import annotations

import json
from collections.abc import Sequence

from adapters.sqlite.database import SqliteDatabase
from domain.ledger import Balance, LedgerTransaction, Scope, apply

__all__ = ["SqliteLedgerStore"]

_COLUMNS = "tx_id, ts, scope, scope_id, cause, total_before, total_after, terms_after, joules"


class SqliteLedgerStore:
    """Implements :class:`application.ports.ledger_store.LedgerStore`. Each append checks the
    chain against the stored balances and writes rows and balances in one transaction."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def append(self, transactions: Sequence[LedgerTransaction]) -> None:
        with self._db.transaction() as conn:
            balances: dict[tuple[str, str], Balance | None] = {}
            for tx in transactions:
                key = (tx.scope.value, tx.scope_id)
                if key not in balances:
                    row = conn.execute(
                        "SELECT total, joules, transactions FROM ledger_balances"
                        " WHERE scope = ? AND scope_id = ?", key).fetchone()
                    balances[key] = None if row is None else Balance(*row)
                balances[key] = apply(balances[key], tx)  # raises LedgerError: rolled back
            conn.executemany(
                f"INSERT INTO ledger ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(tx.tx_id, tx.ts, tx.scope.value, tx.scope_id, tx.cause, tx.total_before,
                  tx.total_after, json.dumps(dict(tx.terms_after)), tx.joules)
                 for tx in transactions],
            )
            conn.executemany(
                "INSERT OR REPLACE INTO ledger_balances VALUES (?, ?, ?, ?, ?)",
                [(scope, sid, b.total, b.joules, b.transactions)
                 for (scope, sid), b in balances.items() if b is not None],
            )

    def balance(self, scope: Scope, scope_id: str) -> Balance | None:
        with self._db.reading() as conn:
            row = conn.execute("SELECT total, joules, transactions FROM ledger_balances"
                               " WHERE scope = ? AND scope_id = ?",
                               (scope.value, scope_id)).fetchone()
        return None if row is None else Balance(float(row[0]), float(row[1]), int(row[2]))

    def transactions(
        self,
        limit: int,
        after_seq: int = 0,
        scope: Scope | None = None,
        scope_id: str | None = None,
    ) -> list[tuple[int, LedgerTransaction]]:
        sql = f"SELECT seq, {_COLUMNS} FROM ledger WHERE seq > ?"
        params: list[object] = [after_seq]
        if scope is not None:
            sql += " AND scope = ?"
            params.append(scope.value)
        if scope_id is not None:
            sql += " AND scope_id = ?"
            params.append(scope_id)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self._db.reading() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            (int(seq), LedgerTransaction(tx_id, ts, Scope(scope_), sid, cause, before, after,
                                         json.loads(terms), joules))
            for seq, tx_id, ts, scope_, sid, cause, before, after, terms, joules in rows
        ]

    def ping(self) -> None:
        self._db.ping()
