"""Match patterns: every operator (matching, mismatching, wrong types), combinators, why-not."""

from __future__ import annotations

from typing import Any

import pytest

from relay.routing.match import MatchError, compile_match
from relay.routing.problems import Problem

EVENT: dict[str, Any] = {
    "event_type": "issues",
    "event_id": "d-1",
    "source": "github",
    "client_ip": "10.1.2.3",
    "headers": {"x-github-event": "issues", "user-agent": "GitHub-Hookshot/abc"},
    "query": {"env": "prod"},
    "body": {
        "action": "opened",
        "amount": 150,
        "price": "19.99",
        "flag": True,
        "issue": {"number": 7, "title": "Crash on start", "state": None},
        "labels": [{"name": "p1"}, {"name": "bug"}],
        "tags": ["alpha", "beta"],
        "repo": "octo/repo",
        "email": "Dev@Example.COM",
    },
}


def why(spec: dict[str, Any], event: dict[str, Any] | None = None) -> str | None:
    return compile_match(spec).explain(EVENT if event is None else event)


def problems(spec: dict[str, Any]) -> list[Problem]:
    with pytest.raises(MatchError) as caught:
        compile_match(spec)
    return list(caught.value.problems)


def messages(spec: dict[str, Any]) -> list[str]:
    return [p.message for p in problems(spec)]


# --- structure ------------------------------------------------------------------------------


def test_empty_match_matches_everything() -> None:
    assert why({}) is None


def test_keys_are_anded_and_the_first_failing_one_is_the_reason() -> None:
    assert why({"event_type": "issues", "body": {"action": "opened"}}) is None
    assert why({"event_type": "issues", "body": {"action": "closed"}}) == (
        "body.action is 'opened', expected 'closed'"
    )


def test_a_list_means_any_of_its_items() -> None:
    assert why({"event_type": ["push", "issues"]}) is None
    assert why({"event_type": ["push", "release"]}) == (
        "none of 2 options: event_type is 'issues', expected 'push'; "
        "event_type is 'issues', expected 'release'"
    )


def test_nested_mappings_mirror_the_payload() -> None:
    assert why({"body": {"issue": {"number": 7}}}) is None
    assert why({"body": {"issue": {"number": 8}}}) == "body.issue.number is 7, expected 8"


def test_missing_field_is_named_in_the_reason() -> None:
    assert why({"body": {"nope": 1}}) == "body.nope is missing (expected 1)"


def test_field_mapping_against_a_non_object_explains_the_type() -> None:
    assert why({"body": {"action": {"a": 1, "b": 2}}}) == (
        "body.action is 'opened', expected an object"
    )


def test_dotted_top_level_key_is_a_path() -> None:
    assert why({"body.issue.number": 7}) is None
    assert why({"body.issue.title": "x"}) == "body.issue.title is 'Crash on start', expected 'x'"


def test_headers_match_case_insensitively_by_name() -> None:
    assert why({"headers": {"X-GitHub-Event": "issues"}}) is None
    assert why({"headers": [{"X-Nope": "1"}, {"X-GitHub-Event": "issues"}]}) is None
    assert why({"headers": {"not": {"X-GitHub-Event": "push"}}}) is None
    assert why({"headers.X-GitHub-Event": "issues"}) is None
    assert why({"headers.X-GitHub-Event": "push"}) == (
        "headers.x-github-event is 'issues', expected 'push'"
    )


def test_query_and_event_id_and_source_and_client_ip_are_match_keys() -> None:
    assert why({"query": {"env": "prod"}, "event_id": "d-1", "source": "github"}) is None
    assert why({"client_ip": "10.1.2.3"}) is None


def test_value_test_against_a_list_matches_any_element() -> None:
    assert why({"body": {"tags": "beta"}}) is None
    assert why({"body": {"labels": {"name": "bug"}}}) is None
    assert why({"body": {"labels": {"name": "wontfix"}}}) == (
        "no element of body.labels matches: body.labels[0].name is 'p1', expected 'wontfix'"
    )
    assert why({"body": {"tags": "x"}}, {"body": {"tags": []}}) == "body.tags is an empty list"


