"""Route evaluation: fan-out, stop, disabled routes, variables and dedupe keys."""

from __future__ import annotations

from typing import Any

from relay.routing.evaluate import evaluate, event_context
from tests.unit.routing.tables import table_from


def context(event_type: str = "issues", **body: Any) -> dict[str, Any]:
    return event_context(
        body={"action": "opened", **body},
        headers={"X-GitHub-Event": event_type},
        query={},
        event_type=event_type,
        event_id="d-1",
        source="github",
        received_at=1.0,
        client_ip="127.0.0.1",
    )


FOUR = """\
- {name: a, source: github, function_id: fa, match: {event_type: issues}}
- {name: b, source: github, function_id: fb, match: {body.action: opened}}
- {name: c, source: github, function_id: fc, match: {event_type: push}}
- {name: d, source: other, function_id: fd, match: {event_type: issues}}
"""


def test_event_context_lowercases_header_names_and_carries_client_ip() -> None:
    ctx = context()
    assert ctx["headers"] == {"x-github-event": "issues"}
    assert ctx["client_ip"] == "127.0.0.1"
    assert set(ctx) == {
        "body",
        "headers",
        "query",
        "event_type",
        "event_id",
        "source",
        "client_ip",
        "received_at",
    }


def test_every_matching_route_of_the_source_fires() -> None:
    decisions = evaluate(table_from(FOUR), "github", context())
    assert [(d.route.name, d.matched) for d in decisions] == [
        ("a", True),
        ("b", True),
        ("c", False),
    ]
    assert decisions[2].reason == "event_type is 'issues', expected 'push'"


def test_stop_ends_evaluation_after_the_first_match_that_has_it() -> None:
    table = table_from(FOUR.replace("function_id: fa,", "function_id: fa, stop: true,"))
    decisions = evaluate(table, "github", context())
    assert [(d.route.name, d.matched) for d in decisions] == [
        ("a", True),
        ("b", False),
        ("c", False),
    ]
    assert decisions[1].reason == "not evaluated: route 'a' matched first and has stop: true"


def test_stop_on_a_route_that_does_not_match_changes_nothing() -> None:
    table = table_from(FOUR.replace("function_id: fc,", "function_id: fc, stop: true,"))
    assert [d.matched for d in evaluate(table, "github", context())] == [True, True, False]


def test_first_match_semantics_with_stop_on_every_route() -> None:
    routes = """\
    - {name: specific, source: github, function_id: f1, stop: true, match: {body.n: 1}}
    - {name: fallback, source: github, function_id: f2, stop: true}
    """
    table = table_from(routes)
    assert [d.matched for d in evaluate(table, "github", context(n=1))] == [True, False]
    assert [d.matched for d in evaluate(table, "github", context(n=2))] == [False, True]


def test_disabled_routes_only_appear_in_dry_runs() -> None:
    table = table_from(FOUR.replace("function_id: fb,", "function_id: fb, enabled: false,"))
    assert [d.route.name for d in evaluate(table, "github", context())] == ["a", "c"]
    decisions = evaluate(table, "github", context(), include_disabled=True)
    assert [(d.route.name, d.matched, d.delivers) for d in decisions] == [
        ("a", True, True),
        ("c", False, False),
        ("b", False, False),
    ]
    assert decisions[2].reason == "disabled (enabled: false); it would match"


def test_variables_are_resolved_for_matches_and_default_to_the_convention() -> None:
    routes = """\
    - name: a
      source: github
      function_id: f
      variables: {action: body.action}
    - {name: b, source: github, function_id: f}
    """
    a, b = evaluate(table_from(routes), "github", context())
    assert a.variables == {"action": "opened"}
    assert b.variables == {"event_type": "issues", "data": {"action": "opened"}}


def test_mapping_failure_is_a_decision_not_an_exception() -> None:
    routes = """\
    - name: a
      source: github
      function_id: f
      variables: {n: {path: body.n, required: true}}
    """
    (decision,) = evaluate(table_from(routes), "github", context())
    assert decision.matched
    assert decision.delivers
    assert decision.variables is None
    assert decision.error == "variable 'n': required, but body.n found nothing"


def test_dedupe_key_is_rendered_text_or_absent() -> None:
    routes = """\
    - name: a
      source: github
      function_id: f
      dedupe: {key: "body.order", window: 10m}
    """
    table = table_from(routes)
    assert table.routes_for("github")[0].dedupe_window == 600.0
    (decision,) = evaluate(table, "github", context(order="o-1"))
    assert decision.dedupe_key == "o-1"
    (decision,) = evaluate(table, "github", context(order={"id": 5}))
    assert decision.dedupe_key == '{"id":5}'
    (decision,) = evaluate(table, "github", context())
    assert decision.dedupe_key is None
    (decision,) = evaluate(table, "github", context(order="x" * 600))
    assert decision.dedupe_key is not None
    assert decision.dedupe_key.startswith("sha256:")
