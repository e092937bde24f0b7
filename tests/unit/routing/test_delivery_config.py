"""The delivery engine's keys in the config: per-target rate limit, breaker and
idempotency header, the route's retry on run failure, retention at the top and per source."""

from __future__ import annotations

import textwrap

import pytest

from relay.ratelimit import RateLimit
from relay.routing.loader import ConfigErrors, parse_document
from relay.routing.table import compile_document
from relay.targets import RetryPolicy

BASE = """\
version: 1
{top}targets:
  notte:
    base_url: http://127.0.0.1:8787
    api_key: k
{target}sources:
  github:
    provider: github
    secrets: ["s"]
{source}routes:
  - name: r1
    source: github
    function_id: f1
    match: {{event_type: issues}}
{route}"""


def _text(top: str = "", target: str = "", source: str = "", route: str = "") -> str:
    def block(text: str, indent: int) -> str:
        lines = textwrap.dedent(text).splitlines()
        return "".join(" " * indent + line + "\n" for line in lines if line)

    return BASE.format(
        top=block(top, 0), target=block(target, 4), source=block(source, 4), route=block(route, 4)
    )


def _errors(**parts: str) -> str:
    with pytest.raises(ConfigErrors) as caught:
        parse_document(_text(**parts), "relay.yaml", {})
    return str(caught.value)


def test_defaults_keep_the_engine_open_and_thirty_days_of_history() -> None:
    table = compile_document(parse_document(_text(), "relay.yaml", {}))
    target = table.targets["notte"]
    assert target.rate_limit is None
    assert (target.breaker_failures, target.breaker_cooldown) == (10, 30.0)
    assert target.idempotency_header is None
    assert table.retention.default == 30 * 86400
    assert table.retention.per_source == {}
    (route,) = table.routes_for("github")
    assert route.retry.on_run_failure is False


def test_a_route_without_retry_gets_the_documented_backoff() -> None:
    table = compile_document(parse_document(_text(), "relay.yaml", {}))
    (route,) = table.routes_for("github")
    # docs/routing.md: {max_attempts: 8, initial: 5, max: 3600, multiplier: 2, jitter: 0.2}
    assert route.retry == RetryPolicy(
        max_attempts=8, initial=5.0, max=3600.0, multiplier=2.0, jitter=0.2
    )
    assert route.retry == RetryPolicy.from_mapping(route.retry_options)


def test_target_limits_and_header_reach_the_compiled_target() -> None:
    text = _text(
        target="""
        rate_limit: {count: 10, per: minute}
        breaker: {failures: 5, cooldown: 2m}
        idempotency_header: Idempotency-Key
        """
    )
    target = compile_document(parse_document(text, "relay.yaml", {})).targets["notte"]
    assert target.rate_limit == RateLimit(count=10, per=60.0)
    assert (target.breaker_failures, target.breaker_cooldown) == (5, 120.0)
    assert target.idempotency_header == "Idempotency-Key"


def test_retention_top_level_and_per_source_take_durations() -> None:
    text = _text(top="retention: 7d", source="retention: 12h")
    doc = parse_document(text, "relay.yaml", {})
    table = compile_document(doc)
    assert table.retention.default == 7 * 86400
    assert table.retention.per_source == {"github": 12 * 3600}
    assert "retention" not in doc.config.sources["github"].options  # not a provider option


def test_route_retry_on_run_failure() -> None:
    text = _text(route="retry: {on_run_failure: true}")
    (route,) = compile_document(parse_document(text, "relay.yaml", {})).routes_for("github")
    assert route.retry.on_run_failure is True


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ({"target": "rate_limit: {count: 10, per: fortnight}"}, "invalid per 'fortnight'"),
        ({"target": "rate_limit: {count: 0, per: second}"}, "rate_limit.count"),
        ({"target": "breaker: {failures: 3, cooldwn: 5}"}, "unknown key 'cooldwn'"),
        ({"target": "idempotency_header: 'Bad Header'"}, "invalid header name"),
        ({"top": "retention: forever"}, "invalid duration 'forever'"),
        ({"source": "retention: 0"}, "retention"),
    ],
)
def test_bad_engine_keys_are_located_errors(parts: dict[str, str], message: str) -> None:
    assert message in _errors(**parts)