# --- equality and equals --------------------------------------------------------------------


def test_scalar_equality_is_typed() -> None:
    assert why({"body": {"amount": 150}}) is None
    assert why({"body": {"amount": 150.0}}) is None  # numbers compare by value
    assert why({"body": {"amount": "150"}}) == "body.amount is 150, expected '150'"
    assert why({"body": {"flag": 1}}) == "body.flag is True, expected 1"  # never bool for int
    assert why({"body": {"issue": {"state": None}}}) is None  # null is a value
    assert why({"body": {"issue": {"state": "open"}}}) == (
        "body.issue.state is None, expected 'open'"
    )


def test_equals_compares_whole_values_including_lists_and_objects() -> None:
    assert why({"body": {"tags": {"equals": ["alpha", "beta"]}}}) is None
    assert why({"body": {"tags": {"equals": ["alpha"]}}}) == (
        "body.tags is ['alpha', 'beta'], expected ['alpha']"
    )
    assert (
        why({"body.issue": {"equals": {"number": 7, "title": "Crash on start", "state": None}}})
        is None
    )
    assert why({"body": {"action": {"equals": "opened"}}}) is None
    assert why({"body": {"nope": {"equals": 1}}}) == "body.nope is missing (expected 1)"


def test_equals_ignore_case() -> None:
    assert why({"body": {"email": {"equals_ignore_case": "dev@example.com"}}}) is None
    assert why({"body": {"email": {"equals_ignore_case": "ops@example.com"}}}) == (
        "body.email is 'Dev@Example.COM', expected 'ops@example.com' in any letter case"
    )
    assert why({"body": {"amount": {"equals_ignore_case": "150"}}}) == (
        "body.amount is 150, expected '150' in any letter case"
    )


# --- string operators -----------------------------------------------------------------------


def test_prefix() -> None:
    assert why({"headers": {"user-agent": {"prefix": "GitHub-Hookshot/"}}}) is None
    assert why({"body": {"repo": {"prefix": "acme/"}}}) == (
        "body.repo is 'octo/repo', expected a string starting with 'acme/'"
    )
    assert why({"body": {"amount": {"prefix": "1"}}}) == (
        "body.amount is 150, expected a string starting with '1'"
    )
    assert why({"body": {"nope": {"prefix": "a"}}}) == (
        "body.nope is missing, expected a string starting with 'a'"
    )


def test_suffix() -> None:
    assert why({"body": {"repo": {"suffix": "/repo"}}}) is None
    assert why({"body": {"repo": {"suffix": "/other"}}}) == (
        "body.repo is 'octo/repo', expected a string ending with '/other'"
    )
    assert why({"body": {"flag": {"suffix": "e"}}}) == (
        "body.flag is True, expected a string ending with 'e'"
    )


def test_wildcard() -> None:
    assert why({"body": {"repo": {"wildcard": "octo/*"}}}) is None
    assert why({"body": {"repo": {"wildcard": "*/re*o"}}}) is None
    assert why({"body": {"repo": {"wildcard": "octo/repo"}}}) is None
    assert why({"body": {"repo": {"wildcard": "a*"}}}) == (
        "body.repo is 'octo/repo', expected a string like 'a*'"
    )
    assert why({"body": {"repo": {"wildcard": "*"}}}, {"body": {"repo": 5}}) == (
        "body.repo is 5, expected a string like '*'"
    )


def test_wildcard_escaped_star_is_literal() -> None:
    assert why({"body": {"s": {"wildcard": "a\\*b"}}}, {"body": {"s": "a*b"}}) is None
    assert why({"body": {"s": {"wildcard": "a\\*b"}}}, {"body": {"s": "axb"}}) is not None


def test_regex_searches_and_rejects_non_strings() -> None:
    assert why({"body": {"issue": {"title": {"regex": "^Crash"}}}}) is None
    assert why({"body": {"issue": {"title": {"regex": "(?i)crash"}}}}) is None
    assert why({"body": {"issue": {"title": {"regex": "^start"}}}}) == (
        "body.issue.title is 'Crash on start', expected a string matching /^start/"
    )
    assert why({"body": {"amount": {"regex": "1"}}}) == (
        "body.amount is 150, expected a string matching /1/"
    )


