"""The energy ledger in PostgreSQL: append-only rows plus a locked balance row per scope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from psycopg import errors, sql
from psycopg.types.json import Jsonb

from adapters.postgres.pool import PostgresPool
from domain.ledger import Balance, LedgerError, LedgerTransaction, Scope, apply

__all__ = ["PostgresLedgerStore"]

_COLUMNS = "tx_id, ts, scope, scope_id, cause, total_before, total_after, terms_after, joules"


class PostgresLedgerStore:
    """Implements :class:`application.ports.ledger_store.LedgerStore` on the ``ledger`` and
    ``ledger_balances`` tables made by :func:`adapters.postgres.migrations.migrate`.

    An append is one transaction: it takes a lock that only other appends wait for (readers do
    not), locks the balance rows of the scopes involved (``FOR UPDATE``), checks the chain with
    ``domain.ledger.apply`` and writes the rows and the new balances; a broken chain raises
    ``LedgerError`` and rolls everything back. Because appends are serialised, sequence
    numbers follow commit order, so a reader paging with ``after_seq`` never skips an entry
    committed later with a smaller number. A failed append may leave a gap in the numbers.
    """

    def __init__(self, pool: PostgresPool) -> None:
        self._pool = pool

    def append(self, transactions: Sequence[LedgerTransaction]) -> None:
        if not transactions:
            return
        keys = sorted({(Scope(tx.scope).value, tx.scope_id) for tx in transactions})
        try:
            with self._pool.transaction() as conn, conn.cursor() as cur:
                cur.execute("LOCK TABLE ledger IN SHARE ROW EXCLUSIVE MODE")
                cur.execute(
                    "SELECT scope, scope_id, total, joules, transactions FROM ledger_balances"
                    " WHERE (scope, scope_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
                    " ORDER BY scope, scope_id FOR UPDATE",
                    ([scope for scope, _ in keys], [scope_id for _, scope_id in keys]),
                )
                stored = {
                    (scope, scope_id): Balance(float(total), float(joules), int(count))
                    for scope, scope_id, total, joules, count in cur.fetchall()
                }
                balances: dict[tuple[str, str], Balance | None] = {
                    key: stored.get(key) for key in keys
                }
                for tx in transactions:
                    key = (Scope(tx.scope).value, tx.scope_id)
                    balances[key] = apply(balances[key], tx)  # LedgerError: rolled back
                cur.executemany(
                    f"INSERT INTO ledger ({_COLUMNS})"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (tx.tx_id, datetime.fromtimestamp(tx.ts, UTC), Scope(tx.scope).value,
                         tx.scope_id, tx.cause, tx.total_before, tx.total_after,
                         Jsonb(dict(tx.terms_after)), tx.joules)
                        for tx in transactions
                    ],
                )
                cur.executemany(
                    "INSERT INTO ledger_balances (scope, scope_id, total, joules, transactions)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (scope, scope_id) DO UPDATE SET"
                    " total = EXCLUDED.total, joules = EXCLUDED.joules,"
                    " transactions = EXCLUDED.transactions",
                    [
                        (scope, scope_id, b.total, b.joules, b.transactions)
                        for (scope, scope_id), b in balances.items()
                        if b is not None
                    ],
                )
        except errors.UniqueViolation as duplicate:
            raise LedgerError(f"a transaction id is already recorded: {duplicate}") from None

    def balance(self, scope: Scope, scope_id: str) -> Balance | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT total, joules, transactions FROM ledger_balances"
                " WHERE scope = %s AND scope_id = %s",
                (Scope(scope).value, scope_id),
            ).fetchone()
        return None if row is None else Balance(float(row[0]), float(row[1]), int(row[2]))

    def transactions(
        self,
        limit: int,
        after_seq: int = 0,
        scope: Scope | None = None,
        scope_id: str | None = None,
    ) -> list[tuple[int, LedgerTransaction]]:
        if limit < 0:
            raise ValueError("limit must not be negative")
        conditions = [sql.SQL("seq > %(after)s")]
        if scope is not None:
            conditions.append(sql.SQL("scope = %(scope)s"))
        if scope_id is not None:
            conditions.append(sql.SQL("scope_id = %(scope_id)s"))
        query = sql.SQL(
            "SELECT seq, tx_id, extract(epoch FROM ts)::float8, scope, scope_id, cause,"
            " total_before, total_after, terms_after, joules FROM ledger WHERE {}"
            " ORDER BY seq LIMIT %(limit)s"
        ).format(sql.SQL(" AND ").join(conditions))
        params = {
            "after": after_seq,
            "scope": None if scope is None else Scope(scope).value,
            "scope_id": scope_id,
            "limit": limit,
        }
        with self._pool.connection() as conn:
            rows = conn.execute(query, params).fetchall()
        return [
            (int(seq), LedgerTransaction(str(tx_id), float(ts), Scope(scope_), str(sid),
                                         str(cause), float(before), float(after), dict(terms),
                                         float(joules)))
            for seq, tx_id, ts, scope_, sid, cause, before, after, terms, joules in rows
        ]

    def ping(self) -> None:
        self._pool.ping()
