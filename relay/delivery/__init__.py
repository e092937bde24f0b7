"""Delivering events: the worker, the run start sender, retries, breakers, following runs."""
