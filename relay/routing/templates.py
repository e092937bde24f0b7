"""``{{ expression }}`` templates: text with JMESPath placeholders, and nothing else.

``"{{ body.repository.full_name }}#{{ body.issue.number }}"`` renders each placeholder's value:
strings as they are, numbers and booleans as JSON, objects and lists as compact JSON, null as
empty text. There are no filters, attribute access, calls or loops: a placeholder can only
read the event, so a template cannot reach Python objects or the environment. A literal
``{{`` is written ``{{ '{{' }}``; a placeholder's expression cannot contain ``}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from relay.routing.expressions import (
    Expression,
    ExpressionSyntaxError,
    compile_expression,
    render_value,
)

__all__ = ["MAX_TEMPLATE_LENGTH", "Template", "compile_template"]

MAX_TEMPLATE_LENGTH = 4096
_OPEN, _CLOSE = "{{", "}}"


@dataclass(frozen=True, slots=True)
class Template:
    text: str
    parts: tuple[str | Expression, ...]

    def render(self, context: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        """The rendered text, and the placeholders that resolved to nothing (null).

        Raises ``jmespath.exceptions.JMESPathError`` when a placeholder fails.
        """
        out: list[str] = []
        empty: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = part.search(context)
            if value is None:
                empty.append(part.text.strip())
                continue
            out.append(render_value(value))
        return "".join(out), tuple(empty)


def compile_template(text: str) -> Template:
    """Split ``text`` into literal text and compiled placeholders.

    Raises ``ExpressionSyntaxError`` whose ``offset`` is a character of ``text``.
    """
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise ExpressionSyntaxError(
            f"template is {len(text)} characters long (at most {MAX_TEMPLATE_LENGTH})",
            MAX_TEMPLATE_LENGTH,
        )
    parts: list[str | Expression] = []
    i = 0
    while True:
        start = text.find(_OPEN, i)
        if start < 0:
            if text[i:]:
                parts.append(text[i:])
            break
        if start > i:
            parts.append(text[i:start])
        end = text.find(_CLOSE, start + 2)
        if end < 0:
            raise ExpressionSyntaxError("unclosed '{{': missing '}}'", start)
        inner = text[start + 2 : end]
        lead = len(inner) - len(inner.lstrip())
        if not inner.strip():
            raise ExpressionSyntaxError("empty placeholder '{{ }}'", start)
        try:
            parts.append(compile_expression(inner.strip()))
        except ExpressionSyntaxError as exc:
            raise ExpressionSyntaxError(str(exc), start + 2 + lead + exc.offset) from None
        i = end + 2
    return Template(text, tuple(parts))
