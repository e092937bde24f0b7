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

    def search(self, data: Any) -> Any:
        """Evaluate; raises ``jmespath.exceptions.JMESPathError`` on a type error."""
        return self.parsed.search(data)


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
        return Expression(text, jmespath.compile(text))
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
