"""The admin API: authenticated operator endpoints under ``/api``."""
