"""``relay check``: every error class at its exact FILE:LINE:COL, with the line and a caret."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from relay.cli import main

HEAD = """\
version: 1
targets:
  notte:
    base_url: http://127.0.0.1:8787
    api_key: k
sources:
  github:
    provider: github
    secrets: ["s"]
routes:
  - name: r1
    source: github
    function_id: f1
"""
# the route's own lines start at line 14


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> tuple[int, str, str]:
    path = tmp_path / "relay.yaml"
    path.write_text(text)
    code = main(["check", str(path)])
    out, err = capsys.readouterr()
    return code, out, err.replace(str(path), "relay.yaml")


def route(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str) -> tuple[int, str]:
    code, _, err = check(tmp_path, capsys, HEAD + textwrap.indent(textwrap.dedent(body), "    "))
    return code, err


def test_valid_file_prints_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(tmp_path, capsys, HEAD + "    match: {event_type: issues}\n")
    assert code == 0
    assert out.endswith("OK (1 sources, 1 routes, 1 targets)\n")
    assert err == ""


def test_warning_alone_exits_zero_and_shows_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(tmp_path, capsys, HEAD)
    assert code == 0
    assert "OK" in out
    assert err.splitlines() == [
        "relay.yaml:11:5: warning: route 'r1' matches every event of source 'github'",
        "      - name: r1",
        "        ^",
    ]


def test_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = route(tmp_path, capsys, "match: {event_type: [issues}\n")
    assert code == 1
    assert err.splitlines()[:3] == [
        "relay.yaml:14:32: expected ',' or ']', but got '}' "
        "(while parsing a flow sequence at line 14, column 25)",
        "        match: {event_type: [issues}",
        "                                   ^",
    ]
    assert err.splitlines()[-1] == "relay.yaml: 1 error"


def test_duplicate_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = route(tmp_path, capsys, "match: {event_type: a}\nmatch: {event_type: b}\n")
    assert code == 1
    assert err.splitlines()[0] == "relay.yaml:15:5: duplicate key 'match' (first at line 14)"


def test_unknown_key_with_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = route(tmp_path, capsys, "match: {event_type: a}\nstpo: true\n")
    assert code == 1
    assert err.splitlines()[0] == "relay.yaml:15:5: unknown key 'stpo' (did you mean 'stop'?)"


def test_wrong_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = route(tmp_path, capsys, "match: {event_type: a}\nstop: sometimes\n")
    assert code == 1
    assert err.splitlines()[0] == (
        "relay.yaml:15:11: routes[0].stop: Input should be a valid boolean, "
        "unable to interpret input"
    )


def test_unknown_source_and_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = HEAD.replace("source: github", "source: githb\n    target: notty")
    code, _, err = check(tmp_path, capsys, text + "    match: {event_type: a}\n")
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("relay.yaml:")]
    assert lines == [
        "relay.yaml:12:13: route 'r1': unknown source 'githb' (did you mean 'github'?)",
        "relay.yaml:13:13: route 'r1': unknown target 'notty' (did you mean 'notte'?)",
        "relay.yaml: 2 errors",
    ]


def test_when_expression_error_has_a_caret_at_the_character(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = route(tmp_path, capsys, 'match:\n  when: "body.a == `1` foo"\n')
    assert code == 1
    assert err.splitlines()[:3] == [
        "relay.yaml:15:28: route 'r1': when: invalid expression: unexpected token 'foo'",
        '          when: "body.a == `1` foo"',
        "                               ^",
    ]


def test_variable_expression_error_in_a_plain_scalar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = route(tmp_path, capsys, "match: {event_type: a}\nvariables:\n  n: body.issue.[\n")
    assert code == 1
    assert err.splitlines()[:3] == [
        "relay.yaml:16:22: route 'r1': variable 'n': invalid expression: incomplete expression",
        "          n: body.issue.[",
        "                         ^",
    ]


def test_template_error_in_a_single_quoted_scalar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = route(
        tmp_path,
        capsys,
        "match: {event_type: a}\nvariables:\n  t: {template: 'it''s {{ body.a b }}'}\n",
    )
    assert code == 1
    assert err.splitlines()[:3] == [
        "relay.yaml:16:38: route 'r1': variable 't': template: invalid expression: "
        "unexpected token 'b'",
        "          t: {template: 'it''s {{ body.a b }}'}",
        "                                         ^",
    ]


def test_regex_error_in_a_double_quoted_scalar_with_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = route(tmp_path, capsys, 'match:\n  body.title: {regex: "\\\\d+(x"}\n')
    assert code == 1
    assert err.splitlines()[:3] == [
        "relay.yaml:15:32: route 'r1': invalid regex: missing ), unterminated subpattern",
        '          body.title: {regex: "\\\\d+(x"}',
        "                                   ^",
    ]


def test_expression_error_in_a_literal_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = "match:\n  when: |\n    body.a == `1` &&\n      body.b ==\n"
    code, err = route(tmp_path, capsys, body)
    assert code == 1
    assert err.splitlines()[0] == (
        "relay.yaml:17:20: route 'r1': when: invalid expression: incomplete expression"
    )


def test_dedupe_key_error_and_bad_duration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = route(
        tmp_path, capsys, "match: {event_type: a}\ndedupe: {key: 'a..b', window: 5 mins}\n"
    )
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("relay.yaml:")]
    assert lines == [
        "relay.yaml:15:22: route 'r1': dedupe key: invalid expression: unexpected token '.'",
        "relay.yaml:15:35: routes[0].dedupe.window: invalid duration '5 mins': "
        "use seconds or e.g. 30s, 10m, 1h30m",
        "relay.yaml: 2 errors",
    ]


def test_unknown_operator_is_located_at_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = route(tmp_path, capsys, "match:\n  body:\n    action: {startswith: op}\n")
    assert code == 1
    assert err.splitlines()[:3] == [
        "relay.yaml:16:18: route 'r1': unknown operator 'startswith' (did you mean 'prefix'?); "
        "to match a field named 'startswith', write the path as a dotted key: "
        "body.action.startswith: ...",
        "            action: {startswith: op}",
        "                     ^",
    ]


def test_unknown_match_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = route(tmp_path, capsys, "match:\n  evnt_type: issues\n")
    assert code == 1
    assert err.splitlines()[0].startswith(
        "relay.yaml:15:7: route 'r1': unknown match key 'evnt_type' (did you mean 'event_type'?)"
    )


def test_operand_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = """\
        match:
          body.n: {numeric: [">", "5"]}
          client_ip: {cidr: 10.0.0.1/8}
          body.a: {prefix: 5}
        """
    code, err = route(tmp_path, capsys, body)
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("relay.yaml:")]
    assert lines == [
        "relay.yaml:15:31: route 'r1': numeric compares with a number, not '5'",
        "relay.yaml:16:25: route 'r1': invalid network '10.0.0.1/8': 10.0.0.1/8 has host bits set",
        "relay.yaml:17:24: route 'r1': prefix takes a string, not 5",
        "relay.yaml: 3 errors",
    ]


def test_every_error_is_printed_at_once_sorted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEAD.replace("api_key: k", "api_key: k\n    timeout: -1").replace(
        "source: github", "source: nope"
    )
    text += "    match: {when: '('}\n    variables: {a: {path: x, type: text}}\n"
    code, _, err = check(tmp_path, capsys, text)
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("relay.yaml:")]
    assert lines == [
        "relay.yaml:6:14: targets.notte.timeout: Input should be greater than 0",
        "relay.yaml:13:13: route 'r1': unknown source 'nope' (known: github)",
        "relay.yaml:15:21: route 'r1': when: invalid expression: incomplete expression",
        "relay.yaml:16:36: route 'r1': variable 'a': unknown type 'text': use string, "
        "integer, number, boolean, object, array",
        "relay.yaml: 4 errors",
    ]


def test_secrets_from_the_environment_never_appear(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET_NAME", "s3cr3t-value-xyz")
    code, err = route(tmp_path, capsys, "match:\n  when: \"body.a == '${SECRET_NAME}' &&\"\n")
    assert code == 1
    assert "s3cr3t-value-xyz" not in err.splitlines()[0]
    assert err.splitlines()[0] == (
        "relay.yaml:15:13: route 'r1': when: invalid expression: incomplete expression"
    )


FOUR_MISTAKES = """\
version: 1
targets:
  notte:
    base_url: http://127.0.0.1:8787
    api_key: k
