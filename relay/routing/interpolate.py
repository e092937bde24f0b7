"""``${VAR}`` interpolation of configuration strings.

Applied by the loader to string scalar values after YAML parsing, so a variable's value can
never add YAML structure. Supported forms:

* ``${VAR}``: the variable's value; an error when it is unset (an empty value is kept).
* ``${VAR:-default}``: the default when the variable is unset or empty. The default is literal
  text that runs to the first ``}`` (no nesting).
* ``${VAR:?message}``: an error carrying ``message`` when the variable is unset or empty.
* ``$${...}``: the literal text ``${...}``.

A ``$`` that does not start one of these is kept as is. Error messages name variables but
never include their values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["REDACTED", "Interpolated", "interpolate", "redact"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
REDACTED = "<redacted>"


@dataclass(frozen=True)
class Interpolated:
    """The outcome of interpolating one string."""

    value: str
    errors: tuple[str, ...] = ()
    defaulted: tuple[str, ...] = ()  # variables that were unset or empty and took their default
    inserted: tuple[str, ...] = ()  # the non-empty values taken from the environment

    @property
    def from_environment(self) -> bool:
        """Whether any part of ``value`` came from the environment."""
        return bool(self.inserted)


def interpolate(text: str, env: Mapping[str, str]) -> Interpolated:
    """Resolve every reference in ``text``; collect all errors instead of stopping at one."""
    out: list[str] = []
    errors: list[str] = []
    defaulted: list[str] = []
    inserted: list[str] = []
    i = 0
    while True:
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        if text.startswith("$${", j):
            out.append("${")
            i = j + 3
            continue
        if not text.startswith("${", j):
            out.append("$")
            i = j + 1
            continue
        end = text.find("}", j + 2)
        if end < 0:
            errors.append(f"unclosed '${{' at character {j + 1}: missing '}}'")
            break
        body = text[j + 2 : end]
        i = end + 1
        match = _NAME.match(body)
        if match is None:
            errors.append(
                f"invalid reference '${{{body}}}' at character {j + 1}: "
                "expected a variable name ([A-Za-z_][A-Za-z0-9_]*)"
            )
            continue
        name, rest = match.group(), body[match.end() :]
        value = env.get(name)
        if rest == "":
            if value is None:
                errors.append(f"environment variable {name} is not set")
                continue
        elif rest.startswith(":-"):
            if not value:
                out.append(rest[2:])
                defaulted.append(name)
                continue
        elif rest.startswith(":?"):
            if not value:
                errors.append(rest[2:] or f"environment variable {name} is not set or empty")
                continue
        else:
            errors.append(
                f"invalid reference '${{{body}}}' at character {j + 1}: "
                "use ${NAME}, ${NAME:-default} or ${NAME:?message}"
            )
            continue
        out.append(value)
        if value:
            inserted.append(value)
    return Interpolated("".join(out), tuple(errors), tuple(defaulted), tuple(inserted))


def redact(message: str, secrets: Iterable[str]) -> str:
    """Hide values that came from the environment: quoted anywhere, bare when 8+ chars long."""
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(repr(secret), REDACTED)
        if len(secret) >= 8:
            message = message.replace(secret, REDACTED)
    return message
