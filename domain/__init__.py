"""SeedCore's pure domain: agents, energy, selection, salience and memory-migration rules.

Nothing in this package performs I/O, reads a clock or holds module-level state; numpy is its
only third-party import. Every constant is a default in :mod:`domain.config`.
"""
