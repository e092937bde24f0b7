"""The compiled routing table: providers built, patterns and expressions compiled.

``compile_document`` turns a validated document into what the request path uses. Every
error it finds is reported at the document location it came from, all at once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from relay.alerts.config import AlertsConfig
from relay.body_format import parse_body
from relay.config_schema import dump
from relay.providers.base import Provider, ProviderSpec
from relay.providers.registry import get_spec
from relay.ratelimit import RateLimit
from relay.routing.config import DEFAULT_RETENTION, RouteConfig
from relay.routing.expressions import Expression, ExpressionSyntaxError
from relay.routing.loader import ConfigErrors, ConfigIssue, LoadedDocument
from relay.routing.mapping import VariableMapping
from relay.routing.match import Matcher
from relay.routing.problems import CompileError
from relay.routing.rules import compile_rules
from relay.routing.sources import build_source, unknown_provider
from relay.routing.templates import Template, compile_template
from relay.run_options import RunOptions
from relay.targets import RetryPolicy, Target

if TYPE_CHECKING:
    from relay.store.retention import RetentionPolicy

__all__ = ["CompiledRoute", "CompiledSource", "RouteRun", "RoutingTable", "compile_document"]


@dataclass(frozen=True, slots=True)
class RouteRun:
    """A route's run options; ``callback_url`` may be a ``{{ expression }}`` template, rendered
    for each event (``for_event``)."""

    options: RunOptions
    callback: Template | None = None

    def for_event(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The options stored on one delivery. Raises ``JMESPathError`` when the callback
        URL's template fails."""
        if self.callback is None:
            return self.options.to_mapping()
        url, _ = self.callback.render(context)
        return dataclasses.replace(self.options, callback_url=url).to_mapping()


@dataclass(frozen=True, slots=True)
class CompiledSource:
    name: str
    spec: ProviderSpec
    provider: Provider
    max_body_bytes: int
    body_format: str = "auto"

    @property
    def unverified(self) -> bool:
        """Its provider verifies nothing (``provider: none``)."""
        return bool(getattr(self.provider, "insecure", False))

    def parse(self, body: bytes, content_type: str) -> Any:
        """The authentic body as routes see it (``UnprocessableBody`` when it cannot be)."""
        return parse_body(
            body,
            content_type,
            json_field=self.spec.form_json_field,
            body_format=self.body_format,
        )


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    name: str
    source: str
    target: str
    function_id: str
    matcher: Matcher
    variables: VariableMapping | None
    stream: bool
    idempotent: bool
    retry: RetryPolicy
    retry_options: Mapping[str, Any]
    stop: bool = False  # a match ends the evaluation of the source's routes
    dedupe_key: Expression | None = None
    dedupe_window: float = 0.0
    enabled: bool = True
    run: RouteRun = field(default_factory=lambda: RouteRun(RunOptions()))


@dataclass(frozen=True, slots=True)
class RoutingTable:
    sources: Mapping[str, CompiledSource]
    routes: Mapping[str, tuple[CompiledRoute, ...]]
    targets: Mapping[str, Target]
    sha256: str
    path: str
    loaded_at: float
    defaulted: tuple[str, ...] = field(default=())
    disabled: Mapping[str, tuple[CompiledRoute, ...]] = field(default_factory=dict)  # dry runs
    # Seconds events are kept once final: by default and per source (``retention``).
    retention_default: float = DEFAULT_RETENTION
    retention_per_source: Mapping[str, float] = field(default_factory=dict)
    alerts: AlertsConfig | None = None
    # Values never to show (webhook secrets, secret-looking provider options, API keys).
    secret_values: frozenset[str] = field(default=frozenset(), repr=False)

    def routes_for(self, source: str) -> tuple[CompiledRoute, ...]:
        return self.routes.get(source, ())

    def unverified_sources(self) -> list[str]:
        """The sources that accept unauthenticated requests (``provider: none``)."""
        return [name for name, source in self.sources.items() if source.unverified]

    @property
    def retention(self) -> RetentionPolicy:
        """The store's retention policy (the purger reads it at each pass). ``relay.store``
        is imported here, not by compiling a config: ``relay check`` never loads the store."""
        from relay.store.retention import RetentionPolicy

        return RetentionPolicy(self.retention_default, self.retention_per_source)


