"""PostgreSQL adapters: pgvector holon store (Mlt vectors) and the energy ledger.

``pool.PostgresPool`` owns the connections, ``migrations.migrate`` brings a schema up to date,
and each store takes the pool. psycopg, psycopg_pool and pgvector are imported only here.
"""
