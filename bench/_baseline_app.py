"""The ingest baseline: a bare Starlette endpoint that reads the body and answers 200.

Served by ``uvicorn bench._baseline_app:app --loop uvloop --http httptools --workers 1``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["app"]

_ANSWER = b'{"id":"evt_0000000000000000000000000000","duplicate":false}'


async def hook(request: Request) -> Response:
    await request.body()
    return Response(_ANSWER, media_type="application/json")


app = Starlette(
    routes=[
        Route("/", hook, methods=["GET", "POST"]),
        Route("/hooks/{source}", hook, methods=["POST"]),
    ]
)
