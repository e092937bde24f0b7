"""The OpenAPI 3.1 document served at ``/api/openapi.json``, generated from the endpoint table
(relay/admin/endpoints.py) the routes are made from: every endpoint, its parameters, bodies
and responses (errors included). Schemas come from the view models (relay/views/models.py),
so the document and the answers cannot drift apart."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter

from relay import __version__
from relay.admin.endpoints import ENDPOINTS, ERRORS, REF, Operation, json_content, ref
from relay.views.answers import BulkReplayResult, ConfigStatus, ErrorBody, ReloadResult
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

__all__ = ["openapi_document", "operation_object", "paths"]

_RESPONSES: tuple[type, ...] = (
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
_REQUESTS: tuple[type, ...] = (BulkReplayRequest, CancelRequest, ReplayRequest)
_AUTH_ERRORS = ("401", "403", "429")


def operation_object(op: Operation) -> dict[str, Any]:
    """The OpenAPI operation object of one endpoint."""
    responses: dict[str, Any] = {"200": dict(op.ok)}
    auth = () if op.public else _AUTH_ERRORS
    for code in sorted({*op.errors, *auth}):
        responses[code] = json_content(ref(ErrorBody), ERRORS[code])
    found: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": dict(op.responses) if op.responses is not None else responses,
    }
    if op.parameters:
        found["parameters"] = [dict(p) for p in op.parameters]
    if op.body is not None:
        found["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": ref(op.body)}},
        }
    if op.request_body is not None:
        found["requestBody"] = dict(op.request_body)
    if op.public:
        found["security"] = []
    return found


def paths(endpoints: Iterable[Operation] = ENDPOINTS) -> dict[str, Any]:
    """The document's ``paths``: one operation per (method, path) of the table."""
    found: dict[str, dict[str, Any]] = {}
    for op in endpoints:
        methods = found.setdefault(op.path, {})
        if op.method.lower() in methods:
            raise ValueError(f"{op.method} {op.path} declared twice")
        methods[op.method.lower()] = operation_object(op)
    return found


def openapi_document() -> dict[str, Any]:
    _, responses = TypeAdapter.json_schemas(
        [(m, "serialization", TypeAdapter(m)) for m in _RESPONSES]
        + [(m, "validation", TypeAdapter(m)) for m in _REQUESTS],
        ref_template=REF,
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
        "paths": paths(),
        "components": {
            "schemas": responses.get("$defs", {}),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "relay_session"},
            },
        },
    }
