"""The config file's sections as frozen dataclasses, and the one validator that builds them
from plain values (``relay.routing.config``, ``relay.alerts.config``).

A section is a dataclass made with ``@section``; each field's type is read from its
annotation (``int``, ``float``, ``bool``, ``str``, ``Any``, ``X | None``, ``Literal[...]``, a
``StrEnum``, ``list[X]``, ``dict[str, X]``, another section, or a union of sections told apart
by a ``discriminator`` key) and its bounds from ``rule(...)``. Values are coerced as YAML
users expect, as pydantic's lax mode does (``"10"`` is an int, ``yes`` a bool), and every
mistake is reported at once with pydantic's wording (``Field required``, ``Input should be
greater than or equal to 1``), which ``relay check`` shows and the docs quote.

Why not pydantic: importing it and building these models cost more than every other part of
``relay check``, ``route``, ``urls`` and ``targets`` together (about 150 of 230 ms); the API's
request bodies still use it.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, dataclass_transform

from relay.durations import parse_duration

__all__ = [
    "Rule",
    "SchemaError",
    "SchemaErrors",
    "dump",
    "field_names",
    "rule",
    "section",
    "validate",
]

Loc = tuple[str | int, ...]
T = TypeVar("T")
_NONE = type(None)
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_DECIMAL_ZEROS = re.compile(r"(?<=\d)\.0*$")


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One mistake: where (``("routes", 0, "retry")``), pydantic's error type and message, and
    for a missing or unknown key the keys its section accepts (for "did you mean")."""

    loc: Loc
    type: str  # missing, extra_forbidden, value_error, greater_than_equal, ...
    msg: str
    fields: tuple[str, ...] = ()


class SchemaErrors(ValueError):
    """Every mistake found in one pass."""

    def __init__(self, errors: list[SchemaError]) -> None:
        super().__init__(f"{len(errors)} config error(s)")
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Rule:
    """A field's bounds and hooks. ``before`` turns the written value into the typed one
    (``parse_duration``); ``after`` checks the typed value; both raise ``ValueError``."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    before: Callable[[Any], Any] | None = None
    after: Callable[[Any], Any] | None = None
    discriminator: str | None = None


_PLAIN = Rule()


def rule(
    *,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    duration: bool = False,
    **bounds: Any,
) -> Any:
    """A field with bounds; ``duration=True`` reads seconds or text like ``10m``, ``1h30m``."""
    if duration:
        bounds["before"] = parse_duration
    meta = {"rule": Rule(**bounds)}
    return dataclasses.field(default=default, default_factory=default_factory, metadata=meta)


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(rule,))
def section(cls: type[T]) -> type[T]:
    """A config section: a frozen, keyword-only dataclass. ``__extra__ = "options"`` names a
    ``dict`` field that takes the keys the section does not declare (a source's provider
    options); without it an unknown key is an error."""
    return dataclasses.dataclass(frozen=True, kw_only=True, slots=True)(cls)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    kind: Any
    rule: Rule
    required: bool  # no default: an omitted one takes the dataclass's default


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def _fields(cls: type) -> tuple[_Field, ...]:
    known = _FIELDS.get(cls)
    if known is None:
        hints = typing.get_type_hints(cls)
        missing = dataclasses.MISSING
        known = _FIELDS[cls] = tuple(
            _Field(
                f.name,
                hints[f.name],
                f.metadata.get("rule", _PLAIN),
                f.default is missing and f.default_factory is missing,
            )
            for f in dataclasses.fields(cls)
        )
    return known


def _extra(cls: type) -> str | None:
    extra: str | None = getattr(cls, "__extra__", None)
    return extra


def field_names(cls: type) -> tuple[str, ...]:
    """The keys a section accepts (its extra-options field aside)."""
    return tuple(f.name for f in _fields(cls) if f.name != _extra(cls))


class _Invalid(Exception):
    def __init__(self, type_: str, msg: str) -> None:
        self.type, self.msg = type_, msg


def _number(value: float | int) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _scalar(kind: Any, value: Any) -> Any:
    """``int``, ``float``, ``bool`` or ``str``, coerced as pydantic's lax mode does."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            if value.lower() in _TRUE | _FALSE:
                return value.lower() in _TRUE
            raise _Invalid(
                "bool_parsing", "Input should be a valid boolean, unable to interpret input"
            )
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        if isinstance(value, int):
            raise _Invalid(
                "bool_parsing", "Input should be a valid boolean, unable to interpret input"
            )
        raise _Invalid("bool_type", "Input should be a valid boolean")
    if kind is str:
        if isinstance(value, str):
            return value
        raise _Invalid("string_type", "Input should be a valid string")
    if kind is int:
        if isinstance(value, str):
            digits = _DECIMAL_ZEROS.sub("", value.strip())  # "12.0" is 12, "1e3" is no int
            try:
                return int(digits)
            except ValueError:
                message = "Input should be a valid integer, unable to parse string as an integer"
                raise _Invalid("int_parsing", message) from None
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise _Invalid("finite_number", "Input should be a finite number")
            if value.is_integer():
                return int(value)
            message = "Input should be a valid integer, got a number with a fractional part"
            raise _Invalid("int_from_float", message)
        raise _Invalid("int_type", "Input should be a valid integer")
    # float
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            message = "Input should be a valid number, unable to parse string as a number"
            raise _Invalid("float_parsing", message) from None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            pass
    raise _Invalid("float_type", "Input should be a valid number")


