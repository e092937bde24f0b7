"""``relay show ID``: an event (or a delivery's event, or a rejection) in full, for people:
payload and headers with secrets masked, matched routes, variables sent, every attempt with
its outcome, duration, error, run and the function's log lines."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from relay._text import milliseconds, when

if TYPE_CHECKING:
    from relay.views.models import DeliveryDetail, EventDetail

__all__ = ["render_event"]


def _indent(text: str, prefix: str = "    ") -> list[str]:
    return [prefix + line for line in text.splitlines()] or [prefix]


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _delivery(d: DeliveryDetail) -> list[str]:
    lines = [
        f"route {d.route} -> {d.target} (function {d.function_id}): {d.status}, "
        f"{d.budget_used}/{d.max_attempts} attempts used   [{d.id}]"
    ]
    if d.next_attempt_at is not None:
        lines.append(f"  next attempt at {when(d.next_attempt_at)} UTC")
    if d.last_error:
        lines.append(f"  last error: {d.last_error}")
    lines.append("  variables sent:")
    lines.extend(_indent(_json(d.variables)))
    if not d.attempt_log:
        lines.append("  no attempt yet")
    for a in d.attempt_log:
        took = milliseconds(a.duration_ms)
        head = f"  #{a.number} {when(a.started_at)}  {took}  {a.outcome or 'in flight'}"
        if a.status_code is not None:
            head += f"  HTTP {a.status_code}"
        if a.function_run_id:
            head += f"  run {a.function_run_id}"
        if a.run_status:
            head += f" ({a.run_status})"
        lines.append(head)
        if a.error:
            lines.append(f"     error: {a.error}")
        if a.logs:
            lines.append("     function logs:")
            lines.extend(_indent("\n".join(a.logs), "       "))
        if a.result is not None:
            lines.append("     result:")
            lines.extend(_indent(_json(a.result), "       "))
    if d.transitions:
        lines.append("  history:")
        for t in d.transitions:
            moved = f"{t.from_status or '-'} -> {t.to_status}"
            lines.append(f"    {when(t.at)}  {moved:<32} by {t.actor}: {t.reason or ''}".rstrip())
    return lines


def render_event(event: EventDetail, only: str | None = None) -> str:
    """The text ``relay show`` prints; ``only``: a delivery id to show alone."""
    why_unrouted = event.error if event.status == "unrouted" else None
    lines = [
        f"{event.id}  {event.source}  {event.event_type or '-'}  {event.status}"
        + (f" ({event.error})" if event.error and not why_unrouted else ""),
        f"received {when(event.received_at)} UTC from {event.client_ip or '-'}; "
        f"provider id {event.provider_event_id or '-'}; re-deliveries {event.duplicates}",
    ]
    if event.kind == "rejection":
        last = event.last_received_at or event.received_at
        lines.append(f"{event.count} request(s) refused, the last at {when(last)} UTC")
        lines.extend(f"  {sample}" for sample in event.samples)
        lines.append("rejected: only the source, time, reason and client address are kept")
        return "\n".join(lines)
    lines += ["", "headers (credentials masked):"]
    lines.extend(f"  {k}: {v}" for k, v in sorted(event.headers.items()))
    if event.query:
        lines += ["query:", *_indent(_json(event.query), "  ")]
    lines += ["", f"payload ({event.body_bytes} bytes, secrets masked):"]
    lines.extend(_indent(event.payload, "  "))
    deliveries = [d for d in event.deliveries if only is None or d.id == only]
    lines.append("")
    if not deliveries and why_unrouted:
        lines.extend(why_unrouted.splitlines()[:1])
        lines.extend(_indent("\n".join(why_unrouted.splitlines()[1:]), "  "))
    elif not deliveries:
        lines.append("no route matched")
    for d in deliveries:
        lines.extend(_delivery(d))
        lines.append("")
    return "\n".join(lines).rstrip()
