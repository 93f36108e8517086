"""In-memory adapters, one module per port: thread-safe, time from an injected clock.

They back the embedded profile and the tests, and pass the same contract suites
(``tests/contract``) as the real backends, so tests that use them mean something.
"""
