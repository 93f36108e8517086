"""Entry points: the CLI, the HTTP app and the worker; the only place that wires things."""
