"""The JSON API's actions: replay, retry now, cancel or stop (the run of) one delivery, bulk
replay by filter (dry run first, audited), pause or resume a target. Every change is audited
with who made it.

Replaying a succeeded delivery runs its function again: it needs ``{"confirm": true}`` (or
``?confirm=true``), else 409 ``confirm_required``."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relay.admin import endpoints
from relay.admin.api import json_model
from relay.store.base import REPLAYABLE, DeliveryRecord, DeliveryStatus
from relay.store.log_queries import DeliveryQuery
from relay.views import build
from relay.views.answers import BulkReplayResult
from relay.views.filters import FilterError, parse_time
from relay.views.requests import BulkReplayRequest, CancelRequest, ReplayRequest
from relay.web.deps import AdminDeps, actor
from relay.web.errors import ApiError

__all__ = ["action_routes"]

M = TypeVar("M", bound=BaseModel)
_MAX_BODY = 64 * 1024


async def _body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise ApiError(413, "too_large", f"a request body is at most {_MAX_BODY} bytes")
    data: Any = {}
    if raw.strip():
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested too deep to read
            raise ApiError(400, "bad_request", "the body is not JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ApiError(400, "bad_request", f"{where}: {first['msg']}") from None


def _confirmed(request: Request, body: ReplayRequest) -> bool:
    flag = request.query_params.get("confirm", "").strip().lower()
    return body.confirm or flag in ("1", "true", "yes")


def _confirm_required(record: DeliveryRecord) -> ApiError:
    return ApiError(
        409,
        "confirm_required",
        f"delivery {record.id} succeeded: a replay runs function {record.function_id} again "
        'with the same variables (side effects too); send {"confirm": true} to do it',
    )


async def _move(
    deps: AdminDeps,
    change: Awaitable[DeliveryRecord],
    refused: str,
    *,
    notify: bool = True,
) -> Response:
    """One delivery's move by the store: 404 when unknown, 409 ``refused`` with the store's
    reason when its status does not allow it; the delivery as it is now, otherwise."""
    try:
        record = await change
    except KeyError:
        raise ApiError(404, "not_found", "no delivery with this id") from None
    except ValueError as exc:
        raise ApiError(409, refused, str(exc)) from None
    if notify:
        deps.worker.notify(record.target)
    return json_model(build.delivery(deps.redactor(), record))


def action_routes(deps: AdminDeps) -> list[Route]:
    async def replay(request: Request) -> Response:
        delivery_id = request.path_params["delivery_id"]
        body = await _body(request, ReplayRequest)
        current = await deps.store.get_delivery(delivery_id)
        if current is None:
            raise ApiError(404, "not_found", "no delivery with this id")
        if current.status is DeliveryStatus.SUCCEEDED and not _confirmed(request, body):
            raise _confirm_required(current)
        change = deps.store.replay(delivery_id, deps.clock.now(), actor=actor(request))
        return await _move(deps, change, "not_replayable")

    async def retry(request: Request) -> Response:
        delivery_id = request.path_params["delivery_id"]
        change = deps.store.retry_now(delivery_id, deps.clock.now(), actor=actor(request))
        return await _move(deps, change, "not_waiting")

    async def cancel(request: Request) -> Response:
        delivery_id = request.path_params["delivery_id"]
        body = await _body(request, CancelRequest)
        now, who = deps.clock.now(), actor(request)
        change = deps.store.cancel(delivery_id, now, actor=who, reason=body.reason)
        return await _move(deps, change, "not_cancellable", notify=False)

    async def stop(request: Request) -> Response:
        delivery_id = request.path_params["delivery_id"]
        change = deps.store.request_stop(delivery_id, deps.clock.now(), actor=actor(request))
        return await _move(deps, change, "not_stoppable")

    async def bulk_replay(request: Request) -> Response:
        body = await _body(request, BulkReplayRequest)
        if not (body.all or body.route or body.target or body.since or body.reason):
            raise ApiError(
                400, "bad_request", "name what to replay (route, target, since, reason) or all"
            )
        now = deps.clock.now()
        try:
            since = parse_time(body.since, now)
        except FilterError as exc:
            raise ApiError(400, exc.code, exc.detail) from None
        selection = DeliveryQuery(
            statuses=tuple(DeliveryStatus(s) for s in body.status),
            route=body.route,
            target=body.target,
            since=since,
            reason=body.reason,
            limit=body.limit,
            recent_first=True,
        )
        who = actor(request)
        if body.dry_run:
            # as replay_matching: no status named, nothing found (a query's "any")
            found = await deps.store.query_deliveries(selection) if selection.statuses else []
            ids = [d.id for d in found if d.status in REPLAYABLE]
        else:
            ids = await deps.store.replay_matching(selection, now, actor=who)
            deps.worker.notify()
        result = BulkReplayResult(dry_run=body.dry_run, count=len(ids), ids=ids, actor=who)
        return json_model(result)

    async def pause(request: Request) -> Response:
        name = request.path_params["name"]
        paused = request.url.path.endswith("/pause")
        known = {t.state.target for t in await deps.store.target_overview()}
        if name not in deps.configured_targets() and name not in known:
            raise ApiError(404, "not_found", "no target with this name")
        await deps.store.set_target_paused(name, paused, deps.clock.now(), actor=actor(request))
        deps.worker.notify(name)
        overview = {t.state.target: t for t in await deps.store.target_overview()}
        return json_model(build.target(overview[name], deps.configured_targets()))

    return [
        endpoints.REPLAY_DELIVERIES.route(bulk_replay),
        endpoints.REPLAY_DELIVERY.route(replay),
        endpoints.RETRY_DELIVERY.route(retry),
        endpoints.CANCEL_DELIVERY.route(cancel),
        endpoints.STOP_DELIVERY.route(stop),
        endpoints.PAUSE_TARGET.route(pause),
        endpoints.RESUME_TARGET.route(pause),
    ]
