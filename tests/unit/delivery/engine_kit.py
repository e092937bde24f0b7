"""Shared pieces of the in-process delivery engine tests: routes, posting, reading back."""

from __future__ import annotations

import json
from typing import Any

from relay.delivery.outbound import AnswerLost, Reply, Request
from relay.store.base import AttemptRecord, DeliveryRecord
from relay.store.log_queries import AttemptQuery, DeliveryQuery
from tests.harness import Relay
from tests.helpers import github_headers, issue_opened

SSE = {"content-type": "text/event-stream"}


def route(retry: str = "{max_attempts: 3, initial: 0.05, max: 0.2, jitter: 0}", **keys: Any) -> str:
    """One route ``new-issues`` for opened issues, variables ``{number}``."""
    extra = "".join(f"    {k}: {json.dumps(v)}\n" for k, v in keys.items())
    return f"""
  - name: new-issues
    source: github
    function_id: triage_issue
    match: {{event_type: issues}}
    variables:
      number: body.issue.number
    retry: {retry}
{extra}"""


async def post_issue(relay: Relay, number: int) -> None:
    body = issue_opened(number)
    response = await relay.post(body, github_headers(body, delivery=f"d-{number}"))
    assert response.status_code == 200


def number_of(request: Request) -> int:
    value: int = json.loads(request.content)["variables"]["number"]
    return value


async def deliveries(relay: Relay) -> list[DeliveryRecord]:
    """In the order of their issue number (ids made at one frozen instant do not sort)."""
    found = await relay.store.query_deliveries(DeliveryQuery())
    return sorted(found, key=lambda d: int((d.variables or {}).get("number", -1)))


async def only_delivery(relay: Relay) -> DeliveryRecord:
    (record,) = await relay.store.query_deliveries(DeliveryQuery())
    return record


async def attempts(relay: Relay, delivery: DeliveryRecord) -> list[AttemptRecord]:
    return await relay.store.query_attempts(
        AttemptQuery(delivery_id=delivery.id, whole_delivery=True)
    )


async def statuses(relay: Relay) -> list[str]:
    return [d.status.value for d in await deliveries(relay)]


def run_answer(request: Request, status: str = "closed") -> Reply:
    return Reply(
        200,
        json={
            "function_id": "triage_issue",
            "function_run_id": f"run_{number_of(request)}",
            "session_id": "sess_1",
            "result": {"ok": True},
            "status": status,
        },
    )


def cut_stream() -> Reply:
    """A streamed run that starts, then loses its connection before the result."""
    return Reply(
        200,
        headers=SSE,
        chunks=[
            b'data: {"type": "session_start", "message": "sess_cut"}\n\n',
            b'data: {"type": "log", "message": "working"}\n\n',
        ],
        error=AnswerLost("connection reset by peer"),
    )


def full_stream() -> bytes:
    result = json.dumps({"function_run_id": "run_ok", "status": "closed", "result": 1})
    events = [
        {"type": "session_start", "message": "sess_ok"},
        {"type": "result", "message": result},
    ]
    return b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)
