"""The CLI's tables: columns padded to their widest cell, deliveries with their reason cut
between words and, for one still to be sent, when its next attempt is due. Rows are read
from the views models (``relay.views.models``), the shapes ``--json`` prints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from relay._text import shorten, when

if TYPE_CHECKING:
    from relay.redact import Redactor
    from relay.views.models import Delivery

__all__ = ["delivery_rows", "format_table", "next_cell", "run_note"]

_RUNNING = ("running", "in_flight")


def format_table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _in(seconds: float) -> str:
    if seconds < 1:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"in {seconds / size:.0f}{unit}"
    return f"in {seconds:.0f}s"


def next_cell(d: Delivery, now: float) -> str:
    """When a delivery still to be sent is due: ``2024-05-01 10:00:05 (in 4m)``."""
    waiting = d.status == "pending" or d.retryable_now
    if not waiting or d.next_attempt_at is None:
        return "-"
    return f"{when(d.next_attempt_at)} ({_in(d.next_attempt_at - now)})"


def _elapsed(seconds: float) -> str:
    s = max(0, int(seconds))
    h, m = divmod(s // 60, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s % 60:02d}s" if m else f"{s}s"


def run_note(d: Delivery, now: float) -> str | None:
    """For a delivery whose run is going: its id, how long it has run, a pending stop."""
    if d.function_run_id is None or d.status not in _RUNNING:
        return None
    note = f"run {d.function_run_id}"
    if d.run_started_at is not None:
        note += f", running {_elapsed(now - d.run_started_at)}"
    if d.stop_requested_by is not None:
        note += f", stop requested by {d.stop_requested_by}"
    return note


def delivery_rows(
    deliveries: list[Delivery], now: float, r: Redactor, attempts: str = "budget"
) -> str:
    """The deliveries table of ``relay deliveries`` and ``relay dlq``: reasons cut between
    words (``relay deliveries show ID`` has them whole). ``deliveries`` are already redacted;
    ``r`` also cuts what a run note quotes."""
    return format_table(
        [
            [
                d.id,
                d.status,
                d.route,
                f"{d.budget_used if attempts == 'budget' else d.attempts}/{d.max_attempts}",
                when(d.updated_at),
                next_cell(d, now),
                shorten(r.text(run_note(d, now) or d.last_error or ""), 72),
            ]
            for d in deliveries
        ],
        [
            "ID",
            "STATUS",
            "ROUTE",
            "ATTEMPTS",
            "UPDATED (UTC)",
            "NEXT ATTEMPT (UTC)",
            "REASON / RUN",
        ],
    )