sources:
  pay:
    provider: strpie
    secrets: ["whsec_x"]
  gh:
    provider: github
    secret: ["gh-typo-secret"]
routes:
  - name: a
    source: gh
    functon_id: f1
    match: {event_type: issues}
  - name: b
    source: pay
    function_id: f2
    match: {event_typ: x}
"""


def test_one_pass_reports_every_mistake_once_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = check(tmp_path, capsys, FOUR_MISTAKES)
    assert code == 1
    messages = [line for line in err.splitlines() if line.startswith("relay.yaml:")]
    assert messages == [
        "relay.yaml:8:15: source 'pay': unknown provider 'strpie' (did you mean 'stripe'?)",
        "relay.yaml:12:5: source 'gh': unknown option 'secret' (did you mean 'secrets'?); "
        "a github source takes body_format, description, max_body_bytes, provider, "
        "retention, secrets",
        "relay.yaml:16:5: unknown key 'functon_id' (did you mean 'function_id'?)",
        "relay.yaml:21:13: route 'b': unknown match key 'event_typ' (did you mean "
        "'event_type'?): use one of event_type, event_id, source, client_ip, body, headers, "
        "query, any, all, not, when",
        "relay.yaml: 4 errors",
    ]
    assert "gh-typo-secret" not in err  # a misspelt secrets key's line is masked too


def test_unknown_option_lists_the_providers_options_and_the_source_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEAD.replace(
        '    secrets: ["s"]\n',
        '    secrets: ["s"]\n  stripe:\n'
        '    provider: stripe\n    secrets: ["whsec_x"]\n    tolerence: 60\n'
        "    max_body: 10\n",
    )
    code, _, err = check(tmp_path, capsys, text)
    assert code == 1
    assert (
        "source 'stripe': unknown option 'tolerence' (did you mean 'tolerance'?); a stripe "
        "source takes body_format, description, max_body_bytes, provider, retention, secrets, "
        "tolerance"
    ) in err
    assert "unknown option 'max_body' (did you mean 'max_body_bytes'?)" in err
    assert err.endswith("relay.yaml: 2 errors\n")


def test_duplicate_route_name_is_reported_with_other_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEAD + "  - name: r1\n    source: github\n    function_id: f2\n    retry: {tries: 3}\n"
    code, _, err = check(tmp_path, capsys, text)
    assert code == 1
    assert "duplicate route name 'r1' (first: routes[0])" in err
    assert (
        "unknown key 'tries' (accepted: max_attempts, initial, max, multiplier, jitter, "
        "on_run_failure)"
    ) in err
    assert err.endswith("relay.yaml: 2 errors\n")
