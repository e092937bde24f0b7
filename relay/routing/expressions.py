"""JMESPath expressions in the routing file: compiled at load, bounded, errors located.

JMESPath is the one expression language of the routing file (``when:``, variables, templates,
dedupe keys). It is side-effect free: no assignment, no loops, no I/O, and only its built-in
functions (none can read the environment or the file system). Its cost is bounded by the
expression's length (``MAX_EXPRESSION_LENGTH``) times the size of the event (each source's
``max_body_bytes``): there is no recursion or unbounded iteration in the language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jmespath
import jmespath.exceptions
from jmespath.parser import ParsedResult

__all__ = [
    "MAX_EXPRESSION_LENGTH",
    "Expression",
    "ExpressionSyntaxError",
    "compile_expression",
    "is_truthy",
    "render_value",
]

MAX_EXPRESSION_LENGTH = 1024


class ExpressionSyntaxError(ValueError):
    """An expression that does not compile; ``offset`` is the character at fault."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Expression:
    text: str
    parsed: ParsedResult
    #: The keys of a plain field path (``body.issue.number``), which is most of them: walked
    #: directly, with JMESPath's result (a step into anything but an object finds nothing)
    #: and without its interpreter (a tenth of the cost).
    fields: tuple[str, ...] | None = None

    def search(self, data: Any) -> Any:
        """Evaluate; raises ``jmespath.exceptions.JMESPathError`` on a type error."""
        fields = self.fields
        if fields is None:
            return self.parsed.search(data)
        for key in fields:
            try:
                data = data.get(key)
            except AttributeError:  # as JMESPath: a field of a non-object is null
                return None
        return data


def _field_path(node: Any) -> tuple[str, ...] | None:
    """The keys of an AST made of fields and sub-expressions only, else None."""
    if not isinstance(node, dict):
        return None
    kind = node.get("type")
    if kind == "field":
        value = node.get("value")
        return (value,) if isinstance(value, str) else None
    if kind == "subexpression":
        keys: tuple[str, ...] = ()
        for child in node.get("children") or ():
            part = _field_path(child)
            if part is None:
                return None
            keys += part
        return keys or None
    return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def compile_expression(text: str) -> Expression:
    """Compile a JMESPath expression; raises ``ExpressionSyntaxError`` with its offset."""
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", 0)
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionSyntaxError(
            f"expression is {len(text)} characters long (at most {MAX_EXPRESSION_LENGTH})",
            MAX_EXPRESSION_LENGTH,
        )
    try:
        parsed = jmespath.compile(text)
        return Expression(text, parsed, _field_path(parsed.parsed))
    except jmespath.exceptions.IncompleteExpressionError as exc:
        raise ExpressionSyntaxError(
            "invalid expression: incomplete expression", _clamp(exc.lex_position, text)
        ) from None
    except jmespath.exceptions.LexerError as exc:
        detail = _first_line(str(exc)).removeprefix("Bad jmespath expression: ").rstrip(":")
        raise ExpressionSyntaxError(
            f"invalid expression: {detail}", _clamp(exc.lexer_position, text)
        ) from None
    except jmespath.exceptions.ParseError as exc:
        token = exc.token_value
        detail = f"unexpected token {token!r}" if token else "unexpected end of expression"
        raise ExpressionSyntaxError(
            f"invalid expression: {detail}", _clamp(exc.lex_position, text)
        ) from None
    except RecursionError:
        raise ExpressionSyntaxError("invalid expression: nested too deeply", 0) from None


def _clamp(position: object, text: str) -> int:
    if not isinstance(position, int):
        return 0
    return max(0, min(position, len(text)))


def is_truthy(value: Any) -> bool:
    """JMESPath truthiness: false, null, "", [] and {} are false; everything else is true."""
    if value is None or value is False:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def render_value(value: Any) -> str:
    """A value as text: strings as they are, everything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
