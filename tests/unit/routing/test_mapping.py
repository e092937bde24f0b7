"""Variables: JMESPath strings, typed paths, templates, literals; load and resolve errors."""

from __future__ import annotations

from typing import Any

import pytest

from relay.routing.mapping import (
    MappingError,
    VariablesError,
    compile_variables,
    convert,
    default_variables,
)
from relay.routing.problems import Problem

CONTEXT: dict[str, Any] = {
    "body": {
        "issue": {"number": 7, "title": "Crash"},
        "repo": "octo/repo",
        "count": "42",
        "ratio": "0.5",
        "ok": "true",
        "labels": ["bug"],
        "nothing": None,
    },
    "headers": {"x-github-event": "issues"},
    "query": {"env": "prod"},
    "event_type": "issues",
    "event_id": "d-1",
    "source": "github",
    "client_ip": "127.0.0.1",
    "received_at": 1_800_000_000.5,
}


def apply(spec: dict[str, Any]) -> dict[str, Any]:
    return compile_variables(spec).apply(CONTEXT)


def failure(spec: dict[str, Any]) -> str:
    with pytest.raises(MappingError) as caught:
        apply(spec)
    return str(caught.value)


def problems(spec: dict[str, Any]) -> list[Problem]:
    with pytest.raises(VariablesError) as caught:
        compile_variables(spec)
    return list(caught.value.problems)


def test_string_form_is_a_jmespath_expression_over_the_whole_context() -> None:
    assert apply(
        {
            "n": "body.issue.number",
            "kind": "event_type",
            "id": "event_id",
            "src": "source",
            "ip": "client_ip",
            "at": "received_at",
            "hdr": 'headers."x-github-event"',
            "env": "query.env",
            "first": "body.labels[0]",
            "pair": "[body.repo, body.issue.number]",
        }
    ) == {
        "n": 7,
        "kind": "issues",
        "id": "d-1",
        "src": "github",
        "ip": "127.0.0.1",
        "at": 1_800_000_000.5,
        "hdr": "issues",
        "env": "prod",
        "first": "bug",
        "pair": ["octo/repo", 7],
    }


def test_string_form_that_finds_nothing_is_null() -> None:
    assert apply({"x": "body.missing"}) == {"x": None}


def test_path_form_with_types_converts_form_strings() -> None:
    assert apply(
        {
            "count": {"path": "body.count", "type": "integer"},
            "ratio": {"path": "body.ratio", "type": "number"},
            "ok": {"path": "body.ok", "type": "boolean"},
            "number": {"path": "body.issue.number", "type": "string"},
            "issue": {"path": "body.issue", "type": "object"},
            "labels": {"path": "body.labels", "type": "array"},
        }
    ) == {
        "count": 42,
        "ratio": 0.5,
        "ok": True,
        "number": "7",
        "issue": {"number": 7, "title": "Crash"},
        "labels": ["bug"],
    }


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("42", "integer", 42),
        (" -3 ", "integer", -3),
        (5.0, "integer", 5),
        ("1e3", "number", 1000.0),
        ("7", "number", 7),
        (2.5, "number", 2.5),
        ("FALSE", "boolean", False),
        (True, "boolean", True),
        (True, "string", "true"),
        (1.5, "string", "1.5"),
        ("x", "string", "x"),
        ({}, "object", {}),
        ([], "array", []),
    ],
)
def test_convert_accepts(value: Any, kind: str, expected: Any) -> None:
    result = convert(value, kind)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("4.5", "integer", "'4.5' is not an integer"),
        (True, "integer", "True is not an integer"),
        ("abc", "number", "'abc' is not a number"),
        ("nan", "number", "'nan' is not a number"),
        (float("inf"), "number", "inf is not a number"),
        ("yes", "boolean", "'yes' is not a boolean"),
        (1, "boolean", "1 is not a boolean"),
        ({"a": 1}, "string", "{'a': 1} is not a string"),
        ([1], "object", "[1] is not an object"),
        ({}, "array", "{} is not an array"),
    ],
)
def test_convert_refuses(value: Any, kind: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("[", r"\[").replace("{", r"\{")):
        convert(value, kind)


def test_default_is_used_when_the_path_finds_nothing_or_null() -> None:
    assert apply(
        {
            "a": {"path": "body.missing", "default": "none"},
            "b": {"path": "body.nothing", "type": "integer", "default": "3"},
        }
    ) == {"a": "none", "b": 3}


def test_optional_typed_variable_that_finds_nothing_is_null() -> None:
    assert apply({"a": {"path": "body.missing", "type": "integer"}}) == {"a": None}


def test_required_variable_that_finds_nothing_fails_with_a_reason() -> None:
    assert failure({"repo": {"path": "body.repository.full_name", "required": True}}) == (
        "variable 'repo': required, but body.repository.full_name found nothing"
    )
    assert failure({"n": {"path": "body.nothing", "required": True}}) == (
        "variable 'n': required, but body.nothing found nothing"
    )


def test_unconvertible_value_fails_with_the_value_found() -> None:
    assert failure({"n": {"path": "body.repo", "type": "integer"}}) == (
        "variable 'n': body.repo: 'octo/repo' is not an integer"
    )


