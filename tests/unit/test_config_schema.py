"""relay.config_schema: config sections built from plain values, every mistake told at once
in pydantic's words (which ``relay check`` shows and the docs quote), coerced as YAML users
expect."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal

import pytest

from relay.config_schema import (
    SchemaError,
    SchemaErrors,
    dump,
    field_names,
    rule,
    section,
    validate,
)


class Color(StrEnum):
    RED = "red"
    BLUE = "blue"


@section
class Inner:
    count: int = rule(default=1, ge=1, le=10)


@section
class Slack:
    type: Literal["slack"]
    url: str


@section
class Mail:
    type: Literal["mail"]
    to: list[str] = rule(min_length=1)


def _upper(value: str) -> str:
    if value != value.upper():
        raise ValueError(f"{value!r} is not upper case")
    return value


@section
class Outer:
    name: str = rule(min_length=1, max_length=5)
    ratio: float = rule(default=0.5, gt=0, le=1)
    wait: float = rule(default=60.0, duration=True, ge=0)
    flag: bool = False
    mode: Literal["a", "b"] = "a"
    colors: list[Color] = rule(default_factory=list)
    inner: Inner = rule(default_factory=Inner)
    maybe: Inner | None = None
    table: dict[str, Inner] = rule(default_factory=dict)
    code: str | None = rule(default=None, after=_upper)
    channels: list[Slack | Mail] = rule(default_factory=list, discriminator="type")
    anything: Any = None


@section
class Open:
    __extra__: ClassVar[str] = "options"

    kind: str
    options: dict[str, Any] = rule(default_factory=dict)


def _errors(cls: type, data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(SchemaErrors) as caught:
        validate(cls, data)
    return [(e.loc, e.msg) for e in caught.value.errors]


def test_a_valid_document_gives_the_section_with_its_defaults() -> None:
    built = validate(Outer, {"name": "x", "table": {"t": {}}, "maybe": {"count": 3}})
    assert built == Outer(name="x", table={"t": Inner()}, maybe=Inner(count=3))
    assert built.inner == Inner(count=1)
    assert built.wait == 60.0


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("count", "7", 7),
        ("count", " 7 ", 7),
        ("count", "1_0", 10),
        ("count", "3.0", 3),
        ("count", 4.0, 4),
        ("count", True, 1),
        ("ratio", "0.25", 0.25),
        ("ratio", 1, 1.0),
        ("flag", "yes", True),
        ("flag", "Off", False),
        ("flag", 1, True),
        ("flag", 0.0, False),
        ("wait", "1h30m", 5400.0),
        ("wait", 90, 90.0),
    ],
)
def test_values_are_coerced_as_yaml_users_expect(kind: str, value: Any, expected: Any) -> None:
    data: dict[str, Any] = {"name": "x"}
    if kind == "count":
        data["inner"] = {"count": value}
        assert validate(Outer, data).inner.count == expected
    else:
        data[kind] = value
        got = getattr(validate(Outer, data), kind)
        assert got == expected
        assert type(got) is type(expected)


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ({}, ("name",), "Field required"),
        ({"name": 5}, ("name",), "Input should be a valid string"),
        ({"name": ""}, ("name",), "String should have at least 1 character"),
        ({"name": "toolong"}, ("name",), "String should have at most 5 characters"),
        ({"name": "x", "ratio": 0}, ("ratio",), "Input should be greater than 0"),
        ({"name": "x", "ratio": 2}, ("ratio",), "Input should be less than or equal to 1"),
        (
            {"name": "x", "ratio": "half"},
            ("ratio",),
            "Input should be a valid number, unable to parse string as a number",
        ),
        ({"name": "x", "ratio": None}, ("ratio",), "Input should be a valid number"),
        (
            {"name": "x", "inner": {"count": 1.5}},
            ("inner", "count"),
            "Input should be a valid integer, got a number with a fractional part",
        ),
        (
            {"name": "x", "inner": {"count": "1e3"}},
            ("inner", "count"),
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            {"name": "x", "inner": {"count": 0}},
            ("inner", "count"),
            "Input should be greater than or equal to 1",
        ),
        (
            {"name": "x", "inner": 3},
            ("inner",),
            "Input should be a valid dictionary or instance of Inner",
        ),
        (
            {"name": "x", "flag": "maybe"},
            ("flag",),
            "Input should be a valid boolean, unable to interpret input",
        ),
        ({"name": "x", "flag": 0.5}, ("flag",), "Input should be a valid boolean"),
        ({"name": "x", "mode": "c"}, ("mode",), "Input should be 'a' or 'b'"),
        (
            {"name": "x", "colors": ["red", "green"]},
            ("colors", 1),
            "Input should be 'red' or 'blue'",
        ),
        ({"name": "x", "colors": "red"}, ("colors",), "Input should be a valid list"),
        ({"name": "x", "table": []}, ("table",), "Input should be a valid dictionary"),
        ({"name": "x", "table": {1: {}}}, ("table", 1, "[key]"), "Input should be a valid string"),
        ({"name": "x", "wait": "soon"}, ("wait",), "invalid duration 'soon'"),
        ({"name": "x", "code": "abc"}, ("code",), "'abc' is not upper case"),
        ({"name": "x", "inner": {"cont": 2}}, ("inner", "cont"), "Extra inputs are not permitted"),
    ],
)
def test_a_mistake_is_told_in_pydantics_words_at_its_place(
    data: dict[str, Any], loc: tuple[str | int, ...], message: str
) -> None:
    ((where, text),) = _errors(Outer, data)
    assert where == loc
    assert text.startswith(message)


def test_every_mistake_is_told_in_one_pass() -> None:
    data = {"ratio": 5, "inner": {"count": 0, "x": 1}, "table": {"a": {"count": "z"}}, "y": 2}
    assert [loc for loc, _ in _errors(Outer, data)] == [
        ("name",),
        ("ratio",),
        ("inner", "count"),
        ("inner", "x"),
        ("table", "a", "count"),
        ("y",),
    ]


def test_a_missing_or_unknown_key_carries_the_keys_its_section_accepts() -> None:
    with pytest.raises(SchemaErrors) as caught:
        validate(Outer, {"inner": {"cont": 2}})
    missing, unknown = caught.value.errors
    assert missing == SchemaError(("name",), "missing", "Field required", field_names(Outer))
    assert unknown.type == "extra_forbidden"
    assert unknown.fields == ("count",)


def test_a_tagged_union_is_chosen_by_its_tag_and_told_without_it() -> None:
    channels = [{"type": "slack", "url": "u"}, {"type": "mail", "to": ["a@b"]}]
    built = validate(Outer, {"name": "x", "channels": channels})
    assert built.channels == [Slack(type="slack", url="u"), Mail(type="mail", to=["a@b"])]
    data = {"name": "x", "channels": [{"type": "mail", "to": []}, {"type": "pager"}, {}, 3]}
    assert _errors(Outer, data) == [
        (("channels", 0, "to"), "List should have at least 1 item after validation, not 0"),
        (
            ("channels", 1),
            "Input tag 'pager' found using 'type' does not match any of the expected tags: "
            "'slack', 'mail'",
        ),
        (("channels", 2), "Unable to extract tag using discriminator 'type'"),
        (("channels", 3), "Input should be a valid dictionary or object to extract fields from"),
    ]


def test_a_section_with_extra_keeps_the_keys_it_does_not_declare() -> None:
    built = validate(Open, {"kind": "k", "region": "eu", "tolerance": 5})
    assert built.options == {"region": "eu", "tolerance": 5}
    assert field_names(Open) == ("kind",)
    assert dump(built) == {"kind": "k", "region": "eu", "tolerance": 5}


def test_dump_gives_back_the_document_shape() -> None:
    data = {
        "name": "x",
        "colors": ["red"],
        "channels": [{"type": "slack", "url": "u"}],
        "table": {"t": {"count": 2}},
    }
    plain = dump(validate(Outer, data))
    assert plain["colors"] == ["red"]
    assert type(plain["colors"][0]) is str
    assert plain["channels"] == [{"type": "slack", "url": "u"}]
    assert plain["table"] == {"t": {"count": 2}}
    assert validate(Outer, plain) == validate(Outer, data)


def test_a_nan_breaks_the_first_bound_as_pydantic_tells_it() -> None:
    assert _errors(Outer, {"name": "x", "ratio": float("nan")}) == [
        (("ratio",), "Input should be less than or equal to 1")
    ]


def test_a_section_is_frozen() -> None:
    built = validate(Inner, {})
    with pytest.raises(AttributeError):
        built.count = 3  # type: ignore[misc]


# "\uff15" fullwidth 5, "\u0661" and "\u0663" Arabic-Indic 1 and 3: digits Python's int()
# and float() read and pydantic does not
_INTS = ("12", " 12 ", "1_000", "1.0", "1.00", "10.", "0.", "1e3", "+3", "-0", "-1.0", "\uff15")
_INTS_TOO = ("\u0661", "1__0", "_1", "1_", "1.5", "0x10", "", " ", 1.0, 1.5, True, None, 2**70)
_FLOATS = ("1.5", " 2 ", "inf", "nan", "1_0", "\u0661\u0662", "\uff15", "1e3", "abc", ".5", "5.")
_BOOLS = (2.0, 1.0, 0.0, 0.5, 99999999999999999999, 2, -1, 1e30, "yes", "Off", "on ", "t", "x")
_SCALAR_INPUTS: list[tuple[type, Any]] = [
    *((int, v) for v in (*_INTS, *_INTS_TOO, float("inf"), float("nan"), [1], "\u0663")),
    *((float, v) for v in (*_FLOATS, "-inf", 3, True, None, 10**400, "\u0663")),
    *((bool, v) for v in (*_BOOLS, None, [True], 1)),
    *((str, v) for v in ("x", 1, 1.5, True, None)),
]


@section
class _One:
    i: int = 0
    f: float = 0.0
    b: bool = False
    s: str = ""


@pytest.mark.parametrize(("kind", "value"), _SCALAR_INPUTS)
def test_a_scalar_is_read_as_pydantics_lax_mode_reads_it(kind: type, value: Any) -> None:
    """The same value or the same message as pydantic (a dependency of relay's API), for what
    YAML and ``${VAR}`` give: digits of other scripts, ``10.``, ``1e3``, huge numbers."""
    pydantic = pytest.importorskip("pydantic")
    try:
        expected: tuple[str, Any] = ("ok", pydantic.TypeAdapter(kind).validate_python(value))
    except pydantic.ValidationError as exc:
        expected = ("error", exc.errors(include_url=False)[0]["msg"])
    name = {int: "i", float: "f", bool: "b", str: "s"}[kind]
    try:
        got: tuple[str, Any] = ("ok", getattr(validate(_One, {name: value}), name))
    except SchemaErrors as exc:
        got = ("error", exc.errors[0].msg)
    assert repr(got) == repr(expected)