def test_regex_does_not_examine_huge_strings() -> None:
    reason = why({"body": {"s": {"regex": "x"}}}, {"body": {"s": "x" * 70_000}})
    assert reason == "body.s is a string of 70000 characters; regex examines at most 65536"


# --- numeric, exists, anything_but, cidr ----------------------------------------------------


def test_numeric_ranges() -> None:
    assert why({"body": {"amount": {"numeric": [">=", 100, "<", 500]}}}) is None
    assert why({"body": {"amount": {"numeric": ["=", 150]}}}) is None
    assert why({"body": {"amount": {"numeric": ["!=", 150]}}}) == (
        "body.amount is 150, expected a number != 150"
    )
    assert why({"body": {"amount": {"numeric": [">", 150, "<=", 200.5]}}}) == (
        "body.amount is 150, expected a number > 150 and <= 200.5"
    )


def test_numeric_reads_decimal_strings_but_not_other_types() -> None:
    assert why({"body": {"price": {"numeric": ["<", 20]}}}) is None  # "19.99" (form bodies)
    assert why({"body": {"repo": {"numeric": [">", 0]}}}) == (
        "body.repo is 'octo/repo', expected a number > 0"
    )
    assert why({"body": {"flag": {"numeric": [">", 0]}}}) == (
        "body.flag is True, expected a number > 0"
    )
    assert why({"body": {"nope": {"numeric": [">", 0]}}}) == (
        "body.nope is missing, expected a number > 0"
    )


def test_exists() -> None:
    assert why({"body": {"issue": {"state": {"exists": True}}}}) is None  # present, null
    assert why({"body": {"nope": {"exists": False}}}) is None
    assert why({"body": {"nope": {"exists": True}}}) == "body.nope is missing"
    assert why({"body": {"action": {"exists": False}}}) == "body.action is present ('opened')"


def test_anything_but_requires_presence() -> None:
    assert why({"body": {"action": {"anything_but": "closed"}}}) is None
    assert why({"body": {"action": {"anything_but": ["closed", "opened"]}}}) == (
        "body.action is 'opened', excluded by anything_but: ['closed', 'opened']"
    )
    assert why({"body": {"action": {"anything_but": {"prefix": "op"}}}}) == (
        "body.action is 'opened', excluded by anything_but: {'prefix': 'op'}"
    )
    assert why({"body": {"nope": {"anything_but": "x"}}}) == "body.nope is missing"
    assert why({"body": {"amount": {"anything_but": "150"}}}) is None  # other type


def test_cidr_matches_client_ip_v4_v6_and_mapped() -> None:
    assert why({"client_ip": {"cidr": "10.0.0.0/8"}}) is None
    assert why({"client_ip": {"cidr": ["192.168.0.0/16", "10.1.0.0/16"]}}) is None
    assert why({"client_ip": {"cidr": "192.168.0.0/16"}}) == (
        "client_ip is '10.1.2.3', expected an address in 192.168.0.0/16"
    )
    assert why({"client_ip": {"cidr": "2001:db8::/32"}}, {"client_ip": "2001:db8::1"}) is None
    assert why({"client_ip": {"cidr": "10.0.0.0/8"}}, {"client_ip": "::ffff:10.9.9.9"}) is None
    assert why({"client_ip": {"cidr": "10.0.0.0/8"}}, {"client_ip": "2001:db8::1"}) == (
        "client_ip is '2001:db8::1', expected an address in 10.0.0.0/8"
    )


def test_cidr_on_a_non_address_explains() -> None:
    assert why({"client_ip": {"cidr": "10.0.0.0/8"}}, {"client_ip": "nope"}) == (
        "client_ip is 'nope', not an IP address"
    )
    assert why({"client_ip": {"cidr": "10.0.0.0/8"}}, {"client_ip": None}) == (
        "client_ip is None, expected an IP address in 10.0.0.0/8"
    )


# --- combinators and when -------------------------------------------------------------------


