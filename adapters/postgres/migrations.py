"""Idempotent, versioned schema migrations for the PostgreSQL adapters.

Each migration runs once per schema, recorded in ``schema_migrations``; ``migrate`` applies the
missing ones in order inside one transaction under an advisory lock, so concurrent starters
neither race nor half-apply.

**The vector dimension.** There is one ``holons`` table per schema, created with the dimension
configured when it is first migrated. A later ``migrate`` with another dimension is refused
(``SchemaMismatch``) instead of silently opening a second, empty table: changing the embedder
means a new schema (or a re-embedding job), never memories that quietly disappear. Tests and
benchmarks that need other dimensions use their own schema (``PostgresPool(schema=...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from psycopg import sql

from adapters.postgres.pool import Connection, PostgresPool

Statement = sql.SQL | sql.Composed

__all__ = [
    "HNSW_EF_CONSTRUCTION",
    "HNSW_INDEX",
    "HNSW_M",
    "MAX_DIM",
    "MIGRATIONS",
    "Migration",
    "SchemaMismatch",
    "create_hnsw_index",
    "migrate",
]

#: HNSW build parameters: links per node and candidate list size while building. With
#: ``hnsw.ef_search`` (set per query by the store) they trade recall for speed; the figures
#: behind these values come from ``entrypoints/bench_mlt.py``.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 128
HNSW_INDEX = "holons_embedding_hnsw"
#: pgvector indexes ``vector`` columns of up to 2,000 dimensions.
MAX_DIM = 2000


class SchemaMismatch(RuntimeError):
    """The database holds a schema these adapters cannot use as configured."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: Callable[[int], list[Statement]]
    """The statements, given the configured vector dimension."""


def create_hnsw_index() -> sql.Composed:
    """The cosine HNSW index of ``holons.embedding`` (also rebuilt by bulk loads)."""
    return sql.SQL(
        "CREATE INDEX IF NOT EXISTS {index} ON holons USING hnsw (embedding vector_cosine_ops)"
        " WITH (m = {m}, ef_construction = {ef})"
    ).format(
        index=sql.Identifier(HNSW_INDEX),
        m=sql.Literal(HNSW_M),
        ef=sql.Literal(HNSW_EF_CONSTRUCTION),
    )


def _vector_extension(_dim: int) -> list[Statement]:
    # In public whatever the pool's schema, so dropping a test schema never drops it.
    return [sql.SQL("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public")]


def _holons(dim: int) -> list[Statement]:
    return [
        sql.SQL(
            """
            CREATE TABLE holons (
                uuid uuid PRIMARY KEY,
                kind text NOT NULL,
                content text NOT NULL,
                embedding vector({dim}) NOT NULL,
                meta jsonb NOT NULL DEFAULT '{{}}',
                content_hash text NOT NULL,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                size_bytes bigint NOT NULL
            )
            """
        ).format(dim=sql.Literal(dim)),
        sql.SQL("CREATE INDEX holons_kind ON holons (kind)"),
        create_hnsw_index(),
    ]


def _ledger(_dim: int) -> list[Statement]:
    return [
        sql.SQL(
            """
            CREATE TABLE ledger (
                seq bigserial PRIMARY KEY,
                tx_id text NOT NULL UNIQUE,
                ts timestamptz NOT NULL,
                scope text NOT NULL CHECK (scope IN ('cluster', 'organ', 'agent')),
                scope_id text NOT NULL,
                cause text NOT NULL,
                total_before double precision NOT NULL,
                total_after double precision NOT NULL,
                terms_after jsonb NOT NULL,
                joules double precision NOT NULL
            )
            """
        ),
        sql.SQL("CREATE INDEX ledger_scope ON ledger (scope, scope_id, seq)"),
        sql.SQL(
            """
            CREATE TABLE ledger_balances (
                scope text NOT NULL,
                scope_id text NOT NULL,
                total double precision NOT NULL,
                joules double precision NOT NULL,
                transactions bigint NOT NULL,
                PRIMARY KEY (scope, scope_id)
            )
            """
        ),
    ]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "vector extension", _vector_extension),
    Migration(2, "holons with a cosine HNSW index", _holons),
    Migration(3, "energy ledger and balances", _ledger),
)


def migrate(pool: PostgresPool, dim: int) -> list[int]:
    """Bring the pool's schema up to date; return the versions applied now (empty when none).

    Raises ``SchemaMismatch`` when the ``holons`` table exists with another dimension than
    ``dim``, and ``BackendUnavailable`` when the server cannot be reached.
    """
    if isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_DIM:
        raise ValueError(f"dim must be an integer within [1, {MAX_DIM}]")
    with pool.transaction() as conn:
        typed = conn.adapters.types.get("vector") is not None
        schema = pool.schema or "public"
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"seedcore.migrate.{schema}",))
        if pool.schema is not None:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY,"
            " name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        applied = []
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            for statement in migration.statements(dim):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
        stored = _holon_dim(conn)
    if stored != dim:
        raise SchemaMismatch(
            f"the holons table of schema {schema!r} holds vectors of dimension {stored}, but the"
            f" store is configured for {dim}: use another schema or re-embed the holons"
        )
    if not typed:
        pool.refresh()  # connections opened before the extension existed lack its types
    return applied


def _holon_dim(conn: Connection) -> int | None:
    row = conn.execute(
        "SELECT a.atttypmod FROM pg_attribute a"
        " WHERE a.attrelid = 'holons'::regclass AND a.attname = 'embedding'"
    ).fetchone()
    return None if row is None else int(row[0])
