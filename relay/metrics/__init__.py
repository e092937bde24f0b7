"""Prometheus metrics: a small registry and the families relay exports."""
