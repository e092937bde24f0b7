"""What an authentic body holds: strict JSON, or a form (a source's ``body_format``), parsed
only after its signature is verified."""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import parse_qsl

__all__ = ["BODY_FORMATS", "MAX_INT_DIGITS", "UnprocessableBody", "parse_body"]

#: A source's ``body_format``: ``auto`` reads the Content-Type and the provider's documented
#: encodings; ``json`` and ``form`` read every body as that, whatever the Content-Type says.
BODY_FORMATS = ("auto", "json", "form")
FORM = "application/x-www-form-urlencoded"

MAX_JSON_DEPTH = 256
#: Longest JSON integer kept (and forwarded) exactly, sign not counted: Python's own default
#: (``sys.int_info.default_max_str_digits``), fixed here so that no interpreter setting
#: (``PYTHONINTMAXSTRDIGITS=0``) makes parsing a long one quadratic.
MAX_INT_DIGITS = 4300


class UnprocessableBody(ValueError):
    """Authentic bytes that relay cannot turn into data; stored, never forwarded."""


def _no_constants(name: str) -> Any:
    raise UnprocessableBody(f"JSON constant {name} is not allowed")


def _finite(text: str) -> float:
    """A JSON number with a fraction or exponent; ``1e400`` would be infinity, which JSON
    cannot carry on to a run's variables."""
    value = float(text)
    if value in (math.inf, -math.inf):
        raise UnprocessableBody(f"JSON number {text[:64]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    """A JSON integer, kept exactly however large, up to ``MAX_INT_DIGITS`` digits."""
    digits = len(text) - (text[:1] == "-")
    if digits > MAX_INT_DIGITS:
        raise UnprocessableBody(
            f"JSON integer with {digits} digits: more than {MAX_INT_DIGITS} are not accepted"
        )
    return int(text)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise UnprocessableBody(f"duplicate JSON key {key[:64]!r}")
            seen.add(key)
    return result


def _depth(text: str) -> int:
    """Maximum nesting of brackets outside strings (cheap pre-check before json.loads)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _form(text: str) -> dict[str, str]:
    try:
        return dict(
            parse_qsl(text, keep_blank_values=True, strict_parsing=False, max_num_fields=10_000)
        )
    except ValueError as exc:
        raise UnprocessableBody(f"invalid form body: {exc}") from None


def _json_text(text: str, what: str = "") -> Any:
    if not text.strip():
        raise UnprocessableBody(f"{what or 'the body'} is empty, expected JSON")
    # Scan for nesting only when there are enough brackets to nest too deep at all.
    openers = text.count("[") + text.count("{")
    if openers > MAX_JSON_DEPTH and _depth(text) > MAX_JSON_DEPTH:
        raise UnprocessableBody(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(
            text,
            parse_constant=_no_constants,
            parse_float=_finite,
            parse_int=_bounded_int,
            object_pairs_hook=_no_duplicates,
        )
    except UnprocessableBody:
        raise
    except (ValueError, RecursionError) as exc:
        prefix = f"{what}: " if what else ""
        raise UnprocessableBody(f"{prefix}invalid JSON: {str(exc)[:200]}") from None


def parse_body(
    body: bytes, content_type: str, *, json_field: str | None = None, body_format: str = "auto"
) -> Any:
    """Parse an authentic body.

    ``auto``: a form (``application/x-www-form-urlencoded``) becomes a dict of its fields,
    except a form that is itself a JSON object or array (``curl -d``), and a form whose
    ``json_field`` holds the event as JSON (GitHub's and Slack's ``payload=``), which become
    that JSON; anything else is strict JSON. ``body_format`` ``json`` or ``form`` forces one.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnprocessableBody(f"the body is not UTF-8 (byte {exc.start})") from None
    if body_format == "form" or (body_format == "auto" and media == FORM):
        if body_format == "auto" and text.lstrip()[:1] in ("{", "["):
            # A JSON object or array sent as a form: what ``curl -d '{...}'`` does (curl's
            # default Content-Type is the form one). Not JSON after all: read as a form.
            try:
                return _json_text(text)
            except UnprocessableBody:
                pass
        fields = _form(text)
        if json_field is not None and json_field in fields:
            return _json_text(fields[json_field], f"the form field {json_field!r}")
        return fields
    return _json_text(text)
