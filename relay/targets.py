"""What a route delivers to and how it retries: the configuration types the routing table
compiles (relay/routing/table.py) and the delivery worker uses (relay/delivery/). Plain
values, so that neither side pulls in the other (nor an HTTP client)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from relay.ratelimit import RateLimit

__all__ = ["DEFAULT_RETRY", "RetryPolicy", "Target"]


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    base_url: str
    api_key: str = field(repr=False)
    max_concurrency: int = 10
    timeout: float = 300.0
    connect_timeout: float = 10.0
    rate_limit: RateLimit | None = None
    breaker_failures: int = 10
    breaker_cooldown: float = 30.0
    idempotency_header: str | None = None
    run_timeout: float = 3600.0  # a run still going after this long is stopped


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff for retryable failures: ``initial * multiplier**(n-1)`` seconds before attempt
    ``n + 1``, capped at ``max``, each delay moved by a random amount of up to ``jitter`` of
    itself either way (±20 % by default). These are the defaults of a route's ``retry:``
    (``RetryConfig`` in relay/routing/config.py reads them from here)."""

    max_attempts: int = 8
    initial: float = 5.0
    max: float = 3600.0
    multiplier: float = 2.0
    jitter: float = 0.2
    on_run_failure: bool = False  # retry a run that reports status "failed"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RetryPolicy:
        fields = {
            k: data[k]
            for k in ("max_attempts", "initial", "max", "multiplier", "jitter", "on_run_failure")
            if k in data
        }
        return cls(**fields)


#: A route's retry policy when its config says nothing.
DEFAULT_RETRY = RetryPolicy()