def compile_document(doc: LoadedDocument, *, loaded_at: float | None = None) -> RoutingTable:
    config = doc.config
    issues: list[ConfigIssue] = []

    def issue(path: tuple[str | int, ...], message: str) -> None:
        line, col = doc.locate(path)
        issues.append(ConfigIssue(path=path, line=line, col=col, message=message))

    sources: dict[str, CompiledSource] = {}
    for name, source in config.sources.items():
        try:
            spec = get_spec(source.provider)
        except KeyError:
            issue(("sources", name, "provider"), unknown_provider(name, source.provider))
            continue
        built = build_source(name, spec, source.secrets, source.options)
        for key, message in built.problems:
            issue(("sources", name) if key is None else ("sources", name, key), message)
        provider = built.provider
        if provider is None:
            continue
        limit = source.max_body_bytes
        if limit is None:
            limit = spec.max_body_bytes
        sources[name] = CompiledSource(name, spec, provider, limit, source.body_format)

    targets = {
        name: Target(
            name=name,
            base_url=t.base_url,
            api_key=t.api_key,
            max_concurrency=t.max_concurrency,
            timeout=t.timeout,
            connect_timeout=t.connect_timeout,
            rate_limit=None
            if t.rate_limit is None
            else RateLimit(t.rate_limit.count, t.rate_limit.per),
            breaker_failures=t.breaker.failures,
            breaker_cooldown=t.breaker.cooldown,
            idempotency_header=t.idempotency_header,
            run_timeout=t.run_timeout,
        )
        for name, t in config.targets.items()
    }

    routes: dict[str, list[CompiledRoute]] = {}
    disabled: dict[str, list[CompiledRoute]] = {}
    for index, route in enumerate(config.routes):
        base: tuple[str | int, ...] = ("routes", index)
        try:  # the loader reported these already; this only guards a direct caller
            rules = compile_rules(
                route.match, route.variables, route.dedupe.key if route.dedupe else None
            )
        except CompileError as exc:
            for problem in exc.problems:
                issue((*base, *problem.path), f"route {route.name!r}: {problem.message}")
            continue
        retry = dump(route.retry)
        run = _route_run(route, partial(issue, (*base, "callback_url")))
        compiled = CompiledRoute(
            name=route.name,
            source=route.source,
            target=config.target_of(route),
            function_id=route.function_id,
            matcher=rules.matcher,
            variables=rules.variables,
            stream=route.stream,
            idempotent=route.idempotent,
            retry=RetryPolicy.from_mapping(retry),
            retry_options=retry,
            stop=route.stop,
            dedupe_key=rules.dedupe_key,
            dedupe_window=route.dedupe.window if route.dedupe else 0.0,
            enabled=route.enabled,
            run=run,
        )
        (routes if route.enabled else disabled).setdefault(route.source, []).append(compiled)

    if issues:
        raise ConfigErrors(doc.path, sorted(issues, key=lambda i: (i.line, i.col)), doc.text)
    return RoutingTable(
        sources=sources,
        routes={k: tuple(v) for k, v in routes.items()},
        targets=targets,
        sha256=doc.sha256,
        path=doc.path,
        loaded_at=time.time() if loaded_at is None else loaded_at,
        defaulted=doc.defaulted,
        disabled={k: tuple(v) for k, v in disabled.items()},
        retention_default=config.retention,
        retention_per_source={
            n: s.retention for n, s in config.sources.items() if s.retention is not None
        },
        alerts=config.alerts,
        secret_values=frozenset(config.secret_values()),
    )


def _route_run(route: RouteConfig, issue: Callable[[str], None]) -> RouteRun:
    options = RunOptions(start=route.start, run_timeout=route.run_timeout, runtime=route.runtime)
    if route.callback_url is None:
        return RouteRun(options)
    try:
        template = compile_template(route.callback_url)
    except ExpressionSyntaxError as exc:
        issue(f"route {route.name!r}: callback_url: {exc}")
        return RouteRun(options)
    if not any(not isinstance(part, str) for part in template.parts):
        return RouteRun(dataclasses.replace(options, callback_url=route.callback_url))
    return RouteRun(options, template)
