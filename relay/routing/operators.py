"""Match operators: ``{operator: operand}`` mappings, each compiled to a test at load time.

A test takes the value found in the event (or ``MISSING``) and returns ``None`` when it
matches, else the reason it does not, naming the value found. Operands are checked when the
file is loaded: a wrong operand is a ``Problem`` located at the operand.
"""

from __future__ import annotations

import difflib
import importlib
import ipaddress
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from relay.routing.problems import CompileError, Problem, SpecPath

__all__ = [
    "MAX_REGEX_SUBJECT",
    "MISSING",
    "OPERATORS",
    "Test",
    "equals_test",
    "show",
    "suggest_operator",
]

# A test returns None when it matches, else the reason it does not.
# It gets the value and where it was found (e.g. ``body.labels[0].name``).
Test = Callable[[Any, str], str | None]
Factory = Callable[[Any, SpecPath], Test]

MAX_REGEX_SUBJECT = 65536  # regex only examines strings up to this many characters
_MAX_COMPARISONS = 4
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


def show(value: Any) -> str:
    """A short, typed rendering of a value found in an event (strings keep their quotes)."""
    if value is MISSING:
        return "missing"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(path: SpecPath, message: str, offset: int | None = None) -> CompileError:
    return CompileError([Problem(path, message, offset)])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(expected: Any, value: Any) -> bool:
    """JSON equality: numbers by value (1 == 1.0), never a bool for a number, deep."""
    if type(expected) is str:  # the usual pattern: a string compared with a string
        return type(value) is str and value == expected
    if _is_number(expected) and _is_number(value):
        if isinstance(expected, float) or isinstance(value, float):
            return math.isclose(float(expected), float(value), rel_tol=1e-12, abs_tol=0.0)
        return bool(expected == value)
    if isinstance(expected, dict) and isinstance(value, dict):
        return expected.keys() == value.keys() and all(
            _same(expected[k], value[k]) for k in expected
        )
    if isinstance(expected, list) and isinstance(value, list):
        return len(expected) == len(value) and all(
            _same(a, b) for a, b in zip(expected, value, strict=True)
        )
    return type(value) is type(expected) and bool(value == expected)


def equals_test(expected: Any) -> Test:
    def test(value: Any, where: str) -> str | None:
        if value is MISSING:
            return f"{where} is missing (expected {show(expected)})"
        if _same(expected, value):
            return None
        return f"{where} is {show(value)}, expected {show(expected)}"

    return test


def _equals(operand: Any, path: SpecPath) -> Test:
    return equals_test(operand)


def _string_operand(name: str, operand: Any, path: SpecPath) -> str:
    if not isinstance(operand, str):
        raise _fail(path, f"{name} takes a string, not {show(operand)}")
    return operand


def _string_test(wanted: str, ok: Callable[[str], bool]) -> Test:
    def test(value: Any, where: str) -> str | None:
        if isinstance(value, str) and ok(value):
            return None
        return f"{where} is {show(value)}, expected {wanted}"

    return test


def _prefix(operand: Any, path: SpecPath) -> Test:
    text = _string_operand("prefix", operand, path)
    return _string_test(f"a string starting with {text!r}", lambda v: v.startswith(text))


def _suffix(operand: Any, path: SpecPath) -> Test:
    text = _string_operand("suffix", operand, path)
    return _string_test(f"a string ending with {text!r}", lambda v: v.endswith(text))


def _equals_ignore_case(operand: Any, path: SpecPath) -> Test:
    folded = _string_operand("equals_ignore_case", operand, path).casefold()
    return _string_test(f"{operand!r} in any letter case", lambda v: v.casefold() == folded)


def _exists(operand: Any, path: SpecPath) -> Test:
    if not isinstance(operand, bool):
        raise _fail(path, f"exists takes true or false, not {show(operand)}")

    def test(value: Any, where: str) -> str | None:
        present = value is not MISSING
        if present == operand:
            return None
        return f"{where} is missing" if operand else f"{where} is present ({show(value)})"

    return test


