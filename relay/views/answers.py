"""The admin API's answers that are not log views (``relay.views.models``): its errors, the
config in force, a reload's and a bulk replay's outcome; in the OpenAPI document too."""

from __future__ import annotations

from dataclasses import dataclass, field

from relay.views._shape import View, doc

__all__ = ["BulkReplayResult", "ConfigStatus", "ErrorBody", "ReloadResult"]


@dataclass(frozen=True, kw_only=True)
class ErrorBody(View):
    """Every error answer: a stable code and a sentence for people."""

    error: str = field(metadata=doc("a stable code: bad_filter, bad_cursor, not_found, ..."))
    detail: str


@dataclass(frozen=True, kw_only=True)
class ConfigStatus(View):
    path: str
    sha256: str
    loaded_at: float
    last_error: str | None
    last_error_at: float | None
    sources: list[str]
    routes: int
    targets: list[str]


@dataclass(frozen=True, kw_only=True)
class BulkReplayResult(View):
    dry_run: bool
    count: int
    ids: list[str]
    actor: str


@dataclass(frozen=True, kw_only=True)
class ReloadResult(View):
    ok: bool
    changed: bool
    trigger: str
    config_sha256: str
    loaded_at: float
    errors: list[str]
    duration_ms: float
