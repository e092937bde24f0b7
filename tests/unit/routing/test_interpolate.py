from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relay.routing.interpolate import REDACTED, interpolate, redact


def test_plain_reference_is_replaced_by_the_variable_value() -> None:
    result = interpolate("Bearer ${TOKEN}", {"TOKEN": "abc"})
    assert result.value == "Bearer abc"
    assert result.errors == ()
    assert result.inserted == ("abc",)
    assert result.from_environment


def test_unset_variable_is_an_error_naming_the_variable() -> None:
    result = interpolate("${MISSING}", {})
    assert result.errors == ("environment variable MISSING is not set",)


def test_set_but_empty_variable_is_kept_empty_without_error() -> None:
    result = interpolate("[${EMPTY}]", {"EMPTY": ""})
    assert (result.value, result.errors) == ("[]", ())
    assert not result.from_environment


def test_default_is_used_when_unset_or_empty_and_recorded() -> None:
    assert interpolate("${A:-x}/${B:-y}", {"B": ""}).value == "x/y"
    assert interpolate("${A:-x}/${B:-y}", {"B": ""}).defaulted == ("A", "B")
    used = interpolate("${A:-x}", {"A": "real"})
    assert (used.value, used.defaulted) == ("real", ())


def test_empty_default_is_allowed() -> None:
    assert interpolate("a${A:-}b", {}).value == "ab"


def test_required_reference_reports_its_own_message() -> None:
    result = interpolate("${KEY:?set KEY to your Notte API key}", {"KEY": ""})
    assert result.errors == ("set KEY to your Notte API key",)
    assert interpolate("${KEY:?}", {}).errors == ("environment variable KEY is not set or empty",)
    assert interpolate("${KEY:?needed}", {"KEY": "v"}).value == "v"


def test_double_dollar_escapes_a_reference() -> None:
    result = interpolate("$${HOME} and ${HOME}", {"HOME": "/root"})
    assert result.value == "${HOME} and /root"
    assert result.inserted == ("/root",)


def test_lone_dollars_are_kept() -> None:
    assert interpolate("costs $5, pa$$word, $", {}).value == "costs $5, pa$$word, $"


def test_several_references_and_all_their_errors() -> None:
    result = interpolate("${A}-${B}-${C}", {"B": "b"})
    assert result.value == "-b-"
    assert result.errors == (
        "environment variable A is not set",
        "environment variable C is not set",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x ${UNCLOSED", "unclosed '${' at character 3: missing '}'"),
        ("${1BAD}", "invalid reference '${1BAD}' at character 1: expected a variable name"),
        ("${}", "invalid reference '${}' at character 1: expected a variable name"),
        ("${A-b}", "invalid reference '${A-b}' at character 1: use ${NAME}"),
    ],
)
def test_malformed_references_are_errors(text: str, expected: str) -> None:
    (error,) = interpolate(text, {"A": "a"}).errors
    assert error.startswith(expected)


def test_errors_never_contain_variable_values() -> None:
    env = {"A": "hunter2-secret", "B": ""}
    result = interpolate("${A}${A-x}${B:?}${C}${A", env)
    assert len(result.errors) == 4
    assert all("hunter2-secret" not in error for error in result.errors)


def test_redact_hides_quoted_values_and_long_bare_values() -> None:
    message = "invalid name 'ab' and token s3cr3t-t0ken, id 'ab' in routes[1]"
    assert redact(message, ["ab", "s3cr3t-t0ken", "1"]) == (
        f"invalid name {REDACTED} and token {REDACTED}, id {REDACTED} in routes[1]"
    )


@given(st.text().filter(lambda text: "$" not in text))
def test_text_without_dollar_is_unchanged(text: str) -> None:
    assert interpolate(text, {"A": "x"}).value == text


@given(st.text())
def test_any_value_is_inserted_verbatim(value: str) -> None:
    result = interpolate("<${V}>", {"V": value})
    assert (result.value, result.errors) == (f"<{value}>", ())