# --- wildcard -------------------------------------------------------------------------------


def _wildcard_parts(pattern: str) -> list[str]:
    """Literal segments between unescaped ``*`` (``\\*`` is a star, ``\\\\`` a backslash)."""
    parts, current, i = [], [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            current.append(pattern[i + 1])
            i += 2
            continue
        if ch == "*":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def wildcard_match(parts: list[str], text: str) -> bool:
    """Glob with ``*`` only, in O(len(text) * stars): leftmost placement is always optimal."""
    if len(parts) == 1:
        return text == parts[0]
    first, *middle, last = parts
    if len(text) < len(first) + len(last) or not text.startswith(first):
        return False
    if not text.endswith(last):
        return False
    pos, end = len(first), len(text) - len(last)
    for segment in middle:
        found = text.find(segment, pos, end)
        if found < 0:
            return False
        pos = found + len(segment)
    return True


def _wildcard(operand: Any, path: SpecPath) -> Test:
    parts = _wildcard_parts(_string_operand("wildcard", operand, path))
    return _string_test(f"a string like {operand!r}", lambda v: wildcard_match(parts, v))


# --- regex ----------------------------------------------------------------------------------


def _nested_unbounded(pattern: str) -> bool:
    """Whether an unbounded repeat sits inside another (``(a+)+``): exponential backtracking.

    Possessive repeats and atomic groups do not backtrack and are allowed.
    """
    # The stdlib's private regex parser (typeshed versions differ on whether it is typed).
    c: Any = importlib.import_module("re._constants")
    parser: Any = importlib.import_module("re._parser")

    def children(arg: Any) -> list[Any]:
        found: list[Any] = []
        for item in arg if isinstance(arg, tuple | list) else (arg,):
            if isinstance(item, parser.SubPattern):
                found.append(item)
            elif isinstance(item, tuple | list):
                found.extend(children(item))
        return found

    def walk(items: Any, inside: bool) -> bool:
        for op, arg in items:
            if op in (c.POSSESSIVE_REPEAT, c.ATOMIC_GROUP):
                continue
            unbounded = op in (c.MAX_REPEAT, c.MIN_REPEAT) and arg[1] == c.MAXREPEAT
            if unbounded and inside:
                return True
            if any(walk(child, inside or unbounded) for child in children(arg)):
                return True
        return False

    return walk(parser.parse(pattern), False)


def _regex(operand: Any, path: SpecPath) -> Test:
    text = _string_operand("regex", operand, path)
    try:
        compiled = re.compile(text)
    except re.error as exc:
        raise _fail(path, f"invalid regex: {exc.msg}", exc.pos or 0) from None
    except RecursionError:
        raise _fail(path, "invalid regex: nested too deeply") from None
    if _nested_unbounded(text):
        raise _fail(
            path,
            "regex has a repeat inside a repeat (like '(a+)+'), which can take exponential "
            "time; rewrite it, or make the inner repeat possessive ('a++')",
        )

    def test(value: Any, where: str) -> str | None:
        if not isinstance(value, str):
            return f"{where} is {show(value)}, expected a string matching /{text}/"
        if len(value) > MAX_REGEX_SUBJECT:
            return (
                f"{where} is a string of {len(value)} characters; regex examines at most "
                f"{MAX_REGEX_SUBJECT}"
            )
        if compiled.search(value) is not None:
            return None
        return f"{where} is {show(value)}, expected a string matching /{text}/"

    return test


# --- numeric --------------------------------------------------------------------------------

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _as_number(value: Any) -> float | None:
    """A JSON number, or a decimal string (form bodies carry numbers as text)."""
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        return None
    return number if math.isfinite(number) else None


def _numeric(operand: Any, path: SpecPath) -> Test:
    usage = 'numeric takes comparisons like [">=", 100, "<", 500]'
    if not isinstance(operand, list) or not operand or len(operand) % 2:
        raise _fail(path, f"{usage}, not {show(operand)}")
    if len(operand) > 2 * _MAX_COMPARISONS:
        raise _fail(path, f"numeric takes at most {_MAX_COMPARISONS} comparisons")
    problems: list[Problem] = []
    checks: list[tuple[str, float]] = []
    for i in range(0, len(operand), 2):
        op, bound = operand[i], operand[i + 1]
        if not isinstance(op, str) or op not in _COMPARE:
            known = " ".join(_COMPARE)
            problems.append(Problem((*path, i), f"unknown comparison {show(op)} (use {known})"))
        if not _is_number(bound) or not math.isfinite(float(bound)):
            problems.append(
                Problem((*path, i + 1), f"numeric compares with a number, not {show(bound)}")
            )
        if not problems:
            checks.append((op, float(bound)))
    if problems:
        raise CompileError(problems)
    wanted = " and ".join(f"{op} {_plain(bound)}" for op, bound in checks)

    def test(value: Any, where: str) -> str | None:
        number = _as_number(value)
        if number is not None and all(_COMPARE[op](number, bound) for op, bound in checks):
            return None
        return f"{where} is {show(value)}, expected a number {wanted}"

    return test


def _plain(number: float) -> str:
    return str(int(number)) if number.is_integer() else repr(number)


# --- cidr -----------------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(operand: Any, path: SpecPath) -> list[Network]:
    items = operand if isinstance(operand, list) else [operand]
    if not items:
        raise _fail(path, "cidr takes a network like 10.0.0.0/8 or a list of them")
    networks: list[Network] = []
    problems: list[Problem] = []
    for i, item in enumerate(items):
        at = (*path, i) if isinstance(operand, list) else path
        if not isinstance(item, str):
            problems.append(Problem(at, f"cidr takes a network like 10.0.0.0/8, not {show(item)}"))
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=True))
        except ValueError as exc:
            problems.append(Problem(at, f"invalid network {item!r}: {exc}"))
    if problems:
        raise CompileError(problems)
    return networks