def _bounds(rule: Rule, value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # in pydantic's order (a NaN breaks every bound: the first is told)
        if rule.le is not None and not value <= rule.le:
            message = f"Input should be less than or equal to {_number(rule.le)}"
            raise _Invalid("less_than_equal", message)
        if rule.ge is not None and not value >= rule.ge:
            message = f"Input should be greater than or equal to {_number(rule.ge)}"
            raise _Invalid("greater_than_equal", message)
        if rule.gt is not None and not value > rule.gt:
            raise _Invalid("greater_than", f"Input should be greater than {_number(rule.gt)}")
        return
    size = len(value) if isinstance(value, str | list | dict) else None
    if size is None:
        return
    if isinstance(value, str):
        if rule.min_length is not None and size < rule.min_length:
            message = f"String should have at least {_plural(rule.min_length, 'character')}"
            raise _Invalid("string_too_short", message)
        if rule.max_length is not None and size > rule.max_length:
            message = f"String should have at most {_plural(rule.max_length, 'character')}"
            raise _Invalid("string_too_long", message)
        return
    what = "List" if isinstance(value, list) else "Dictionary"
    if rule.min_length is not None and size < rule.min_length:
        least = _plural(rule.min_length, "item")
        message = f"{what} should have at least {least} after validation, not {size}"
        raise _Invalid("too_short", message)


def _choices(values: list[Any]) -> str:
    shown = [repr(v) for v in values]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"


class _Walk:
    def __init__(self) -> None:
        self.errors: list[SchemaError] = []

    def fail(self, loc: Loc, type_: str, msg: str, fields: tuple[str, ...] = ()) -> None:
        self.errors.append(SchemaError(loc, type_, msg, fields))

    def value(self, kind: Any, value: Any, loc: Loc, rule: Rule = _PLAIN) -> Any:
        """The checked value, or ``_BAD`` once its errors are recorded."""
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if origin in (typing.Union, types.UnionType) and _NONE in args:
            if value is None:
                return None
            rest = tuple(a for a in args if a is not _NONE)
            kind = rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007
            origin, args = typing.get_origin(kind), typing.get_args(kind)
        try:
            if rule.before is not None:
                try:
                    value = rule.before(value)
                except ValueError as exc:
                    raise _Invalid("value_error", str(exc)) from None
            value = self.typed(kind, origin, args, value, loc, rule)
            if value is _BAD:
                return _BAD
            _bounds(rule, value)
            if rule.after is not None:
                try:
                    value = rule.after(value)
                except ValueError as exc:
                    raise _Invalid("value_error", str(exc)) from None
        except _Invalid as bad:
            self.fail(loc, bad.type, bad.msg)
            return _BAD
        return value

    def typed(
        self, kind: Any, origin: Any, args: tuple[Any, ...], value: Any, loc: Loc, rule: Rule
    ) -> Any:
        if kind is Any:
            return value
        if kind in (int, float, bool, str):
            return _scalar(kind, value)
        if origin is Literal:
            for choice in args:
                if value == choice and (type(value) is type(choice) or not isinstance(choice, str)):
                    return choice
            raise _Invalid("literal_error", f"Input should be {_choices(list(args))}")
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            try:
                return kind(value)
            except ValueError:
                raise _Invalid(
                    "enum", f"Input should be {_choices([m.value for m in kind])}"
                ) from None
        if origin is list:
            if not isinstance(value, list | tuple):
                raise _Invalid("list_type", "Input should be a valid list")
            items = [self.value(args[0], v, (*loc, i), _item(rule)) for i, v in enumerate(value)]
            return _BAD if _BAD in items else items
        if origin is dict:
            if not isinstance(value, dict):
                raise _Invalid("dict_type", "Input should be a valid dictionary")
            out: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    self.fail((*loc, key, "[key]"), "string_type", "Input should be a valid string")
                    out[key] = _BAD
                    continue
                out[key] = self.value(args[1], item, (*loc, key))
            return _BAD if _BAD in out.values() else out
        if origin in (typing.Union, types.UnionType):
            return self.tagged(args, value, loc, rule.discriminator or "type")
        if dataclasses.is_dataclass(kind) and isinstance(kind, type):
            if isinstance(value, kind):
                return value
            if not isinstance(value, dict):
                message = f"Input should be a valid dictionary or instance of {kind.__name__}"
                raise _Invalid("model_type", message)
            return self.section(kind, value, loc)
        raise TypeError(f"config field type not handled: {kind!r}")  # a bug in a section

    def tagged(self, members: tuple[Any, ...], value: Any, loc: Loc, key: str) -> Any:
        """One of several sections, chosen by the value of ``key`` (a channel's ``type``)."""
        if not isinstance(value, dict):
            message = "Input should be a valid dictionary or object to extract fields from"
            raise _Invalid("model_attributes_type", message)
        if key not in value:
            raise _Invalid(
                "union_tag_not_found", f"Unable to extract tag using discriminator {key!r}"
            )
        tags = {typing.get_args(_hint(m, key))[0]: m for m in members}
        member = tags.get(value[key]) if isinstance(value[key], str) else None
        if member is None:
            expected = ", ".join(repr(t) for t in tags)
            message = (
                f"Input tag '{value[key]}' found using {key!r} does not match any of the "
                f"expected tags: {expected}"
            )
            raise _Invalid("union_tag_invalid", message)
        return self.section(member, value, loc)

    def section(self, cls: type, data: Mapping[Any, Any], loc: Loc) -> Any:
        fields, extra = _fields(cls), _extra(cls)
        names = field_names(cls)
        given, failed = {}, False
        for f in fields:
            if f.name == extra:
                continue
            if f.name in data:
                given[f.name] = self.value(f.kind, data[f.name], (*loc, f.name), f.rule)
                failed = failed or given[f.name] is _BAD
            elif f.required:
                self.fail((*loc, f.name), "missing", "Field required", names)
                failed = True
        unknown = {k: v for k, v in data.items() if k not in names}
        if extra is not None:
            given[extra] = unknown
        else:
            for key in unknown:
                self.fail((*loc, key), "extra_forbidden", "Extra inputs are not permitted", names)
                failed = True
        return _BAD if failed else cls(**given)


_BAD: Any = object()


def _item(rule: Rule) -> Rule:
    """A list's items share its ``discriminator`` (the list's own bounds are its length)."""
    return Rule(discriminator=rule.discriminator) if rule.discriminator else _PLAIN


def _hint(cls: type, name: str) -> Any:
    return next(f.kind for f in _fields(cls) if f.name == name)


def validate(cls: type[T], data: Any) -> T:
    """``data`` (plain values, as ``relay.routing.document`` composes them) as section
    ``cls``; raises ``SchemaErrors`` with every mistake."""
    walk = _Walk()
    value = walk.value(cls, data, ())
    if value is _BAD:
        raise SchemaErrors(walk.errors)
    result: T = value
    return result


def dump(value: Any) -> Any:
    """A section as plain values, in the shape of the file (extra options beside the declared
    keys); the inverse of ``validate``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        extra = _extra(type(value))
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name == extra:
                out.update({k: dump(v) for k, v in item.items()})
            else:
                out[f.name] = dump(item)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {k: dump(v) for k, v in value.items()}
    return value
