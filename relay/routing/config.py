"""The configuration schema (``version: 1``): targets, sources and routes.

These sections (``relay.config_schema``) are built from an already-interpolated document by
``validate(RelayConfig, data)``. Loading from YAML with located errors lives in
``relay.routing.loader``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from relay.alerts.config import AlertsConfig
from relay.config_schema import dump, rule, section
from relay.config_secrets import secret_values
from relay.durations import parse_duration
from relay.providers.body_limits import DEFAULT_MAX_BODY_BYTES as _DEFAULT_MAX_BODY
from relay.providers.body_limits import MAX_BODY_BYTES
from relay.run_options import DEFAULT_START, StartMode
from relay.targets import DEFAULT_RETRY

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_RETENTION",
    "DEFAULT_RUN_TIMEOUT",
    "BreakerConfig",
    "RateLimitConfig",
    "RelayConfig",
    "RetryConfig",
    "RouteConfig",
    "SourceConfig",
    "TargetConfig",
]

DEFAULT_MAX_BODY_BYTES = _DEFAULT_MAX_BODY  # providers that document no maximum
DEFAULT_RETENTION = 30 * 86400.0
DEFAULT_RUN_TIMEOUT = 3600.0  # a run going on for an hour is stopped, unless configured
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(
            f"invalid {what} name {value!r}: use letters, digits, '_', '.', '-' (max 64)"
        )
    return value


@section
class RetryConfig:
    """Backoff for retryable failures: ``initial * multiplier**(n-1)`` seconds, capped at
    ``max``, each delay moved by up to ``jitter`` of itself either way (±20 % by default).
    The defaults are ``RetryPolicy``'s (relay/targets.py); this adds the bounds."""

    max_attempts: int = rule(default=DEFAULT_RETRY.max_attempts, ge=1, le=100)
    initial: float = rule(default=DEFAULT_RETRY.initial, ge=0, le=86400)
    max: float = rule(default=DEFAULT_RETRY.max, ge=0, le=7 * 86400)
    multiplier: float = rule(default=DEFAULT_RETRY.multiplier, ge=1, le=10)
    jitter: float = rule(default=DEFAULT_RETRY.jitter, ge=0, le=1)
    # also retry runs that answer status "failed"
    on_run_failure: bool = DEFAULT_RETRY.on_run_failure


_PER = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


def _per(value: Any) -> float:
    if isinstance(value, str) and value in _PER:
        return _PER[value]
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(f"invalid per {value!r}: use second, minute, hour or a duration") from None


_HEADER = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")


@section
class RateLimitConfig:
    """At most ``count`` run starts per ``per`` (second, minute, hour or a duration)."""

    count: int = rule(ge=1, le=1_000_000)
    per: float = rule(before=_per, gt=0, le=86400)


@section
class BreakerConfig:
    """Open after ``failures`` consecutive retryable failures; probe after ``cooldown``."""

    failures: int = rule(default=10, ge=1, le=10_000)
    cooldown: float = rule(default=30.0, duration=True, gt=0, le=86400)


def _header(value: str) -> str:
    if not _HEADER.match(value):
        raise ValueError(f"invalid header name {value!r}")
    return value


def _url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("base_url must start with http:// or https://")
    return value.rstrip("/")


@section
class TargetConfig:
    base_url: str = rule(after=_url)
    api_key: str
    max_concurrency: int = rule(default=10, ge=1, le=10_000)
    timeout: float = rule(default=300.0, gt=0, le=3600)
    connect_timeout: float = rule(default=10.0, gt=0, le=300)
    rate_limit: RateLimitConfig | None = None
    breaker: BreakerConfig = rule(default_factory=BreakerConfig)
    # e.g. Idempotency-Key: the delivery id is sent
    idempotency_header: str | None = rule(default=None, after=_header)
    # how long a run may go on before relay stops it (a route's run_timeout overrides it)
    run_timeout: float = rule(default=DEFAULT_RUN_TIMEOUT, duration=True, gt=0, le=7 * 86400)


@section
class SourceConfig:
    """A webhook endpoint ``/hooks/{name}``. Keys not listed here are provider options."""

    __extra__: ClassVar[str] = "options"

    provider: str
    secrets: list[str] = rule(default_factory=list)
    # None: the provider's documented maximum (its spec's max_body_bytes)
    max_body_bytes: int | None = rule(default=None, ge=1, le=MAX_BODY_BYTES)
    description: str | None = None
    # overrides the top-level one
    retention: float | None = rule(default=None, duration=True, gt=0)
    # How bodies are read: ``auto`` follows the Content-Type and the provider's documented
    # encodings (GitHub's and Slack's ``payload=`` forms); ``json``/``form`` force one.
    body_format: Literal["auto", "json", "form"] = "auto"
    options: dict[str, Any] = rule(default_factory=dict)  # the keys not listed above


@section
class DedupeConfig:
    """Skip a route's delivery when another with the same ``key`` was made within ``window``."""

    key: str = rule(min_length=1)  # a JMESPath expression over the event
    window: float = rule(duration=True, gt=0, le=90 * 86400)  # seconds, or e.g. 10m, 1h, 1d


def _route_name(value: str) -> str:
    return _check_name(value, "route")


def _names(value: dict[str, Any]) -> dict[str, Any]:
    for key in value:
        _check_name(key, "target/source")
    return value


@section
class RouteConfig:
    name: str = rule(after=_route_name)
    source: str
    target: str | None = None
    function_id: str = rule(min_length=1, max_length=256)
    match: dict[str, Any] = rule(default_factory=dict)
    variables: dict[str, Any] | None = None
    stream: bool = True
    idempotent: bool = False
    enabled: bool = True
    description: str | None = None
    retry: RetryConfig = rule(default_factory=RetryConfig)
    stop: bool = False  # when this route matches, later routes of its source are not tried
    dedupe: DedupeConfig | None = None
    # the run: how it is started (relay/run_options.py), how long it may go on, and what is
    # passed on to Notte (sent only when set)
    start: StartMode = DEFAULT_START
    run_timeout: float | None = rule(default=None, duration=True, gt=0, le=7 * 86400)
    runtime: Literal["standard", "extended"] | None = None
    callback_url: str | None = rule(default=None, min_length=1, max_length=4096)


@section
class RelayConfig:
    """The whole file. Route names are unique and routes name known sources and targets:
    the loader checks those on the document (``relay.routing.loader``), with every other
    mistake."""

    version: Literal[1]
    targets: dict[str, TargetConfig] = rule(min_length=1, after=_names)
    sources: dict[str, SourceConfig] = rule(min_length=1, after=_names)
    routes: list[RouteConfig] = rule(default_factory=list)
    retention: float = rule(default=DEFAULT_RETENTION, duration=True, gt=0)  # events, once final
    alerts: AlertsConfig | None = None  # notifications to operators (relay/alerts)

    def secret_values(self) -> list[str]:
        """Values never to show (``relay.config_secrets``, which the CLI
        also applies to the file as written)."""
        return secret_values(dump(self))

    def target_of(self, route: RouteConfig) -> str:
        """The route's target name; when omitted, the only target."""
        if route.target is not None:
            return route.target
        return next(iter(self.targets))