def _cidr(operand: Any, path: SpecPath) -> Test:
    networks = _networks(operand, path)
    shown = ", ".join(str(n) for n in networks)

    def test(value: Any, where: str) -> str | None:
        if not isinstance(value, str):
            return f"{where} is {show(value)}, expected an IP address in {shown}"
        try:
            address = ipaddress.ip_address(value.strip())
        except ValueError:
            return f"{where} is {show(value)}, not an IP address"
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address.version == n.version and address in n for n in networks):
            return None
        return f"{where} is {show(value)}, expected an address in {shown}"

    return test


OPERATORS: Mapping[str, Factory] = {
    "equals": _equals,
    "prefix": _prefix,
    "suffix": _suffix,
    "equals_ignore_case": _equals_ignore_case,
    "exists": _exists,
    "wildcard": _wildcard,
    "regex": _regex,
    "numeric": _numeric,
    "cidr": _cidr,
}

#: Names other languages use, mapped to ours; a single-key mapping with one is a load error.
_ALIASES = {
    "starts_with": "prefix",
    "startswith": "prefix",
    "begins_with": "prefix",
    "ends_with": "suffix",
    "endswith": "suffix",
    "eq": "equals",
    "equal": "equals",
    "ne": "anything_but",
    "neq": "anything_but",
    "not_equals": "anything_but",
    "gt": "numeric",
    "gte": "numeric",
    "lt": "numeric",
    "lte": "numeric",
    "regexp": "regex",
    "ignore_case": "equals_ignore_case",
    "exist": "exists",
    "or": "any",
    "and": "all",
}


def suggest_operator(key: str, known: list[str]) -> str | None:
    """The operator ``key`` was probably meant to be, when it looks like a misspelt one."""
    normal = key.lower().replace("-", "_")
    if normal in known:
        return normal
    if normal in _ALIASES:
        return _ALIASES[normal]
    close = difflib.get_close_matches(normal, known, n=1, cutoff=0.8)
    return close[0] if close else None
