"""One alert: what happened, to what, and its text for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relay.alerts.config import AlertKind

__all__ = ["Alert"]

_TITLES = {
    AlertKind.DEAD: "delivery {status} on route {route}",
    AlertKind.NEEDS_REVIEW: "delivery needs review on route {route}",
    AlertKind.BREAKER_OPEN: "circuit breaker open for target {target}",
    AlertKind.MAPPING_FAILED: "mapping failed on route {route}",
}


@dataclass(frozen=True, slots=True)
class Alert:
    kind: AlertKind
    subject: str  # the route, or the target for a breaker: what alerts are deduplicated by
    at: float
    fields: dict[str, str] = field(default_factory=dict)  # ids, status, error (no body)
    suppressed: int = 0  # alerts of the same key left out since the last one sent

    @property
    def key(self) -> tuple[AlertKind, str]:
        return (self.kind, self.subject)

    @property
    def title(self) -> str:
        values = {"route": self.subject, "target": self.subject, "status": "dead"}
        values.update(self.fields)
        return _TITLES[self.kind].format(**values)

    def text(self) -> str:
        lines = [f"relay: {self.title}"]
        lines += [f"{k}: {v}" for k, v in sorted(self.fields.items())]
        if self.suppressed:
            lines.append(f"(and {self.suppressed} more like it since the last notification)")
        return "\n".join(lines)

    def data(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "title": self.title,
            "suppressed": self.suppressed,
            **self.fields,
        }
