"""Why an event matched no route: the closest routes and what differed, stored on the event.

Built from the same decisions the live path makes (``relay.routing.evaluate``) and the same
explanations ``relay route`` prints (each condition's ``Matcher`` reason); it runs only for
events that no route took. The text's first line is a summary, then one line per route,
closest first (the fewest conditions that do not hold, then file order).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from relay.redact import secret_key
from relay.routing.evaluate import RouteDecision

__all__ = ["MAX_SHOWN", "why_unrouted"]

MAX_SHOWN: Final = 3  # routes named; the rest are counted
_MAX_REASON: Final = 300


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3].rstrip() + "..."


def _shown(reason: str) -> str:
    """The reason, unless it is about a secret-looking field (``body.token``): it would quote
    the value found, so only the field is named."""
    where = reason.split(" ", 1)[0]
    if any(secret_key(part) for part in re.split(r"[.\[\]]", where) if part):
        return f"{where} is not as the route expects (a secret-looking field: value not shown)"
    return _cut(reason)


def _body_hint(body: Any, content_type: str) -> str | None:
    if "application/x-www-form-urlencoded" in content_type.lower() and isinstance(body, dict):
        fields = ", ".join(repr(k) for k in list(body)[:5])
        return (
            f"the body was read as a form (fields {fields}): send JSON with "
            "'Content-Type: application/json', or set the source's body_format: json"
        )
    return None


def why_unrouted(
    source: str,
    decisions: Sequence[RouteDecision],
    context: Mapping[str, Any],
    content_type: str = "",
) -> str:
    """The explanation for an event of ``source`` that none of ``decisions`` delivered."""
    if not decisions:
        return f"no route matched: source {source!r} has no routes"
    ranked: list[tuple[int, int, str, str]] = []
    for order, decision in enumerate(decisions):
        held, reasons = decision.route.matcher.differences(context)
        total = held + len(reasons)
        if not reasons:  # every condition holds, yet no delivery: say what the decision says
            reasons = [decision.reason or "not evaluated"]
        why = "; ".join(_shown(reason) for reason in reasons)
        ranked.append(
            (
                len(reasons),
                order,
                decision.route.name,
                f"route {decision.route.name!r} ({held} of {total} conditions hold): {why}",
            )
        )
    ranked.sort()
    lines = [f"no route matched; closest: {ranked[0][2]!r}"]
    lines += [text for _, _, _, text in ranked[:MAX_SHOWN]]
    if len(ranked) > MAX_SHOWN:
        lines.append(f"and {len(ranked) - MAX_SHOWN} more (relay route --event shows them all)")
    hint = _body_hint(context.get("body"), content_type)
    if hint is not None:
        lines.append(hint)
    return "\n".join(lines)
