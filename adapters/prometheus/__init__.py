"""Prometheus adapters: the metrics port on prometheus-client."""
