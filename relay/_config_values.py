"""The values of a config section (``relay.config_schema``): a field's bounds and hooks
(``Rule``), scalars coerced as pydantic's lax mode does (what YAML users write: ``"10"``,
``yes``, ``1.0``) and bounds checked, each mistake in pydantic's words."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["SCALARS", "Invalid", "Rule", "check_bounds", "choices"]

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
#: what pydantic reads as an int from text: ASCII digits, ``_`` between them, ``.0`` after
_INT_TEXT = re.compile(r"([+-]?[0-9](?:_?[0-9])*)(?:\.0+)?")


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


class Invalid(Exception):
    """A value's mistake: pydantic's error type and message."""

    def __init__(self, type_: str, msg: str) -> None:
        self.type, self.msg = type_, msg


def _number(value: float | int) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


_NOT_BOOL = "Input should be a valid boolean, unable to interpret input"
_NOT_INT = "Input should be a valid integer, unable to parse string as an integer"
_NOT_NUMBER = "Input should be a valid number, unable to parse string as a number"


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        if value.lower() not in _TRUE | _FALSE:
            raise Invalid("bool_parsing", _NOT_BOOL)
        return value.lower() in _TRUE
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 1.0 is 1, 2.0 is 2 (not a boolean, as 2)
    if isinstance(value, int) and -(2**63) <= value < 2**63:  # pydantic's int range
        if value not in (0, 1):
            raise Invalid("bool_parsing", _NOT_BOOL)
        return bool(value)
    raise Invalid("bool_type", "Input should be a valid boolean")


def _int(value: Any) -> int:
    if isinstance(value, str):  # "12.0" is 12; "1e3", "12." and "١٢" are no int
        found = _INT_TEXT.fullmatch(value.strip())
        if found is None:
            raise Invalid("int_parsing", _NOT_INT)
        return int(found[1])
    if isinstance(value, int):
        return int(value)
    if not isinstance(value, float):
        raise Invalid("int_type", "Input should be a valid integer")
    if not math.isfinite(value):
        raise Invalid("finite_number", "Input should be a finite number")
    if not value.is_integer():
        message = "Input should be a valid integer, got a number with a fractional part"
        raise Invalid("int_from_float", message)
    return int(value)


def _float(value: Any) -> float:
    if isinstance(value, str):
        try:
            if not value.isascii():  # Python reads digits of every script, pydantic ASCII's
                raise ValueError(value)
            return float(value.strip())
        except ValueError:
            raise Invalid("float_parsing", _NOT_NUMBER) from None
    if isinstance(value, int | float):
        try:
            return float(value)
        except OverflowError:
            pass
    raise Invalid("float_type", "Input should be a valid number")


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("string_type", "Input should be a valid string")
    return value


#: coerced as pydantic's lax mode does (what YAML users write: ``"10"``, ``yes``, ``1.0``)
SCALARS: dict[Any, Callable[[Any], Any]] = {bool: _bool, int: _int, float: _float, str: _str}


def check_bounds(rule: Rule, value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # in pydantic's order (a NaN breaks every bound: the first is told)
        if rule.le is not None and not value <= rule.le:
            message = f"Input should be less than or equal to {_number(rule.le)}"
            raise Invalid("less_than_equal", message)
        if rule.ge is not None and not value >= rule.ge:
            message = f"Input should be greater than or equal to {_number(rule.ge)}"
            raise Invalid("greater_than_equal", message)
        if rule.gt is not None and not value > rule.gt:
            raise Invalid("greater_than", f"Input should be greater than {_number(rule.gt)}")
        return
    size = len(value) if isinstance(value, str | list | dict) else None
    if size is None:
        return
    if isinstance(value, str):
        if rule.min_length is not None and size < rule.min_length:
            message = f"String should have at least {_plural(rule.min_length, 'character')}"
            raise Invalid("string_too_short", message)
        if rule.max_length is not None and size > rule.max_length:
            message = f"String should have at most {_plural(rule.max_length, 'character')}"
            raise Invalid("string_too_long", message)
        return
    what = "List" if isinstance(value, list) else "Dictionary"
    if rule.min_length is not None and size < rule.min_length:
        least = _plural(rule.min_length, "item")
        message = f"{what} should have at least {least} after validation, not {size}"
        raise Invalid("too_short", message)


def choices(values: list[Any]) -> str:
    shown = [repr(v) for v in values]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
