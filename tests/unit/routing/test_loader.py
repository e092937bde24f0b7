from __future__ import annotations

import hashlib
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from relay.routing.loader import (
    ConfigErrors,
    ConfigIssue,
    LoadedDocument,
    load_file,
    parse_document,
)

FILE = "relay.yaml"

VALID = textwrap.dedent(
    """\
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
        match: {event_type: issues}
    """
)


def load(text: str, env: Mapping[str, str] | None = None) -> LoadedDocument:
    return parse_document(textwrap.dedent(text), FILE, env or {})


def errors(text: str, env: Mapping[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load(text, env)
    assert caught.value.file == FILE
    return str(caught.value).splitlines()


# --- a valid document -----------------------------------------------------------------------


def test_valid_document_loads_without_issues() -> None:
    doc = load(VALID)
    assert doc.path == FILE
    assert doc.config.routes[0].function_id == "f1"
    assert doc.config.targets["notte"].base_url == "http://127.0.0.1:8787"
    assert doc.defaulted == ()
    assert doc.warnings == ()


def test_locate_gives_the_deepest_existing_node_on_a_path() -> None:
    doc = load(VALID)
    assert doc.locate(("routes", 0, "match")) == (14, 12)
    assert doc.locate(("routes", 0, "match", "event_type")) == (14, 25)
    assert doc.locate(("routes", 0, "retry", "max_attempts")) == (11, 5)
    assert doc.locate(("nothing", "here")) == (1, 1)


def test_parse_document_hashes_the_utf8_text() -> None:
    assert load(VALID).sha256 == hashlib.sha256(VALID.encode()).hexdigest()


# --- YAML safety and structure --------------------------------------------------------------


def test_unknown_key_is_reported_at_the_key_with_did_you_mean() -> None:
    assert errors(VALID.replace("function_id: f1", "function_id: f1\n    fuction_id: f2")) == [
        f"{FILE}:14:5: unknown key 'fuction_id' (did you mean 'function_id'?)"
    ]


def test_unknown_key_without_close_match_has_no_hint() -> None:
    assert errors(VALID + "zzz: 1\n") == [
        f"{FILE}:15:1: unknown key 'zzz' "
        "(accepted: version, targets, sources, routes, retention, alerts)"
    ]


def test_unknown_key_in_nested_model_suggests_that_models_fields() -> None:
    text = VALID.replace("    base_url:", "    max_concurency: 3\n    base_url:")
    assert errors(text) == [
        f"{FILE}:4:5: unknown key 'max_concurency' (did you mean 'max_concurrency'?)"
    ]


def test_duplicate_key_is_reported_at_the_second_key() -> None:
    text = VALID.replace("    api_key: k\n", "    api_key: k\n    api_key: k2\n")
    assert errors(text) == [f"{FILE}:6:5: duplicate key 'api_key' (first at line 5)"]


def test_python_object_tag_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = VALID.replace(
        "provider: github", f'provider: !!python/object/apply:os.system ["touch {marker}"]'
    )
    assert errors(text) == [
        f"{FILE}:8:15: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'"
    ]
    assert not marker.exists()


def test_billion_laughs_is_refused_at_the_first_anchor() -> None:
    text = """\
        a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        """
    assert errors(text) == [f"{FILE}:1:4: YAML anchors and aliases are not allowed"]


def test_an_anchor_alone_is_refused() -> None:
    text = VALID.replace("  notte:", "  notte: &t")
    assert errors(text) == [f"{FILE}:3:10: YAML anchors and aliases are not allowed"]


def test_syntax_error_is_located_at_the_problem() -> None:
    text = """\
        version: 1
        targets: [a, b
        sources: {}
        """
    assert errors(text) == [
        f"{FILE}:3:8: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 2, column 10)"
    ]


def test_empty_file_is_an_error() -> None:
    assert errors("") == [f"{FILE}:1:1: the file is empty"]
    assert errors("# only a comment\n") == [f"{FILE}:1:1: the file is empty"]


def test_top_level_must_be_a_mapping() -> None:
    assert errors("- 1\n") == [f"{FILE}:1:1: the document must be a mapping, not list"]


def test_non_string_keys_and_merge_keys_are_errors() -> None:
    text = VALID.replace(
        "    provider: github\n", "    provider: github\n    1: x\n    on: y\n    <<: {a: 1}\n"
    )
    assert errors(text) == [
        f"{FILE}:9:5: mapping keys must be strings: '1' is read as int; quote it",
        f"{FILE}:10:5: mapping keys must be strings: 'on' is read as bool; quote it",
        f"{FILE}:11:5: merge keys ('<<') are not supported",
    ]


# --- interpolation --------------------------------------------------------------------------


def test_missing_environment_variable_is_located_at_its_scalar() -> None:
    text = VALID.replace("api_key: k", "api_key: ${NOTTE_API_KEY}")
    assert errors(text) == [f"{FILE}:5:14: environment variable NOTTE_API_KEY is not set"]


def test_unresolved_value_does_not_also_fail_validation() -> None:
    text = VALID.replace("api_key: k", "api_key: k\n    timeout: ${TIMEOUT}")
    assert errors(text) == [f"{FILE}:6:14: environment variable TIMEOUT is not set"]


def test_values_are_interpolated_then_validated() -> None:
    text = VALID.replace("api_key: k", "api_key: ${KEY}\n    timeout: ${TIMEOUT}")
    doc = load(text, {"KEY": "real-key", "TIMEOUT": "42"})
    assert doc.config.targets["notte"].api_key == "real-key"
    assert doc.config.targets["notte"].timeout == 42.0


def test_default_is_used_and_recorded_as_defaulted() -> None:
    text = VALID.replace("api_key: k", "api_key: ${NOTTE_API_KEY:-demo-key}").replace(
        '["s"]', '["${GITHUB_SECRET:-demo}", "${OTHER:-x}"]'
    )
    doc = load(text, {"OTHER": "set"})
    assert doc.config.targets["notte"].api_key == "demo-key"
    assert doc.config.sources["github"].secrets == ["demo", "set"]
    assert doc.defaulted == ("NOTTE_API_KEY", "GITHUB_SECRET")


def test_required_variable_reports_its_message() -> None:
    text = VALID.replace("api_key: k", "api_key: ${NOTTE_API_KEY:?get a key from the console}")
    assert errors(text, {"NOTTE_API_KEY": ""}) == [f"{FILE}:5:14: get a key from the console"]


def test_double_dollar_gives_a_literal_reference() -> None:
    text = VALID.replace("function_id: f1", "function_id: f1\n    description: cost $${PRICE}")
    assert load(text, {"PRICE": "9"}).config.routes[0].description == "cost ${PRICE}"


def test_interpolation_cannot_inject_yaml_structure() -> None:
    text = VALID.replace("function_id: f1", "function_id: f1\n    description: ${DESC}")
    doc = load(text, {"DESC": "a: b\nc: d"})
    assert doc.config.routes[0].description == "a: b\nc: d"
    assert doc.config.routes[0].match == {"event_type": "issues"}


def test_mapping_keys_are_not_interpolated() -> None:
    text = VALID.replace("match: {event_type: issues}", "match:\n      body:\n        ${OPTION}: 1")
    assert load(text, {"OPTION": "x"}).config.routes[0].match == {"body": {"${OPTION}": 1}}


def test_malformed_reference_is_an_error_at_its_scalar() -> None:
    text = VALID.replace("api_key: k", "api_key: ${KEY")
    assert errors(text) == [f"{FILE}:5:14: unclosed '${{' at character 1: missing '}}'"]


def test_secret_values_never_appear_in_error_text() -> None:
    secret = "Sup3r S3cret!Value"
    text = """\
        version: 1
        targets:
          notte:
            base_url: ${SECRET}
            api_key: ${SECRET}
            timeout: ${SECRET}
        sources:
          github:
            provider: github
            secrets: ["s"]
        routes:
          - name: r1
            source: github
            target: ${SECRET}
            function_id: f1
            match: {event_type: a}
          - name: "${SECRET}"
            source: github
            function_id: f2
            match: {event_type: a}
        """
    with pytest.raises(ConfigErrors) as caught:
        load(text, {"SECRET": secret})
    rendered = str(caught.value)
    assert len(caught.value.issues) == 4  # the unknown target too: all errors at once
    assert secret not in rendered
    assert all(secret not in issue.message for issue in caught.value.issues)
    assert "routes[1].name: invalid route name <redacted>" in rendered
    # once the values are valid, reference checks must not reveal them either
    text = text.replace("base_url: ${SECRET}", "base_url: http://x").replace(
        'name: "${SECRET}"', "name: r2"
    )
    rendered = "\n".join(errors(text.replace("timeout: ${SECRET}", ""), {"SECRET": secret}))
    assert rendered == f"{FILE}:14:13: route 'r1': unknown target <redacted> (known: notte)"


# --- validation -----------------------------------------------------------------------------


def test_pydantic_errors_are_located_with_a_dotted_path() -> None:
    text = VALID.replace("match: {event_type: issues}", "retry:\n      max_attempts: 0")
    assert errors(text)[1] == (
        f"{FILE}:15:21: routes[0].retry.max_attempts: Input should be greater than or equal to 1"
    )


def test_missing_field_is_located_at_its_parent_mapping() -> None:
    text = VALID.replace("    function_id: f1\n", "")
    assert errors(text) == [f"{FILE}:11:5: routes[0].function_id: Field required"]


def test_several_errors_are_reported_at_once_sorted_by_position() -> None:
    text = """\
        version: 1
        targets:
          notte:
            base_url: ftp://nowhere
            api_key: k
            max_concurrency: 0
        sources:
          github:
            provider: github
        routes:
          - name: r1
            source: github
            function_id: ""
            match: {event_type: issues}
            stream: maybe
          - nmae: r2
        """
    assert errors(text) == [
        f"{FILE}:4:15: targets.notte.base_url: base_url must start with http:// or https://",
        f"{FILE}:6:22: targets.notte.max_concurrency: Input should be greater than or equal to 1",
        f"{FILE}:9:5: source 'github': at least one secret is required",
        f"{FILE}:13:18: routes[0].function_id: String should have at least 1 character",
        f"{FILE}:15:13: routes[0].stream: Input should be a valid boolean, "
        "unable to interpret input",
        f"{FILE}:16:5: unknown key 'nmae' (did you mean 'name'?)",
        f"{FILE}:16:5: routes[1].source: Field required",
        f"{FILE}:16:5: routes[1].function_id: Field required",
    ]


def test_duplicate_route_name_is_located_at_the_second_name() -> None:
    text = (
        VALID
        + "  - name: r1\n    source: github\n    function_id: f2\n    match: {event_type: a}\n"
    )
    assert errors(text) == [f"{FILE}:15:11: duplicate route name 'r1' (first: routes[0])"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("version: 2\n", "1:10: version: unsupported value 2: expected 1"),
        ("version: '1'\n", "1:10: version: unsupported value '1': expected 1"),
        ("version: true\n", "1:10: version: unsupported value True: expected 1"),
        ("version: 1.0\n", "1:10: version: unsupported value 1.0: expected 1"),
        ("", "1:1: version: Field required"),
    ],
)
def test_version_must_be_the_integer_one(line: str, expected: str) -> None:
    assert errors(VALID.replace("version: 1\n", line)) == [f"{FILE}:{expected}"]


# --- references between routes, sources and targets ----------------------------------------


def test_unknown_source_is_reported_at_the_route_source_with_did_you_mean() -> None:
    assert errors(VALID.replace("source: github", "source: githb")) == [
        f"{FILE}:12:13: route 'r1': unknown source 'githb' (did you mean 'github'?)"
    ]


def test_unknown_target_is_reported_at_the_route_target_with_did_you_mean() -> None:
    text = VALID.replace("source: github", "source: github\n    target: note")
    assert errors(text) == [
        f"{FILE}:13:13: route 'r1': unknown target 'note' (did you mean 'notte'?)"
    ]


def test_route_must_name_its_target_when_there_are_several() -> None:
    text = VALID.replace("sources:", "  other:\n    base_url: https://o\n    api_key: k\nsources:")
    assert errors(text) == [
        f"{FILE}:14:5: route 'r1' must name its target: there are several (notte, other)"
    ]
    named = text.replace("source: github", "source: github\n    target: other")
    assert load(named).config.routes[0].target == "other"


@pytest.mark.parametrize(
    ("match", "where"), [("match: {}", "14:12"), ("description: everything", "11:5")]
)
def test_route_matching_everything_is_a_warning(match: str, where: str) -> None:
    doc = load(VALID.replace("match: {event_type: issues}", match))
    assert [w.format(FILE) for w in doc.warnings] == [
        f"{FILE}:{where}: warning: route 'r1' matches every event of source 'github'"
    ]
    assert doc.warnings[0].severity == "warning"


def test_warnings_are_reported_along_with_errors() -> None:
    text = VALID.replace("match: {event_type: issues}", "match: {}\n    target: zzz")
    assert errors(text) == [
        f"{FILE}:14:12: warning: route 'r1' matches every event of source 'github'",
        f"{FILE}:15:13: route 'r1': unknown target 'zzz' (known: notte)",
    ]


# --- files ----------------------------------------------------------------------------------


def test_load_file_hashes_the_raw_bytes(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode()
    path = tmp_path / "relay.yaml"
    path.write_bytes(raw)
    doc = load_file(path, {})
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.path == str(path)
    assert doc.config.routes[0].name == "r1"


def test_load_file_reports_a_missing_file_at_line_one(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigErrors) as caught:
        load_file(path, {})
    assert caught.value.issues == [
        ConfigIssue((), 1, 1, "cannot read the file: No such file or directory")
    ]
    assert str(caught.value) == f"{path}:1:1: cannot read the file: No such file or directory"


def test_load_file_reports_invalid_utf8_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "relay.yaml"
    path.write_bytes(b"version: 1\nx: \xff\n")
    with pytest.raises(ConfigErrors) as caught:
        load_file(path, {})
    assert str(caught.value) == f"{path}:2:4: the file is not valid UTF-8"


def test_issue_format_marks_warnings() -> None:
    assert ConfigIssue(("a",), 3, 7, "boom").format("f.yaml") == "f.yaml:3:7: boom"
    warning = ConfigIssue(("a",), 3, 7, "hm", severity="warning")
    assert warning.format("f.yaml") == "f.yaml:3:7: warning: hm"
