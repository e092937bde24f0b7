"""The OpenAPI 3.1 document served at ``/api/openapi.json``: every endpoint, its parameters,
bodies and responses (errors included). Schemas come from the view models
(relay/views/models.py), so the document and the answers cannot drift apart."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from relay import __version__
from relay.views.filters import DELIVERY_STATUSES, EVENT_STATUSES, MAX_LIMIT
from relay.views.models import (
    BulkReplayRequest,
    BulkReplayResult,
    CancelRequest,
    ConfigStatus,
    Delivery,
    DeliveryDetail,
    DeliveryPage,
    ErrorBody,
    EventDetail,
    EventPage,
    ReloadResult,
    ReplayRequest,
    Stats,
    Target,
)

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_RESPONSES: tuple[type[BaseModel], ...] = (
    BulkReplayResult,
    ConfigStatus,
    Delivery,
    DeliveryDetail,
    DeliveryPage,
    ErrorBody,
    EventDetail,
    EventPage,
    ReloadResult,
    Stats,
    Target,
)
_REQUESTS: tuple[type[BaseModel], ...] = (BulkReplayRequest, CancelRequest, ReplayRequest)
_ERRORS = {
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


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _REF.format(model=model.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
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


_TIME = "an age (30m, 1h, 2d), Unix seconds or an ISO 8601 time"
_PAGE = [
    _query("limit", "page size", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
    _query("cursor", "the next_cursor of the page before"),
]


def _operation(
    op_id: str,
    summary: str,
    ok: dict[str, Any],
    errors: tuple[str, ...],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: type[BaseModel] | None = None,
    public: bool = False,
    tag: str = "admin",
) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok}
    auth = () if public else ("401", "403", "429")
    for code in sorted({*errors, *auth}):
        responses[code] = _json(_ref(ErrorBody), _ERRORS[code])
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "tags": [tag],
        "responses": responses,
    }
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    if public:
        op["security"] = []
    return op


def _paths() -> dict[str, Any]:
    event_filters = [
        _query("source", "the source's name"),
        _query("status", "event status", {"type": "string", "enum": list(EVENT_STATUSES)}),
        _query("route", "events with a delivery for this route"),
        _query("since", f"received at or after: {_TIME}"),
        _query("until", f"received before: {_TIME}"),
        _query("q", "a piece of the event id or the provider's event id"),
        _query("body", "a piece of the payload (ASCII letters in any case); events only"),
        *_PAGE,
    ]
    statuses = {"type": "array", "items": {"type": "string", "enum": list(DELIVERY_STATUSES)}}
    delivery_filters = [
        {**_query("status", "delivery statuses (repeat or comma-separate)", statuses)},
        _query("route", "the route's name"),
        _query("target", "the target's name"),
        _query("event_id", "the event's id"),
        _query("since", f"updated at or after: {_TIME}"),
        _query("until", f"updated before: {_TIME}"),
        _query("reason", "a piece of the last error"),
        *_PAGE,
    ]
    delivery_id = _path("delivery_id", "a delivery id (dlv_...)")
    target_name = _path("name", "a target's name")
    return {
        "/api/events": {
            "get": _operation(
                "listEvents",
                "Events and rejected requests, newest first",
                _json(_ref(EventPage), "a page of events"),
                ("400",),
                parameters=event_filters,
            )
        },
        "/api/events/{event_id}": {
            "get": _operation(
                "getEvent",
                "An event: payload, headers, routes, attempts, function logs",
                _json(_ref(EventDetail), "the event, secrets masked"),
                ("404",),
                parameters=[_path("event_id", "an event id (evt_...) or rejection (rej_...)")],
            )
        },
        "/api/deliveries": {
            "get": _operation(
                "listDeliveries",
                "Deliveries, newest first (dead letters: status=dead,failed,needs_review)",
                _json(_ref(DeliveryPage), "a page of deliveries"),
                ("400",),
                parameters=delivery_filters,
            )
        },
        "/api/deliveries/{delivery_id}": {
            "get": _operation(
                "getDelivery",
                "A delivery with its attempts and transitions",
                _json(_ref(DeliveryDetail), "the delivery"),
                ("404",),
                parameters=[delivery_id],
            )
        },
        "/api/deliveries/{delivery_id}/replay": {
            "post": _operation(
                "replayDelivery",
                "Re-queue a finished delivery with a fresh attempt budget (a succeeded one "
                "runs its function again: confirm: true, else 409 confirm_required)",
                _json(_ref(Delivery), "the delivery, pending again"),
                ("400", "404", "408", "409", "413"),
                parameters=[
                    delivery_id,
                    _query("confirm", "true: replay a succeeded delivery", {"type": "boolean"}),
                ],
                body=ReplayRequest,
            )
        },
        "/api/deliveries/{delivery_id}/retry": {
            "post": _operation(
                "retryDeliveryNow",
                "Send a waiting (retry_scheduled or paused) delivery now, same budget (audited)",
                _json(_ref(Delivery), "the delivery, pending and due now"),
                ("404", "408", "409", "413"),
                parameters=[delivery_id],
            )
        },
        "/api/deliveries/{delivery_id}/cancel": {
            "post": _operation(
                "cancelDelivery",
                "Cancel a pending, scheduled, paused or held delivery",
                _json(_ref(Delivery), "the delivery, cancelled"),
                ("400", "404", "408", "409", "413"),
                parameters=[delivery_id],
                body=CancelRequest,
            )
        },
        "/api/deliveries/{delivery_id}/stop": {
            "post": _operation(
                "stopDelivery",
                "Stop the Notte run of a running delivery (through the API's stop; audited)",
                _json(_ref(Delivery), "the delivery, its stop requested"),
                ("404", "408", "409", "413"),
                parameters=[delivery_id],
            )
        },
        "/api/deliveries/replay": {
            "post": _operation(
                "replayDeliveries",
                "Re-queue every dead letter a filter selects (audited; dry_run to preview)",
                _json(_ref(BulkReplayResult), "what was (or would be) re-queued"),
                ("400", "408", "413"),
                body=BulkReplayRequest,
            )
        },
        "/api/targets": {
            "get": _operation(
                "listTargets",
                "Targets: pause, breaker, in flight against the limit, queue",
                _json({"type": "array", "items": _ref(Target)}, "every target"),
                (),
            )
        },
        "/api/targets/{name}/pause": {
            "post": _operation(
                "pauseTarget",
                "Stop sending to a target (audited)",
                _json(_ref(Target), "the target"),
                ("404", "408", "413"),
                parameters=[target_name],
            )
        },
        "/api/targets/{name}/resume": {
            "post": _operation(
                "resumeTarget",
                "Send to a paused target again (audited)",
                _json(_ref(Target), "the target"),
                ("404", "408", "413"),
                parameters=[target_name],
            )
        },
        "/api/stats": {
            "get": _operation(
                "getStats",
                "Per source and per route counts and success rates over a window",
                _json(_ref(Stats), "the counts"),
                ("400",),
                parameters=[
                    _query("since", f"window start (default 24h): {_TIME}"),
                    _query("until", f"window end (default now): {_TIME}"),
                ],
            )
        },
        "/api/config": {
            "get": _operation(
                "getConfig",
                "The config in force: hash, load time, last reload error",
                _json(_ref(ConfigStatus), "the config status"),
                (),
            )
        },
        "/api/config/reload": {
            "post": _operation(
                "reloadConfig",
                "Reload the config file now",
                _json(_ref(ReloadResult), "valid: new rules in force when it changed"),
                ("408", "413", "422"),
            )
        },
        "/metrics": {
            "get": _operation(
                "getMetrics",
                "Prometheus metrics (text exposition format 0.0.4)",
                {
                    "description": "the metrics",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                },
                (),
                tag="operations",
            )
        },
        "/hooks/{source}": {
            "post": {
                **_operation(
                    "receiveWebhook",
                    "Receive a provider's webhook (verified by the source's provider)",
                    _json(
                        {
                            "type": "object",
                            "properties": {
                                "id": {"type": "string"},
                                "duplicate": {"type": "boolean"},
                            },
                        },
                        "stored (or a re-delivery of a stored event)",
                    ),
                    (),
                    parameters=[_path("source", "the source's name in the config")],
                    public=True,
                    tag="webhooks",
                ),
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {}}},
                },
                "responses": {
                    "200": {
                        "description": "stored, a re-delivery, or a handshake's answer",
                        "content": {
                            "application/json": {"schema": {}},
                            "text/plain": {"schema": {"type": "string"}},
                        },
                    },
                    **{
                        code: _json(_ref(ErrorBody), text)
                        for code, text in (
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
                                "the store cannot write now, or too many bodies are being "
                                "received at once (busy); retry",
                            ),
                        )
                    },
                },
            }
        },
        "/healthz": {
            "get": _operation(
                "healthz",
                "The process is up",
                _json({"type": "object"}, "up"),
                (),
                public=True,
                tag="operations",
            )
        },
        "/readyz": {
            "get": {
                **_operation(
                    "readyz",
                    "Store reachable, config loaded, worker alive",
                    _json({"type": "object"}, "ready"),
                    (),
                    public=True,
                    tag="operations",
                ),
                "responses": {
                    "200": _json({"type": "object"}, "ready"),
                    "503": _json({"type": "object"}, "not ready: which part is not"),
                },
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    _, responses = models_json_schema(
        [(m, "serialization") for m in _RESPONSES] + [(m, "validation") for m in _REQUESTS],
        ref_template=_REF,
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "relay admin API",
            "version": __version__,
            "description": (
                "Read relay's delivery log and act on it. Lists are pages: ?limit= and "
                "?cursor= (the next_cursor of the page before). Errors are "
                '{"error": code, "detail": text}. Authenticate with '
                "Authorization: Bearer $RELAY_ADMIN_TOKEN (without a token set, only "
                "loopback clients are answered)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": _paths(),
        "components": {
            "schemas": responses.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "relay_session"},
            },
        },
    }
