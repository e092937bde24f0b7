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
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, dataclass_transform

from relay._config_values import SCALARS, Invalid, Rule, check_bounds, choices
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
            value = _hook(rule.before, value)
            value = self.typed(kind, origin, args, value, loc, rule)
            if value is _BAD:
                return _BAD
            check_bounds(rule, value)
            value = _hook(rule.after, value)
        except Invalid as bad:
            self.fail(loc, bad.type, bad.msg)
            return _BAD
        return value

    def typed(
        self, kind: Any, origin: Any, args: tuple[Any, ...], value: Any, loc: Loc, rule: Rule
    ) -> Any:
        if kind is Any:
            return value
        if kind in SCALARS:
            return SCALARS[kind](value)
        if origin is Literal:
            for choice in args:
                if value == choice and (type(value) is type(choice) or not isinstance(choice, str)):
                    return choice
            raise Invalid("literal_error", f"Input should be {choices(list(args))}")
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            try:
                return kind(value)
            except ValueError:
                raise Invalid(
                    "enum", f"Input should be {choices([m.value for m in kind])}"
                ) from None
        if origin is list:
            if not isinstance(value, list | tuple):
                raise Invalid("list_type", "Input should be a valid list")
            items = [self.value(args[0], v, (*loc, i), _item(rule)) for i, v in enumerate(value)]
            return _BAD if _BAD in items else items
        if origin is dict:
            if not isinstance(value, dict):
                raise Invalid("dict_type", "Input should be a valid dictionary")
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
                raise Invalid("model_type", message)
            return self.section(kind, value, loc)
        raise TypeError(f"config field type not handled: {kind!r}")  # a bug in a section

    def tagged(self, members: tuple[Any, ...], value: Any, loc: Loc, key: str) -> Any:
        """One of several sections, chosen by the value of ``key`` (a channel's ``type``)."""
        if not isinstance(value, dict):
            message = "Input should be a valid dictionary or object to extract fields from"
            raise Invalid("model_attributes_type", message)
        if key not in value:
            raise Invalid(
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
            raise Invalid("union_tag_invalid", message)
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


def _hook(hook: Callable[[Any], Any] | None, value: Any) -> Any:
    """A field's ``before`` or ``after``: its ``ValueError`` is the field's mistake."""
    if hook is None:
        return value
    try:
        return hook(value)
    except ValueError as exc:
        raise Invalid("value_error", str(exc)) from None


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
