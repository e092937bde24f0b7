"""The compiled routing table: providers built, patterns and expressions compiled.

``compile_document`` turns a validated document into what the request path uses. Every
error it finds is reported at the document location it came from, all at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from relay.delivery.retry import RetryPolicy
from relay.delivery.sender import Target
from relay.providers.base import ConfigError, Provider, ProviderSpec
from relay.providers.body_limits import default_max_body
from relay.providers.registry import get_spec, names
from relay.ratelimit import RateLimit
from relay.redact import secret_key
from relay.routing.config import RelayConfig
from relay.routing.expressions import Expression
from relay.routing.loader import ConfigErrors, ConfigIssue, LoadedDocument
from relay.routing.mapping import VariableMapping
from relay.routing.match import Matcher
from relay.routing.problems import CompileError
from relay.routing.rules import compile_rules
from relay.store.retention import RetentionPolicy

__all__ = ["CompiledRoute", "CompiledSource", "RoutingTable", "compile_document"]


@dataclass(frozen=True, slots=True)
class CompiledSource:
    name: str
    spec: ProviderSpec
    provider: Provider
    max_body_bytes: int


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
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    # Values never to show (webhook secrets, secret-looking provider options, API keys).
    secret_values: frozenset[str] = field(default=frozenset(), repr=False)

    def routes_for(self, source: str) -> tuple[CompiledRoute, ...]:
        return self.routes.get(source, ())


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
            issue(
                ("sources", name, "provider"),
                f"source {name!r}: unknown provider {source.provider!r} "
                f"(known: {', '.join(names())})",
            )
            continue
        try:
            provider = spec.build(source.secrets, source.options)
        except ConfigError as exc:
            where: tuple[str | int, ...] = ("sources", name)
            if exc.key is not None:
                where = (*where, exc.key)
            issue(where, f"source {name!r}: {exc}")
            continue
        limit = source.max_body_bytes
        if limit is None:
            limit = default_max_body(source.provider)
        sources[name] = CompiledSource(name, spec, provider, limit)

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
        retry = route.retry.model_dump()
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
        retention=RetentionPolicy(
            config.retention,
            {n: s.retention for n, s in config.sources.items() if s.retention is not None},
        ),
        secret_values=frozenset(_secret_values(config)),
    )


def _secret_values(config: RelayConfig) -> list[str]:
    values = [t.api_key for t in config.targets.values()]
    for source in config.sources.values():
        values.extend(source.secrets)
        values.extend(s.removeprefix("whsec_") for s in source.secrets if s.startswith("whsec_"))
        values.extend(
            str(v) for k, v in source.options.items() if secret_key(k) and isinstance(v, str)
        )
    return values