def test_field_level_combinators() -> None:
    assert why({"body": {"repo": {"all": [{"prefix": "octo/"}, {"suffix": "repo"}]}}}) is None
    assert why({"body": {"repo": {"all": [{"prefix": "octo/"}, {"suffix": "x"}]}}}) == (
        "body.repo is 'octo/repo', expected a string ending with 'x'"
    )
    assert why({"body": {"repo": {"any": [{"prefix": "x"}, {"suffix": "repo"}]}}}) is None
    assert why({"body": {"action": {"not": {"prefix": "op"}}}}) == (
        "body.action is 'opened', excluded by not: {'prefix': 'op'}"
    )
    assert why({"body": {"nope": {"not": "x"}}}) is None  # missing is not 'x'


def test_top_level_combinators() -> None:
    spec = {"any": [{"event_type": "push"}, {"body.action": "opened"}]}
    assert why(spec) is None
    assert why({"all": [{"event_type": "issues"}, {"body.amount": 1}]}) == (
        "body.amount is 150, expected 1"
    )
    assert why({"not": {"event_type": "issues"}}) == (
        "the event matches the 'not' condition {'event_type': 'issues'}"
    )
    assert why({"not": {"event_type": "push"}}) is None


def test_when_expression_is_a_fallback() -> None:
    assert why({"when": "length(body.labels) > `1`"}) is None
    assert why({"when": "body.amount > `200`"}) == "when: 'body.amount > `200`' evaluated to false"
    assert why({"when": "body.nope"}) == "when: 'body.nope' evaluated to null"
    assert why({"when": "body.tags"}) is None  # non-empty list is true


def test_when_type_error_is_a_reason_not_a_crash() -> None:
    assert why({"when": "length(body.amount) > `1`"}) == (
        "when: 'length(body.amount) > `1`' failed: In function length(), invalid type for "
        "value: 150, expected one of: ['string', 'array', 'object'], received: \"number\""
    )


def test_when_cannot_read_the_environment() -> None:
    assert why({"when": "env"}, {"body": {}}) == "when: 'env' evaluated to null"


# --- load errors ----------------------------------------------------------------------------


def test_unknown_top_level_key_suggests() -> None:
    (problem,) = problems({"evnt_type": "x"})
    assert problem.path == ("evnt_type",)
    assert problem.at_key
    assert problem.message.startswith("unknown match key 'evnt_type' (did you mean 'event_type'?)")


def test_dotted_key_must_start_with_body_headers_or_query() -> None:
    (problem,) = problems({"event_type.x": 1})
    assert problem.message.startswith("unknown match key 'event_type.x'")
    assert messages({"body..x": 1}) == ["invalid path 'body..x': empty segment"]


@pytest.mark.parametrize(
    ("operator", "suggestion"),
    [
        ("prefx", "prefix"),
        ("starts_with", "prefix"),
        ("anything-but", "anything_but"),
        ("regexp", "regex"),
        ("gte", "numeric"),
        ("Equals", "equals"),
    ],
)
def test_unknown_operator_is_a_load_error(operator: str, suggestion: str) -> None:
    (problem,) = problems({"body": {"action": {operator: "x"}}})
    assert problem.path == ("body", "action", operator)
    assert problem.at_key
    assert f"unknown operator {operator!r} (did you mean {suggestion!r}?)" in problem.message
    assert f"body.action.{operator}: ..." in problem.message


