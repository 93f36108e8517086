-- Runs once, on the first start of an empty data directory (docker-entrypoint-initdb.d),
-- as the superuser the image creates (POSTGRES_USER), in POSTGRES_DB.
CREATE EXTENSION IF NOT EXISTS vector;
