"""The endpoint table: every documented operation (method, path, summary, parameters, bodies,
responses), from which both the routes and ``/api/openapi.json`` are made.

A route of the JSON API is built with ``OPERATION.route(handler)`` (relay/admin/api.py,
actions.py, reload.py, metrics_route.py), and the OpenAPI paths are generated from
``ENDPOINTS`` (relay/admin/openapi.py): a route cannot exist without its operation. Schemas
are references to the view models (relay/views/models.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.routing import Route

from relay.views.answers import BulkReplayResult, ConfigStatus, ErrorBody, ReloadResult
from relay.views.filters import DELIVERY_STATUSES, EVENT_STATUSES, MAX_LIMIT
from relay.views.models import (
    Delivery,
    DeliveryDetail,
    DeliveryPage,
    EventDetail,
    EventPage,
    Stats,
    Target,
)
from relay.views.requests import BulkReplayRequest, CancelRequest, ReplayRequest

__all__ = ["ENDPOINTS", "ERRORS", "REF", "Operation", "json_content", "ref"]

REF = "#/components/schemas/{model}"
ERRORS = {
    "400": "a bad filter, cursor or body",
    "401": "no admin token or session (or a wrong token)",
    "403": "loopback only without RELAY_ADMIN_TOKEN, or a missing CSRF token",
    "404": "no such resource",
    "409": "not allowed in the delivery's current status",
    "408": "the body did not fully arrive within the receive deadline",
    "413": "the body is too large (admin bodies: at most 1 MiB)",
    "422": "the config file was refused; the old rules stay in force",
    "429": "too many failed logins from this address",
}
_ID = r"^[A-Za-z0-9_.\-]{1,200}$"
_TIME = "an age (30m, 1h, 2d), Unix seconds or an ISO 8601 time"


@dataclass(frozen=True)
class Operation:
    """One endpoint: its route and its OpenAPI operation. ``errors`` are codes of ``ERRORS``
    answered with an ``ErrorBody``; ``public`` endpoints need no auth (no 401/403/429).
    ``responses`` and ``request_body``, when given, are written out whole (bodies that are
    not view models: the webhook receiver's, the readiness probe's)."""

    method: str
    path: str
    operation_id: str
    summary: str
    ok: Mapping[str, Any]
    errors: tuple[str, ...] = ()
    parameters: tuple[Mapping[str, Any], ...] = ()
    body: type | None = None  # a request model (relay/views/requests.py)
    public: bool = False
    tag: str = "admin"
    responses: Mapping[str, Any] | None = None
    request_body: Mapping[str, Any] | None = None

    def route(self, endpoint: Any) -> Route:
        """The route answering this operation with ``endpoint`` (a request handler)."""
        return Route(self.path, endpoint, methods=[self.method])


def ref(model: type) -> dict[str, str]:
    """A reference to the schema of a view or request class, by its name."""
    return {"$ref": REF.format(model=model.__name__)}


def json_content(schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string", "maxLength": 200},
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "pattern": _ID},
    }


_PAGE = (
    _query("limit", "page size", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
    _query("cursor", "the next_cursor of the page before"),
)
_EVENT_FILTERS = (
    _query("source", "the source's name"),
    _query("status", "event status", {"type": "string", "enum": list(EVENT_STATUSES)}),
    _query("route", "events with a delivery for this route"),
    _query("since", f"received at or after: {_TIME}"),
    _query("until", f"received before: {_TIME}"),
    _query("q", "a piece of the event id or the provider's event id"),
    _query("body", "a piece of the payload (ASCII letters in any case); events only"),
    *_PAGE,
)
_STATUSES = {"type": "array", "items": {"type": "string", "enum": list(DELIVERY_STATUSES)}}
_DELIVERY_FILTERS = (
    _query("status", "delivery statuses (repeat or comma-separate)", _STATUSES),
    _query("route", "the route's name"),
    _query("target", "the target's name"),
    _query("event_id", "the event's id"),
    _query("since", f"updated at or after: {_TIME}"),
    _query("until", f"updated before: {_TIME}"),
    _query("reason", "a piece of the last error"),
    *_PAGE,
)
_DELIVERY_ID = _path("delivery_id", "a delivery id (dlv_...)")
_TARGET_NAME = _path("name", "a target's name")
_BODY_ERRORS = ("408", "413")  # every endpoint that reads a body (relay/admin/body_limit.py)

# --- the JSON API's reads (relay/admin/api.py) --------------------------------------------
LIST_EVENTS = Operation(
    "GET",
    "/api/events",
    "listEvents",
    "Events and rejected requests, newest first",
    json_content(ref(EventPage), "a page of events"),
    ("400",),
    parameters=_EVENT_FILTERS,
)
GET_EVENT = Operation(
    "GET",
    "/api/events/{event_id}",
    "getEvent",
    "An event: payload, headers, routes, attempts, function logs",
    json_content(ref(EventDetail), "the event, secrets masked"),
    ("404",),
    parameters=(_path("event_id", "an event id (evt_...) or rejection (rej_...)"),),
)
LIST_DELIVERIES = Operation(
    "GET",
    "/api/deliveries",
    "listDeliveries",
    "Deliveries, newest first (dead letters: status=dead,failed,needs_review)",
    json_content(ref(DeliveryPage), "a page of deliveries"),
    ("400",),
    parameters=_DELIVERY_FILTERS,
)
GET_DELIVERY = Operation(
    "GET",
    "/api/deliveries/{delivery_id}",
    "getDelivery",
    "A delivery with its attempts and transitions",
    json_content(ref(DeliveryDetail), "the delivery"),
    ("404",),
    parameters=(_DELIVERY_ID,),
)
LIST_TARGETS = Operation(
    "GET",
    "/api/targets",
    "listTargets",
    "Targets: pause, breaker, in flight against the limit, queue",
    json_content({"type": "array", "items": ref(Target)}, "every target"),
)
GET_STATS = Operation(
    "GET",
    "/api/stats",
    "getStats",
    "Per source and per route counts and success rates over a window",
    json_content(ref(Stats), "the counts"),
    ("400",),
    parameters=(
        _query("since", f"window start (default 24h): {_TIME}"),
        _query("until", f"window end (default now): {_TIME}"),
    ),
)
GET_CONFIG = Operation(
    "GET",
    "/api/config",
    "getConfig",
    "The config in force: hash, load time, last reload error",
    json_content(ref(ConfigStatus), "the config status"),
)

# --- the JSON API's actions (relay/admin/actions.py, reload.py) ---------------------------
REPLAY_DELIVERY = Operation(
    "POST",
    "/api/deliveries/{delivery_id}/replay",
    "replayDelivery",
    "Re-queue a finished delivery with a fresh attempt budget (a succeeded one "
    "runs its function again: confirm: true, else 409 confirm_required)",
    json_content(ref(Delivery), "the delivery, pending again"),
    ("400", "404", "409", *_BODY_ERRORS),
    parameters=(
        _DELIVERY_ID,
        _query("confirm", "true: replay a succeeded delivery", {"type": "boolean"}),
    ),
    body=ReplayRequest,
)
RETRY_DELIVERY = Operation(
    "POST",
    "/api/deliveries/{delivery_id}/retry",
    "retryDeliveryNow",
    "Send a waiting (retry_scheduled or paused) delivery now, same budget (audited)",
    json_content(ref(Delivery), "the delivery, pending and due now"),
    ("404", "409", *_BODY_ERRORS),
    parameters=(_DELIVERY_ID,),
)
CANCEL_DELIVERY = Operation(
    "POST",
    "/api/deliveries/{delivery_id}/cancel",
    "cancelDelivery",
    "Cancel a pending, scheduled, paused or held delivery",
    json_content(ref(Delivery), "the delivery, cancelled"),
    ("400", "404", "409", *_BODY_ERRORS),
    parameters=(_DELIVERY_ID,),
    body=CancelRequest,
)
STOP_DELIVERY = Operation(
    "POST",
    "/api/deliveries/{delivery_id}/stop",
    "stopDelivery",
    "Stop the Notte run of a running delivery (through the API's stop; audited)",
    json_content(ref(Delivery), "the delivery, its stop requested"),
    ("404", "409", *_BODY_ERRORS),
    parameters=(_DELIVERY_ID,),
)
REPLAY_DELIVERIES = Operation(
    "POST",
    "/api/deliveries/replay",
    "replayDeliveries",
    "Re-queue every dead letter a filter selects (audited; dry_run to preview)",
    json_content(ref(BulkReplayResult), "what was (or would be) re-queued"),
    ("400", *_BODY_ERRORS),
    body=BulkReplayRequest,
)
PAUSE_TARGET = Operation(
    "POST",
    "/api/targets/{name}/pause",
    "pauseTarget",
    "Stop sending to a target (audited)",
    json_content(ref(Target), "the target"),
    ("404", *_BODY_ERRORS),
    parameters=(_TARGET_NAME,),
)
RESUME_TARGET = Operation(
    "POST",
    "/api/targets/{name}/resume",
    "resumeTarget",
    "Send to a paused target again (audited)",
    json_content(ref(Target), "the target"),
    ("404", *_BODY_ERRORS),
    parameters=(_TARGET_NAME,),
)
RELOAD_CONFIG = Operation(
    "POST",
    "/api/config/reload",
    "reloadConfig",
    "Reload the config file now",
    json_content(ref(ReloadResult), "valid: new rules in force when it changed"),
    ("422", *_BODY_ERRORS),
)

# --- operations (relay/admin/metrics_route.py; relay/http/app.py) -------------------------
GET_METRICS = Operation(
    "GET",
    "/metrics",
    "getMetrics",
    "Prometheus metrics (text exposition format 0.0.4)",
    {"description": "the metrics", "content": {"text/plain": {"schema": {"type": "string"}}}},
    tag="operations",
)
HEALTHZ = Operation(
    "GET",
    "/healthz",
    "healthz",
    "The process is up",
    json_content({"type": "object"}, "up"),
    public=True,
    tag="operations",
)
READYZ = Operation(
    "GET",
    "/readyz",
    "readyz",
    "Store reachable, config loaded, worker alive",
    json_content({"type": "object"}, "ready"),
    public=True,
    tag="operations",
    responses={
        "200": json_content({"type": "object"}, "ready"),
        "503": json_content({"type": "object"}, "not ready: which part is not"),
    },
)

# --- the webhook receiver (relay/http/app.py) ---------------------------------------------
_HOOK_ERRORS = (
    ("400", "a GET that is not the provider's handshake"),
    ("401", "missing or wrong signature; the reason code in error"),
    ("404", "no source with this name"),
    ("405", "a method the source does not take"),
    ("408", "the body did not fully arrive within the receive deadline"),
    (
        "413",
        "the body is over the source's max_body_bytes (compressed "
        "bodies: once inflated), or inflates past 200 times its size",
    ),
    ("415", "multipart bodies are not accepted"),
    (
        "503",
        "the store cannot write now, or too many bodies are being received at once (busy); retry",
    ),
)
RECEIVE_WEBHOOK = Operation(
    "POST",
    "/hooks/{source}",
    "receiveWebhook",
    "Receive a provider's webhook (verified by the source's provider)",
    json_content(
        {
            "type": "object",
            "properties": {"id": {"type": "string"}, "duplicate": {"type": "boolean"}},
        },
        "stored (or a re-delivery of a stored event)",
    ),
    parameters=(_path("source", "the source's name in the config"),),
    public=True,
    tag="webhooks",
    request_body={"required": False, "content": {"application/json": {"schema": {}}}},
    responses={
        "200": {
            "description": "stored, a re-delivery, or a handshake's answer",
            "content": {
                "application/json": {"schema": {}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        **{code: json_content(ref(ErrorBody), text) for code, text in _HOOK_ERRORS},
    },
)

ENDPOINTS: tuple[Operation, ...] = (
    LIST_EVENTS,
    GET_EVENT,
    LIST_DELIVERIES,
    GET_DELIVERY,
    REPLAY_DELIVERY,
    RETRY_DELIVERY,
    CANCEL_DELIVERY,
    STOP_DELIVERY,
    REPLAY_DELIVERIES,
    LIST_TARGETS,
    PAUSE_TARGET,
    RESUME_TARGET,
    GET_STATS,
    GET_CONFIG,
    RELOAD_CONFIG,
    GET_METRICS,
    RECEIVE_WEBHOOK,
    HEALTHZ,
    READYZ,
)