def test_unrelated_single_key_mapping_is_a_field() -> None:
    assert why({"body": {"issue": {"number": 7}}}) is None


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        ({"prefix": 1}, ("body", "prefix"), "prefix takes a string, not 1"),
        ({"suffix": None}, ("body", "suffix"), "suffix takes a string, not None"),
        ({"wildcard": []}, ("body", "wildcard"), "wildcard takes a string, not []"),
        (
            {"equals_ignore_case": 2},
            ("body", "equals_ignore_case"),
            "equals_ignore_case takes a string, not 2",
        ),
        ({"exists": "yes"}, ("body", "exists"), "exists takes true or false, not 'yes'"),
        ({"regex": 5}, ("body", "regex"), "regex takes a string, not 5"),
        (
            {"numeric": 5},
            ("body", "numeric"),
            'numeric takes comparisons like [">=", 100, "<", 500], not 5',
        ),
        (
            {"numeric": [">"]},
            ("body", "numeric"),
            'numeric takes comparisons like [">=", 100, "<", 500], not [\'>\']',
        ),
        (
            {"numeric": ["~", 1]},
            ("body", "numeric", 0),
            "unknown comparison '~' (use = == != < <= > >=)",
        ),
        (
            {"numeric": [">", "1"]},
            ("body", "numeric", 1),
            "numeric compares with a number, not '1'",
        ),
        (
            {"numeric": [">", True]},
            ("body", "numeric", 1),
            "numeric compares with a number, not True",
        ),
        ({"cidr": 10}, ("body", "cidr"), "cidr takes a network like 10.0.0.0/8, not 10"),
        (
            {"cidr": "10.0.0.1/8"},
            ("body", "cidr"),
            "invalid network '10.0.0.1/8': 10.0.0.1/8 has host bits set",
        ),
        (
            {"cidr": ["10.0.0.0/8", "x"]},
            ("body", "cidr", 1),
            "invalid network 'x': 'x' does not appear to be an IPv4 or IPv6 network",
        ),
        ({"any": []}, ("body", "any"), "any takes a non-empty list of conditions, not []"),
        ({"all": "x"}, ("body", "all"), "all takes a non-empty list of conditions, not 'x'"),
        ({"not": []}, ("body", "not"), "not takes a value, a list or a condition"),
        (
            {"anything_but": {}},
            ("body", "anything_but"),
            "anything_but takes a value, a list or a condition",
        ),
    ],
)
def test_operand_errors_are_located_at_the_operand(
    spec: dict[str, Any], path: tuple[str | int, ...], message: str
) -> None:
    (problem,) = problems({"body": spec})
    assert (problem.path, problem.message) == (path, message)


def test_regex_syntax_error_carries_its_offset() -> None:
    (problem,) = problems({"body": {"a": {"regex": "ab(c"}}})
    assert problem.message == "invalid regex: missing ), unterminated subpattern"
    assert problem.offset == 2


@pytest.mark.parametrize("pattern", ["(a+)+", "(a*)*b", "(\\w+\\s?)*$", "(a|b+)*"])
def test_regex_with_nested_unbounded_repeats_is_refused(pattern: str) -> None:
    (problem,) = problems({"body": {"a": {"regex": pattern}}})
    assert "repeat inside a repeat" in problem.message


@pytest.mark.parametrize("pattern", ["a+b+", "(?:ab)+", "(a++)+", "(?>a+)+", "x{1,3}"])
def test_regex_without_nested_repeats_is_accepted(pattern: str) -> None:
    compile_match({"body": {"a": {"regex": pattern}}})


def test_when_syntax_error_carries_its_offset() -> None:
    (problem,) = problems({"when": "body.a == "})
    assert problem.message == "when: invalid expression: incomplete expression"
    assert problem.offset == 10
    (problem,) = problems({"when": "body.a foo"})
    assert (problem.message, problem.offset) == (
        "when: invalid expression: unexpected token 'foo'",
        7,
    )


def test_when_is_bounded_in_length() -> None:
    (problem,) = problems({"when": "a || " * 300 + "b"})
    assert problem.message == "when: expression is 1501 characters long (at most 1024)"


def test_when_must_be_a_string() -> None:
    assert messages({"when": 1}) == ["when takes a JMESPath expression string, not 1"]


def test_empty_list_and_mapping_are_errors() -> None:
    assert messages({"body": {"a": []}}) == ["an empty list matches nothing"]
    assert messages({"body": {"a": {}}}) == ["an empty mapping matches nothing; remove it"]


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"body": {"a": {"prefix": 1}, "b": {"regex": "("}}, "when": "(", "zzz": 1})
    assert [p.path for p in found] == [
        ("body", "a", "prefix"),
        ("body", "b", "regex"),
        ("when",),
        ("zzz",),
    ]
