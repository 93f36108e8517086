"""SQLite adapters: the embedded profile's persistent Mlt (vectors and graph), Mfb and ledger."""