def test_every_failing_variable_is_named() -> None:
    assert failure(
        {
            "a": {"path": "body.x", "required": True},
            "ok": "body.repo",
            "b": {"path": "body.repo", "type": "boolean"},
        }
    ) == (
        "variable 'a': required, but body.x found nothing; "
        "variable 'b': body.repo: 'octo/repo' is not a boolean"
    )


def test_jmespath_type_error_is_a_mapping_failure_not_a_crash() -> None:
    assert failure({"n": "length(body.issue.number)"}).startswith(
        "variable 'n': In function length(), invalid type for value: 7"
    )


def test_template_renders_placeholders() -> None:
    assert apply(
        {
            "title": {"template": "{{ body.repo }}#{{ body.issue.number }}: {{body.issue.title}}"},
            "json": {"template": "labels={{ body.labels }} ok={{ `true` }}"},
            "empty": {"template": "[{{ body.missing }}]"},
            "literal": {"template": "{{ '{{' }} stays"},
            "plain": {"template": "no placeholders"},
        }
    ) == {
        "title": "octo/repo#7: Crash",
        "json": 'labels=["bug"] ok=true',
        "empty": "[]",
        "literal": "{{ stays",
        "plain": "no placeholders",
    }


def test_required_template_fails_when_a_placeholder_finds_nothing() -> None:
    assert failure({"t": {"template": "{{ body.repo }}/{{ body.missing }}", "required": True}}) == (
        "variable 't': required, but {{ body.missing }} found nothing"
    )


def test_template_cannot_reach_python_or_the_environment() -> None:
    spec = {"t": {"template": "{{ __class__ }}{{ body.__class__ }}{{ env }}{{ os.environ }}"}}
    assert apply(spec) == {"t": ""}


def test_value_form_is_a_literal() -> None:
    assert apply({"a": {"value": 5}, "b": {"value": {"k": [1, None]}}, "c": {"value": None}}) == {
        "a": 5,
        "b": {"k": [1, None]},
        "c": None,
    }


def test_default_variables_follow_the_run_event_type_data_convention() -> None:
    assert default_variables(CONTEXT) == {"event_type": "issues", "data": CONTEXT["body"]}


# --- load errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "path", "message", "offset"),
    [
        (
            {"a": "body.x foo"},
            ("a",),
            "variable 'a': invalid expression: unexpected token 'foo'",
            7,
        ),
        ({"a": ""}, ("a",), "variable 'a': empty expression", 0),
        (
            {"a": 5},
            ("a",),
            "variable 'a' takes a JMESPath expression, or a mapping with path, template or "
            "value, not 5",
            None,
        ),
        (
            {"a": {"path": "body.["}},
            ("a", "path"),
            "variable 'a': invalid expression: incomplete expression",
            6,
        ),
        (
            {"a": {"path": 3}},
            ("a", "path"),
            "variable 'a' takes a JMESPath expression string, not 3",
            None,
        ),
        (
            {"a": {"path": "x", "type": "int"}},
            ("a", "type"),
            "variable 'a': unknown type 'int' (did you mean 'integer'?): use string, integer, "
            "number, boolean, object, array",
            None,
        ),
        (
            {"a": {"path": "x", "required": "yes"}},
            ("a", "required"),
            "required takes true or false, not 'yes'",
            None,
        ),
        (
            {"a": {"path": "x", "type": "integer", "default": "x"}},
            ("a", "default"),
            "variable 'a': default 'x' is not an integer",
            None,
        ),
        (
            {"a": {"path": "x", "required": True, "default": 1}},
            ("a", "required"),
            "variable 'a' has a default, so it is never missing: drop required or the default",
            None,
        ),
        (
            {"a": {"template": "{{ body.a"}},
            ("a", "template"),
            "variable 'a': template: unclosed '{{': missing '}}'",
            0,
        ),
        (
            {"a": {"template": "x {{ body. }}"}},
            ("a", "template"),
            "variable 'a': template: invalid expression: unexpected end of expression",
            10,
        ),
        (
            {"a": {"template": "{{ }}"}},
            ("a", "template"),
            "variable 'a': template: empty placeholder '{{ }}'",
            0,
        ),
        (
            {"a": {"template": 1}},
            ("a", "template"),
            "variable 'a': template takes a string, not 1",
            None,
        ),
        (
            {"a": {"vale": 1}},
            ("a", "vale"),
            "variable 'a': unknown key 'vale' (did you mean 'value'?)",
            None,
        ),
        ({"a": {}}, ("a",), "variable 'a' needs one of path, template or value", None),
        (
            {"a": {"path": "x", "value": 1}},
            ("a",),
            "variable 'a' needs only one of path, template or value",
            None,
        ),
        (
            {"a": {"value": 1, "type": "string"}},
            ("a", "type"),
            "variable 'a': 'type' does not go with 'value'",
            None,
        ),
    ],
)
def test_variable_load_errors_are_located(
    spec: dict[str, Any], path: tuple[str, ...], message: str, offset: int | None
) -> None:
    (problem,) = problems(spec)
    assert (problem.path, problem.message, problem.offset) == (path, message, offset)


def test_every_variable_problem_is_reported() -> None:
    found = problems({"a": "(", "b": {"path": "x", "type": "nope"}, "c": 1})
    assert [p.path for p in found] == [("a",), ("b", "type"), ("c",)]
